#pragma once
// The only door to MPI. Every call goes through check(), which turns an error code into an
// exception carrying MPI's own message and the call that failed.
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
    MPI_Comm handle() const { return comm_; }

    Communicator split(int color, int key) const;
    void barrier() const;
    int max(int value) const;
    double max(double value) const;
    // In-place elementwise sum over the ranks.
    void sum(double* values, long count) const;
    // Elementwise sum over the ranks into root's values, in place there; the other ranks' values
    // are their terms, left as they were.
    void sum_to(int root, double* values, long count) const;
    // Every rank's `count` values, concatenated in rank order, on every rank (counts may differ).
    std::vector<double> all_gather(const double* values, long count) const;

  private:
    Communicator(MPI_Comm comm, bool owned) : comm_(comm), owned_(owned) {}
    MPI_Comm comm_ = MPI_COMM_NULL;
    bool owned_ = false;
};

std::string library_version();

}  // namespace ssldyn::mpi
