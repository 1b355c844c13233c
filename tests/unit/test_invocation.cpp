// How this process was started (core/invocation.hpp): UTC times as text, checked against
// Python's datetime (datetime.fromtimestamp(t, timezone.utc), to the millisecond), and the
// command line quoted as a POSIX shell reads it back.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/invocation.hpp"

using namespace ssldyn;

TEST(Invocation, UtcTextToTheMillisecond) {
    EXPECT_EQ(utc_text(0.0), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(utc_text(951782400.5), "2000-02-29T00:00:00.500Z");
    EXPECT_EQ(utc_text(1796324748.043), "2026-12-03T19:05:48.043Z");
    EXPECT_EQ(utc_text(1796324759.9996), "2026-12-03T19:06:00.000Z");  // rounds up a minute
    EXPECT_EQ(utc_text(-0.25), "1969-12-31T23:59:59.750Z");
    EXPECT_EQ(utc_text(std::numeric_limits<double>::quiet_NaN()), "");
}

TEST(Invocation, CommandLineQuotedAndStartTimeNoted) {
    const double before = utc_seconds();
    const char* argv[] = {"ssldyn", "sweep", "a b.ini", "it's", "--store", "x.h5", ""};
    note_invocation(7, argv);
    const double after = utc_seconds();
    EXPECT_EQ(command_line(), "ssldyn sweep 'a b.ini' 'it'\\''s' --store x.h5 ''");
    // utc_seconds() is whole milliseconds: the start lies between the two readings.
    EXPECT_LE(before, started_at());
    EXPECT_LE(started_at(), after);
    EXPECT_EQ(std::round(started_at() * 1000.0), started_at() * 1000.0);
}
