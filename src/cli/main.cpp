// ssldyn: learning dynamics of self-supervised models, simulated next to their theory.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "core/format.hpp"
#include "core/invocation.hpp"
#include "mpi/mpi.hpp"
#include "store/provenance.hpp"

namespace {

constexpr const char* usage =
    "usage: ssldyn COMMAND [options]\n\n"
    "commands:\n"
    "  run      one configuration of the linear model next to its exact theory, into a store\n"
    "  sweep    a grid of configurations over the MPI ranks, into one store\n"
    "  merge    the shard stores of a job array (sweep --shard) joined into one store\n"
    "  ls       the sweeps of a store and their runs by status\n"
    "  query    config values and metrics of the runs of a store, filtered\n"
    "  report   figures and an HTML page of simulation against theory from a store\n"
    "  upgrade  a store of schema 1 (written before schema 2) converted to schema 2\n\n"
    "ssldyn COMMAND --help shows the options of a command.\n"
    "exit codes: 0 ok, 1 runtime failure, 2 bad input, 3 stopped by a signal after saving "
    "(resume it)\n";

int dispatch(const std::vector<std::string>& args) {
    using namespace ssldyn;
    if (args.empty()) {
        std::fputs(usage, stderr);
        return exit_bad_input;
    }
    const std::string& command = args.front();
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    if (command == "--help" || command == "-h" || command == "help") {
        std::fputs(usage, stdout);
        return exit_ok;
    }
    if (command == "--version") {
        std::printf("%s\n", version_text().c_str());
        return exit_ok;
    }
    if (command == "run") return cli::run_command(rest);
    if (command == "sweep") return cli::sweep_command(rest);
    if (command == "merge") return cli::merge_command(rest);
    if (command == "ls") return cli::ls_command(rest);
    if (command == "query") return cli::query_command(rest);
    if (command == "upgrade") return cli::upgrade_command(rest);
    throw InputError("unknown command " + echoed(command) + " (see ssldyn --help)");
}

// The one line of an error: its control characters written out, so that it stays one line.
void report(const char* kind, const std::exception& e) {
    std::fprintf(stderr, "ssldyn: %s: %s\n", kind, ssldyn::escaped(e.what()).c_str());
}

}  // namespace

int main(int argc, char** argv) {
    using namespace ssldyn;
    note_invocation(argc, argv);
    const std::vector<std::string> args(argv + 1, argv + argc);
    int code = exit_ok;
    // The report replaces this process by Python: it must not start MPI first.
    if (!args.empty() && args.front() == "report") {
        try {
            return cli::report_command({args.begin() + 1, args.end()});
        } catch (const std::exception& e) {
            report("failure", e);
            return exit_failure;
        }
    }
    try {
        mpi::Environment environment(argc, argv);
        try {
            code = dispatch(args);
        } catch (const InputError& e) {
            // Raised on every rank alike (plans and store checks are shared): say it once.
            if (mpi::Communicator::world().rank() == 0) report("error", e);
            code = exit_bad_input;
        } catch (const std::exception& e) {
            if (mpi::Communicator::world().rank() == 0) report("failure", e);
            code = exit_failure;
        }
    } catch (const std::exception& e) {
        report("failure", e);
        return exit_failure;
    }
    return code;
}
