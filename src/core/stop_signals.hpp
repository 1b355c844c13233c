#pragma once
// SIGUSR1 (the warning a SLURM job asks for before its time limit), SIGTERM and SIGINT, caught
// while the object lives. The handler only notes the signal; the sweep looks between steps,
// saves its running runs and stops with exit_interrupted, to be resumed.
namespace ssldyn {

class StopSignals {
  public:
    StopSignals();
    ~StopSignals();  // the previous handlers again
    StopSignals(const StopSignals&) = delete;
    StopSignals& operator=(const StopSignals&) = delete;

    // The signal caught, 0 if none.
    static int received();
};

}  // namespace ssldyn
