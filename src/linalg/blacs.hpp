#pragma once
// The only door to BLACS and to ScaLAPACK's data movement (descinit, numroc, pdgemr2d). A process
// grid and a block-cyclic matrix are value types; the 9-integer descriptor and numroc never
// leave the linalg layer. The distributed routines that compute are in linalg/scalapack.hpp.
#include <array>

#include "linalg/matrix.hpp"
#include "mpi/mpi.hpp"

namespace ssldyn {

// A p x q BLACS process grid over a communicator, released with the object. Ranks are laid out
// row-major: rank r of the communicator is grid process (r / q, r % q).
class BlacsGrid {
  public:
    BlacsGrid(const mpi::Communicator& comm, int p, int q);
    // The most nearly square p x q with p >= q.
    static BlacsGrid square(const mpi::Communicator& comm);
    // P x 1: each rank holds whole rows. Best for tall-skinny factorisations (m >> n), whose
    // column operations then need no communication and whose reductions run over one dimension.
    static BlacsGrid tall(const mpi::Communicator& comm);
    // The automatic choice: the p x q whose aspect p/q is nearest (on a log scale) to the
    // matrix's m/n, ties to the larger p. P x 1 for tall-skinny (m/n >= P), square-ish for square
    // matrices, so every rank's local block is as square as the rank count allows.
    static BlacsGrid for_shape(const mpi::Communicator& comm, Index m, Index n);
    // The 1 x 1 grid of this process alone: the serial path of every routine.
    static BlacsGrid serial();
    ~BlacsGrid();
    BlacsGrid(const BlacsGrid&) = delete;
    BlacsGrid& operator=(const BlacsGrid&) = delete;

    int context() const { return context_; }
    int rows() const { return p_; }
    int cols() const { return q_; }
    int size() const { return p_ * q_; }
    int my_row() const { return my_row_; }
    int my_col() const { return my_col_; }
    // The communicator's rank of grid process (row, col).
    int rank_of(int row, int col) const { return row * q_ + col; }
    // The grid's processes, ranked as in the communicator the grid was made over.
    const mpi::Communicator& communicator() const { return own_; }

  private:
    int context_ = -1, p_ = 0, q_ = 0, my_row_ = -1, my_col_ = -1;
    int system_handle_ = -1;
    // A duplicate of the communicator: BLACS hands out one system handle per communicator, so
    // two grids over one communicator (square and tall over a run group) would free it twice.
    mpi::Communicator own_;
};

// An m x n matrix distributed block-cyclically (block mb x nb, first block on process (0, 0))
// over a grid, which must outlive it. Each rank stores only its own blocks, column-major.
class DistributedMatrix {
  public:
    DistributedMatrix(const BlacsGrid& grid, Index m, Index n, Index mb, Index nb);

    // Every rank holds the same global matrix; each keeps its own blocks.
    static DistributedMatrix scatter(const BlacsGrid& grid, ConstView global, Index mb, Index nb);
    // Only rank `root` (of the grid's communicator) holds the global matrix; the others pass
    // anything (an empty view) and learn the shape from root. No rank holds more than its blocks
    // besides root's own input.
    static DistributedMatrix scatter_from(const BlacsGrid& grid, int root, ConstView global,
                                          Index mb, Index nb);
    // Each rank owns a contiguous block of rows (any count, zero too, the same column count
    // everywhere); stacked in rank order they are the global matrix. One all-to-all moves every
    // entry straight to its owner: no rank ever holds more than its rows and its blocks.
    static DistributedMatrix from_row_blocks(const BlacsGrid& grid, ConstView my_rows, Index mb,
                                             Index nb);

    // The inverse of from_row_blocks: this rank's `my_row_count` rows, the blocks of all ranks
    // contiguous and in rank order (their counts must add up to the row count).
    Matrix to_row_blocks(Index my_row_count) const;

    // The global matrix on every rank of the grid.
    Matrix gather() const;
    // The global matrix on rank `root`; an empty matrix on the others.
    Matrix gather_to(int root) const;
    // The same matrix with another block size and/or on another grid over the same processes
    // (pdgemr2d).
    DistributedMatrix redistribute(const BlacsGrid& grid, Index mb, Index nb) const;

    Index rows() const { return m_; }
    Index cols() const { return n_; }
    Index block_rows() const { return mb_; }
    Index block_cols() const { return nb_; }
    const BlacsGrid& grid() const { return *grid_; }
    Matrix& local() { return local_; }
    const Matrix& local() const { return local_; }
    const int* descriptor() const { return desc_.data(); }

    // Global index of local row / column.
    Index global_row(Index local_i) const;
    Index global_col(Index local_j) const;
    // Local index of global row / column, or -1 when this rank holds none of it.
    Index local_row(Index global_i) const;
    Index local_col(Index global_j) const;

  private:
    const BlacsGrid* grid_;
    Index m_, n_, mb_, nb_;
    std::array<int, 9> desc_{};
    Matrix local_;
};

// Entrywise, on each rank's own blocks (no communication).
void scale(double alpha, DistributedMatrix& a);            // a <- alpha a
void add_to_diagonal(double alpha, DistributedMatrix& a);  // a_ii <- a_ii + alpha

// b <- a for matrices of one shape on any grids over the same processes and any block sizes
// (pdgemr2d).
void copy(const DistributedMatrix& a, DistributedMatrix& b);

}  // namespace ssldyn
