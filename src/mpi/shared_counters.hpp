#pragma once
// Counters hosted on rank 0 of a communicator, updated with one-sided atomics
// (MPI_Fetch_and_op), so ranks take work without a master rank sitting idle.
#include "mpi/mpi.hpp"

namespace ssldyn::mpi {

class SharedCounters {
  public:
    // Collective over comm.
    SharedCounters(const Communicator& comm, int count);
    // Collective over comm.
    ~SharedCounters();
    SharedCounters(const SharedCounters&) = delete;
    SharedCounters& operator=(const SharedCounters&) = delete;

    // Adds delta to counter `which` and returns its value before.
    long fetch_add(int which, long delta);
    long read(int which);

  private:
    MPI_Win window_ = MPI_WIN_NULL;
    long* base_ = nullptr;
};

}  // namespace ssldyn::mpi
