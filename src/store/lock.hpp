#pragma once
// One writing job per store. A lock file next to the store (STORE.lock) names its holder (host,
// process, SLURM job); it does not rely on HDF5's own file locking, which some shared
// filesystems lack.
#include <string>

namespace ssldyn {

class StoreLock {
  public:
    // Takes the lock or throws InputError naming the holder. A lock left by a process that is
    // gone (same host) is stale: cleared only when break_stale is set.
    StoreLock(const std::string& store, bool break_stale);
    ~StoreLock();
    StoreLock(const StoreLock&) = delete;
    StoreLock& operator=(const StoreLock&) = delete;

    // InputError when some job holds (or held, and died holding) the lock of store.
    static void check_free(const std::string& store);

  private:
    std::string path_;
};

}  // namespace ssldyn
