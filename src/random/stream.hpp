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

// Rows [row, row + rows) and columns [col, col + cols) of a matrix.
struct MatrixBlock {
    Index row = 0, rows = 0, col = 0, cols = 0;
};

// The block of the whole_rows x whole_cols matrix that gaussian_matrix would draw here, drawing
// only the block's entries (each entry's draws sit at a position fixed by its place in the whole
// matrix); the stream is left where gaussian_matrix leaves it. For a rank's share of a matrix
// that no rank holds whole.
Matrix gaussian_block(RandomStream& stream, Index whole_rows, Index whole_cols,
                      const MatrixBlock& block, double sigma = 1.0);

}  // namespace ssldyn
