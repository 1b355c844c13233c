#include "core/progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace ssldyn {

ProgressLine::ProgressLine(std::string label, bool enabled)
    : label_(std::move(label)),
      enabled_(enabled),
      terminal_(isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

std::string format_duration(double seconds) {
    char buffer[32];
    if (seconds < 60)
        std::snprintf(buffer, sizeof buffer, "%.1fs", seconds);
    else if (seconds < 3600)
        std::snprintf(buffer, sizeof buffer, "%dm%02ds", static_cast<int>(seconds) / 60,
                      static_cast<int>(seconds) % 60);
    else
        std::snprintf(buffer, sizeof buffer, "%dh%02dm", static_cast<int>(seconds) / 3600,
                      (static_cast<int>(seconds) / 60) % 60);
    return buffer;
}

void ProgressLine::update(long done, long total, const std::string& extra) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    const double since_last = std::chrono::duration<double>(now - last_).count();
    if (done == last_done_ && printed_) return;
    if (since_last < (terminal_ ? 0.2 : 5.0) && done < total) return;
    last_done_ = done;
    last_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double left = done > 0 ? elapsed * static_cast<double>(total - done) / done : 0.0;
    std::fprintf(stderr, "%s%s %ld/%ld (%.0f%%), elapsed %s, left ~%s%s%s", terminal_ ? "\r" : "",
                 label_.c_str(), done, total, total ? 100.0 * done / total : 100.0,
                 format_duration(elapsed).c_str(), format_duration(left).c_str(),
                 extra.empty() ? "" : ", ", extra.c_str());
    std::fprintf(stderr, terminal_ ? "\033[K" : "\n");
    std::fflush(stderr);
    printed_ = true;
}

void ProgressLine::finish() {
    if (enabled_ && terminal_ && printed_) std::fprintf(stderr, "\n");
    printed_ = false;
}

}  // namespace ssldyn
