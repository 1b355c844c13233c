#pragma once
// Whether a SLURM job runs, as the scheduler says: the one witness of a job on another host.
#include <string>

namespace ssldyn {

struct SlurmJobState {
    enum class Liveness { running, gone, unknown };
    Liveness liveness = Liveness::unknown;
    // SLURM's state (RUNNING, COMPLETED, …), "unknown to SLURM", or why SLURM could not be
    // asked.
    std::string said;
};

// Asks `squeue -h -t all -j JOB -o %T` (the program named by SSLDYN_SQUEUE, else squeue on
// PATH; SSLDYN_SLURM_TIMEOUT seconds at most, default 10). A job that holds processes
// (RUNNING, COMPLETING, SUSPENDED, …) runs; one that has ended, waits in the queue (a requeued
// job holds nothing) or that SLURM no longer knows is gone; anything else is unknown.
SlurmJobState slurm_job_state(const std::string& job);

}  // namespace ssldyn
