#include "mpi/shared_counters.hpp"

namespace ssldyn::mpi {

SharedCounters::SharedCounters(const Communicator& comm, int count) {
    const MPI_Aint bytes = comm.rank() == 0 ? static_cast<MPI_Aint>(count * sizeof(long)) : 0;
    // Open MPI 4.1's one-sided "rdma" component makes no window between hosts joined by TCP
    // alone (no RDMA network), and does not step aside for one that can.
    check(MPI_Win_allocate(bytes, sizeof(long), MPI_INFO_NULL, comm.handle(), &base_, &window_),
          "MPI_Win_allocate (ranks on hosts joined by TCP alone, under Open MPI: set "
          "OMPI_MCA_osc=sm,pt2pt)");
    if (comm.rank() == 0) {
        check(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, window_), "MPI_Win_lock");
        for (int i = 0; i < count; ++i) base_[i] = 0;
        check(MPI_Win_unlock(0, window_), "MPI_Win_unlock");
    }
    comm.barrier();  // nobody counts before the counters are zero
}

SharedCounters::~SharedCounters() {
    if (window_ != MPI_WIN_NULL) MPI_Win_free(&window_);
}

long SharedCounters::fetch_add(int which, long delta) {
    long before = 0;
    check(MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, window_), "MPI_Win_lock");
    check(MPI_Fetch_and_op(&delta, &before, MPI_LONG, 0, which, MPI_SUM, window_),
          "MPI_Fetch_and_op");
    check(MPI_Win_unlock(0, window_), "MPI_Win_unlock");
    return before;
}

long SharedCounters::read(int which) {
    long value = 0, unused = 0;
    check(MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, window_), "MPI_Win_lock");
    check(MPI_Fetch_and_op(&unused, &value, MPI_LONG, 0, which, MPI_NO_OP, window_),
          "MPI_Fetch_and_op");
    check(MPI_Win_unlock(0, window_), "MPI_Win_unlock");
    return value;
}

}  // namespace ssldyn::mpi
