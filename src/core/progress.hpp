#pragma once
// Progress for long work on stderr: a live line (rewritten with \r) on a terminal, a line every
// few seconds otherwise (under mpirun or a batch system stderr is a file), or as forced. The time
// left is weighted by the work of each item (a run's steps times the flops of its step), not by
// the count of items: a sweep of cheap and expensive runs is not "half done" at half its runs.
#include <array>
#include <chrono>
#include <string>
#include <string_view>
#include <utility>

namespace ssldyn {

enum class ProgressMode { automatic, live, lines, none };
inline constexpr std::array<std::pair<ProgressMode, std::string_view>, 4> progress_mode_names{{
    {ProgressMode::automatic, "auto"},
    {ProgressMode::live, "live"},
    {ProgressMode::lines, "lines"},
    {ProgressMode::none, "none"},
}};

struct ProgressStyle {
    ProgressMode mode = ProgressMode::automatic;
    double every = 10.0;  // seconds between lines when not live
};

// The time left when work_done of work_total took `elapsed`: the rate measured so far applied to
// the work left (negative when nothing is done yet: unknown).
double time_left(double elapsed, double work_done, double work_total);

class ProgressLine {
  public:
    ProgressLine(std::string label, ProgressStyle style);
    // done of total items; work_done of work_total (any unit) for the time left, or the items
    // themselves when work_total is not positive.
    void update(long done, long total, const std::string& extra = "", double work_done = 0,
                double work_total = 0);
    void finish();

  private:
    std::string label_;
    bool enabled_, live_;
    double every_;
    std::chrono::steady_clock::time_point start_, last_;
    bool printed_ = false;
    long last_done_ = -1;
};

std::string format_duration(double seconds);

}  // namespace ssldyn
