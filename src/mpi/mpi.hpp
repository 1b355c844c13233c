#pragma once
// The only door to MPI: no other folder calls an MPI function. Every call goes through check(),
// which turns an error code into an exception carrying MPI's own message and the call that
// failed. Counts are longs: reductions and broadcasts of more than an int's worth of values go in
// chunks; the others check that their counts and offsets fit MPI's ints.
#include <mpi.h>

#include <string>
#include <vector>

namespace ssldyn::mpi {

void check(int code, const char* call);

// MPI_Init / MPI_Finalize for the lifetime of main().
class Environment {
  public:
    Environment(int& argc, char**& argv);
    ~Environment();
    Environment(const Environment&) = delete;
    Environment& operator=(const Environment&) = delete;
};

// A communicator; owns (and frees) the ones it creates by duplicate or split.
class Communicator {
  public:
    static Communicator world();
    // This process alone (MPI_COMM_SELF).
    static Communicator self();
    Communicator(Communicator&& other) noexcept;
    Communicator& operator=(Communicator&& other) noexcept;
    Communicator(const Communicator&) = delete;
    Communicator& operator=(const Communicator&) = delete;
    ~Communicator();

    int rank() const;
    int size() const;
    // The raw communicator, for the libraries that take one (BLACS, HDF5's MPI-IO driver).
    using Handle = MPI_Comm;
    Handle handle() const { return comm_; }

    Communicator split(int color, int key) const;
    // The ranks sharing this one's machine (MPI_COMM_TYPE_SHARED).
    Communicator split_by_node() const;
    // Whether both hold the same processes in the same order.
    bool same_processes(const Communicator& other) const;
    void barrier() const;
    // Ends every process of the job (MPI_Abort): for failures that leave ranks waiting in a
    // collective for one that cannot come.
    [[noreturn]] void abort(int code) const;

    // root's `count` values to every rank, in place (T: int, long, double or char).
    template <class T>
    void broadcast(T* values, long count, int root) const;
    // root's text or values to every rank, resized there.
    void broadcast(std::string& text, int root) const;
    void broadcast(std::vector<long>& values, int root) const;

    int max(int value) const;
    double max(double value) const;
    double min(double value) const;
    // In-place elementwise sum over the ranks.
    void sum(double* values, long count) const;
    // Elementwise sum over the ranks into root's values, in place there; the other ranks' values
    // are their terms, left as they were.
    void sum_to(int root, double* values, long count) const;
    // Every rank's `count` values, concatenated in rank order, on every rank (counts may differ;
    // T: long, double or char).
    template <class T>
    std::vector<T> all_gather(const T* values, long count) const;
    // Every rank's text, in rank order, on every rank.
    std::vector<std::string> all_gather(const std::string& text) const;
    // Each rank sends send_counts[r] values from send + send_offsets[r] to rank r and receives
    // received_counts[r] from rank r into received + received_offsets[r].
    void all_to_all(const double* send, const std::vector<long>& send_counts,
                    const std::vector<long>& send_offsets, double* received,
                    const std::vector<long>& received_counts,
                    const std::vector<long>& received_offsets) const;

  private:
    Communicator(MPI_Comm comm, bool owned) : comm_(comm), owned_(owned) {}
    MPI_Comm comm_ = MPI_COMM_NULL;
    bool owned_ = false;
};

// "Open MPI v4.1.4": the library linked in.
std::string library_version();
// No hints (MPI_INFO_NULL), for the libraries that take an info object (HDF5's MPI-IO driver).
MPI_Info no_hints();

}  // namespace ssldyn::mpi
