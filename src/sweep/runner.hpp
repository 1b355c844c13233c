#pragma once
// Runs a sweep over MPI: the world is split into run groups, groups take the next pending run
// from shared counters, and every run writes its raw data into the store prepared before.
#include <string>

#include "core/progress.hpp"
#include "linalg/distribution.hpp"
#include "mpi/mpi.hpp"
#include "plan/plan.hpp"
#include "run/footprint.hpp"

namespace ssldyn {

struct SweepOptions {
    std::string store;
    bool resume = false;
    bool break_lock = false;  // clear a lock whose holder cannot be seen to run
    int group_size = 1;
    ProgressStyle progress;  // rank 0's progress on stderr
    // A running run saves its state this often (wall seconds; 0: only when stopped by a signal).
    double checkpoint_every = 300.0;
    // Matrices of a run with more entries than this are spread over its group's grid
    // (linalg/distribution.hpp), in square blocks of block_size.
    Index distribute_above = default_distribute_above;
    Index block_size = 64;
    // The grid of the square matrices (C, its eigenvectors): "auto" (the most nearly square
    // p x q, p >= q) or "PxQ" with P·Q = group_size.
    std::string grid = "auto";
};

struct SweepOutcome {
    long runs = 0, skipped = 0, done = 0, failed = 0;  // skipped: done before a resume
    double seconds = 0.0;
    double hdf5_seconds = 0.0;     // summed over ranks (on rank 0; a rank's own elsewhere)
    double prepare_seconds = 0.0;  // rank 0 creating (or checking) the sweep's metadata
    double rank_seconds = 0.0;     // wall time summed over ranks (as hdf5_seconds)
    long checkpoints = 0;          // states saved, over all ranks
    long continued = 0;            // runs continued from a saved state
    // Stopped by a signal before every run was done; the running runs saved their state.
    bool interrupted = false;
};

// The checks of the options that need no store: group size, grid, ranks (InputError).
void check_sweep_options(const SweepOptions& options, int ranks);
// The checks of the store a sweep would make before it writes anything (InputError): a store
// that is no store or not writable, a sweep present without resume or absent with it, a resume
// with another config. Returns whether the store exists. The lock is not looked at.
bool check_sweep_store(const SweepPlan& plan, const SweepOptions& options);
// Where the sweep's runs' matrices live (group size, threshold).
RunPlacement placement_of(const SweepOptions& options);

// Collective over world. SIGUSR1, SIGTERM and SIGINT, caught by a StopSignals the caller holds
// (core/stop_signals.hpp), stop it between two steps of its runs. Input errors (a store that
// exists, a resume with another config) are raised on every rank alike, before the store changes.
SweepOutcome run_sweep(const SweepPlan& plan, const SweepOptions& options,
                       const mpi::Communicator& world);

}  // namespace ssldyn
