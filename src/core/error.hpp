#pragma once
// Typed errors. main() maps them to exit codes (DESIGN.md "Principles"):
// InputError -> 2 (bad config, command line, data file or store), anything else -> 1.
#include <stdexcept>
#include <string>

namespace ssldyn {

class InputError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

class RuntimeFailure : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;
inline constexpr int exit_bad_input = 2;
// Stopped on a signal (SIGUSR1, SIGTERM, SIGINT) after saving its running runs: resume it.
inline constexpr int exit_interrupted = 3;

}  // namespace ssldyn
