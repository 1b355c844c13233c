#include <gtest/gtest.h>
#include <signal.h>

#include "core/stop_signals.hpp"

namespace ssldyn {
namespace {

struct sigaction disposition(int signal) {
    struct sigaction now {};
    sigaction(signal, nullptr, &now);
    return now;
}

TEST(StopSignals, TheFirstSignalIsNotedAndStopsAtTheNextStopPoint) {
    const StopSignals signals;
    EXPECT_EQ(StopSignals::received(), 0);
    EXPECT_NO_THROW(stop_point());
    raise(SIGUSR1);
    raise(SIGTERM);
    EXPECT_EQ(StopSignals::received(), SIGUSR1);  // the warning says why, not the SIGTERM after
    EXPECT_THROW(stop_point(), Stopped);
}

// A SIGUSR1 after the sweep (forwarded late by a job script) must not kill a finishing rank;
// SIGTERM and SIGINT get their previous handlers back.
TEST(StopSignals, AfterwardsSigusr1IsIgnoredAndTheOthersRestored) {
    const auto term = disposition(SIGTERM).sa_handler;
    const auto interrupt = disposition(SIGINT).sa_handler;
    { const StopSignals signals; }
    EXPECT_EQ(disposition(SIGUSR1).sa_handler, SIG_IGN);
    EXPECT_EQ(disposition(SIGTERM).sa_handler, term);
    EXPECT_EQ(disposition(SIGINT).sa_handler, interrupt);
    raise(SIGUSR1);  // the default action would end this test's process
    SUCCEED();
}

}  // namespace
}  // namespace ssldyn
