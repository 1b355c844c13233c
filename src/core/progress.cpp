#include "core/progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace ssldyn {

ProgressLine::ProgressLine(std::string label, ProgressStyle style)
    : label_(std::move(label)),
      enabled_(style.mode != ProgressMode::none),
      live_(style.mode == ProgressMode::live ||
            (style.mode == ProgressMode::automatic && isatty(STDERR_FILENO) != 0)),
      every_(live_ ? 0.2 : style.every),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

std::string format_duration(double seconds) {
    char buffer[32];
    if (seconds < 60)
        std::snprintf(buffer, sizeof buffer, "%.1fs", seconds);
    else if (seconds < 3600)
        std::snprintf(buffer, sizeof buffer, "%dm%02ds", static_cast<int>(seconds) / 60,
                      static_cast<int>(seconds) % 60);
    else if (seconds < 1e9)
        std::snprintf(buffer, sizeof buffer, "%dh%02dm", static_cast<int>(seconds / 3600),
                      static_cast<int>(seconds / 60) % 60);
    else
        std::snprintf(buffer, sizeof buffer, "%.3gh", seconds / 3600);
    return buffer;
}

double time_left(double elapsed, double work_done, double work_total) {
    if (!(work_done > 0)) return -1;
    return elapsed * (work_total - work_done) / work_done;
}

void ProgressLine::update(long done, long total, const std::string& extra, double work_done,
                          double work_total) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    const double since_last = std::chrono::duration<double>(now - last_).count();
    if (done == last_done_ && printed_ && live_) return;
    if (since_last < every_ && done < total) return;
    if (done >= total && done == last_done_ && printed_) return;
    last_done_ = done;
    last_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double left =
        work_total > 0 ? time_left(elapsed, work_done, work_total)
                       : time_left(elapsed, static_cast<double>(done), static_cast<double>(total));
    std::fprintf(stderr, "%s%s %ld/%ld (%.0f%%), elapsed %s, left %s%s%s%s", live_ ? "\r" : "",
                 label_.c_str(), done, total, total ? 100.0 * done / total : 100.0,
                 format_duration(elapsed).c_str(), left < 0 ? "" : "~",
                 left < 0 ? "?" : format_duration(left).c_str(), extra.empty() ? "" : ", ",
                 extra.c_str());
    std::fprintf(stderr, live_ ? "\033[K" : "\n");
    std::fflush(stderr);
    printed_ = true;
}

void ProgressLine::finish() {
    if (enabled_ && live_ && printed_) std::fprintf(stderr, "\n");
    printed_ = false;
}

}  // namespace ssldyn
