#pragma once
// One writing job per store. A lock file next to the store (STORE.lock) names its holder (host,
// process, SLURM job and restart); it does not rely on HDF5's own file locking, which some
// shared filesystems lack.
//
// A lock is stale, and cleared on sight (said on stderr), only when its holder is provably gone:
// - a holder with a SLURM job id: SLURM says that job no longer runs (ended, waiting in the
//   queue, or forgotten), whatever the host; or the job is this very job, restarted since
//   (another restart count: SLURM runs one incarnation of a job at a time);
// - a holder without one: it is on this host and its process is gone.
// A holder whose process runs here, or whose job SLURM says runs, is in use. Anything else
// (another host without a job id, SLURM not answering) cannot be decided: refused, unless
// --break-lock says the holder is gone.
#include <string>

namespace ssldyn {

class StoreLock {
  public:
    // Takes the lock or throws InputError naming the holder. break_undecided: clear a lock whose
    // holder cannot be seen to run (never one that is seen to run).
    StoreLock(const std::string& store, bool break_undecided);
    ~StoreLock();
    StoreLock(const StoreLock&) = delete;
    StoreLock& operator=(const StoreLock&) = delete;

    // InputError when some job holds the lock of store, or may hold it (a stale lock is free).
    static void check_free(const std::string& store);

  private:
    std::string path_;
};

}  // namespace ssldyn
