#pragma once
// SIGUSR1 (the warning a SLURM job asks for before its time limit), SIGTERM and SIGINT, caught
// while the object lives. The handler only notes the signal; the sweep looks between steps,
// saves its running runs and stops with exit_interrupted, to be resumed. Work that takes long
// before the runs (building a store) looks at stop points and gives up, leaving nothing behind:
// under mpirun the ranks have about a second before SIGKILL follows (DESIGN.md "The sweep").
#include <stdexcept>
#include <string>

namespace ssldyn {

// Raised at a stop point after a stop signal: the work so far is undone on the way out.
class Stopped : public std::runtime_error {
  public:
    explicit Stopped(int signal);
    int signal() const { return signal_; }

  private:
    int signal_;
};

// "SIGTERM"; "signal N" for others.
std::string signal_name(int signal);

class StopSignals {
  public:
    StopSignals();
    ~StopSignals();  // the previous handlers again; SIGUSR1 ignored from then on
    StopSignals(const StopSignals&) = delete;
    StopSignals& operator=(const StopSignals&) = delete;

    // The signal caught, 0 if none.
    static int received();
};

// Throws Stopped when a stop signal was caught (never when no StopSignals is alive).
void stop_point();

}  // namespace ssldyn
