#pragma once
// Counter-based random numbers (THEORY §1): the value at position i of stream (seed, id...)
// is a pure function of those numbers, so a run draws the same views whatever the rank
// layout, and a resumed run continues exactly where the first one stopped.
#include <cstdint>

#include "linalg/matrix.hpp"

namespace ssldyn {

class RandomStream {
  public:
    // A stream is named by a seed and up to three ids (for example: run, purpose, step).
    RandomStream(std::uint64_t seed, std::uint64_t id0 = 0, std::uint64_t id1 = 0,
                 std::uint64_t id2 = 0);

    std::uint64_t next_u64();
    double uniform();                          // in (0, 1)
    double normal();                           // standard normal
    std::uint64_t below(std::uint64_t bound);  // uniform in [0, bound)

    std::uint64_t position() const { return counter_; }
    void seek(std::uint64_t position) { counter_ = position; }

  private:
    std::uint64_t key_;
    std::uint64_t counter_ = 0;
};

// Entries i.i.d. N(0, sigma^2).
Matrix gaussian_matrix(RandomStream& stream, Index rows, Index cols, double sigma = 1.0);

}  // namespace ssldyn
