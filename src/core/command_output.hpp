#pragma once
// Runs a helper program (a scheduler's client, say) with a time limit and reads what it prints,
// without a shell: the arguments are passed as they are.
#include <string>
#include <vector>

namespace ssldyn {

struct CommandOutput {
    bool started = false;    // false: the program could not be run (not found, say)
    bool timed_out = false;  // killed at the time limit
    int exit_code = -1;      // when it exited by itself; -1 when killed by a signal
    std::string output;      // stdout and stderr, interleaved as written
};

// argv[0] is looked up on PATH. Never throws for the program's own failures: they are in the
// result. Stops reading (and kills the program) after timeout_seconds.
CommandOutput run_command(const std::vector<std::string>& argv, double timeout_seconds);

}  // namespace ssldyn
