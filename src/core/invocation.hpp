#pragma once
// How this process was started: its command line and the UTC time it began, as a sweep's events
// record them (DESIGN.md "Provenance").
#include <string>

namespace ssldyn {

// Noted once, first thing in main().
void note_invocation(int argc, const char* const* argv);
// The command line, each argument quoted for a POSIX shell where it needs it.
const std::string& command_line();
// When note_invocation ran (utc_seconds()); NaN before.
double started_at();

// Now, UTC, in seconds since 1970-01-01T00:00:00Z, to the millisecond (a time column's value).
double utc_seconds();
// "2026-12-03T18:17:02.123Z"; "" for NaN.
std::string utc_text(double seconds);

}  // namespace ssldyn
