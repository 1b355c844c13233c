#pragma once
// Progress for long work: a live line on a terminal, a line every few seconds otherwise.
#include <chrono>
#include <string>

namespace ssldyn {

class ProgressLine {
  public:
    explicit ProgressLine(std::string label, bool enabled = true);
    void update(long done, long total, const std::string& extra = "");
    void finish();

  private:
    std::string label_;
    bool enabled_, terminal_;
    std::chrono::steady_clock::time_point start_, last_;
    bool printed_ = false;
    long last_done_ = -1;
};

std::string format_duration(double seconds);

}  // namespace ssldyn
