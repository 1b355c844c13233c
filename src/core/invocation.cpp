#include "core/invocation.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>

namespace ssldyn {

namespace {

std::string& command() {
    static std::string text;
    return text;
}
double start = std::numeric_limits<double>::quiet_NaN();

// 'it''s' as a shell reads it back: plain words stay as they are.
std::string quoted(const std::string& word) {
    if (!word.empty() &&
        word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                               "_-+=./:,@%^") == std::string::npos)
        return word;
    std::string out = "'";
    for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

}  // namespace

void note_invocation(int argc, const char* const* argv) {
    start = utc_seconds();
    std::string& text = command();
    text.clear();
    for (int i = 0; i < argc; ++i) text += (i ? " " : "") + quoted(argv[i]);
}

const std::string& command_line() {
    return command();
}

double started_at() {
    return start;
}

double utc_seconds() {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    return static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(now).count()) /
           1000.0;
}

std::string utc_text(double seconds) {
    if (!std::isfinite(seconds)) return "";
    // Rounded to the millisecond first, so that 59.9996 s is the next minute's 00.000.
    const long long millis = std::llround(seconds * 1000.0);
    const long long whole = millis >= 0 ? millis / 1000 : -((999 - millis) / 1000);
    const auto t = static_cast<std::time_t>(whole);
    std::tm parts{};
    gmtime_r(&t, &parts);
    char text[48];
    const std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &parts);
    std::snprintf(text + n, sizeof text - n, ".%03dZ", static_cast<int>(millis - whole * 1000));
    return text;
}

}  // namespace ssldyn
