#include "core/stop_signals.hpp"

#include <signal.h>

#include <array>

#include "core/error.hpp"

namespace ssldyn {

namespace {

volatile sig_atomic_t caught = 0;
constexpr std::array<int, 3> watched{SIGUSR1, SIGTERM, SIGINT};
std::array<struct sigaction, 3> previous{};

// The first signal is the one that says why (a SIGUSR1 warning, before the SIGTERM that
// follows it at the time limit).
extern "C" void note_signal(int signal) {
    if (caught == 0) caught = signal;
}

}  // namespace

StopSignals::StopSignals() {
    caught = 0;
    struct sigaction action {};
    action.sa_handler = note_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;  // MPI and HDF5 calls in flight carry on
    for (std::size_t i = 0; i < watched.size(); ++i)
        if (sigaction(watched[i], &action, &previous[i]) != 0)
            throw RuntimeFailure("cannot install the handler of signal " +
                                 std::to_string(watched[i]));
}

// SIGUSR1 stays ignored: it asks to save and stop, and after the sweep nothing is left to save.
// A late one (a job script's trap forwards it through srun to ranks that stopped on SIGTERM
// already) would otherwise kill a rank while it finishes, and srun report it killed.
StopSignals::~StopSignals() {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    for (std::size_t i = 0; i < watched.size(); ++i)
        sigaction(watched[i], watched[i] == SIGUSR1 ? &ignore : &previous[i], nullptr);
}

int StopSignals::received() {
    return caught;
}

Stopped::Stopped(int signal)
    : std::runtime_error("stopped by " + signal_name(signal)), signal_(signal) {}

std::string signal_name(int signal) {
    switch (signal) {
        case SIGUSR1:
            return "SIGUSR1";
        case SIGTERM:
            return "SIGTERM";
        case SIGINT:
            return "SIGINT";
        default:
            return "signal " + std::to_string(signal);
    }
}

void stop_point() {
    if (caught != 0) throw Stopped(caught);
}

}  // namespace ssldyn
