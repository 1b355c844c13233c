#pragma once
// The only door to BLACS and ScaLAPACK. A process grid and a block-cyclic matrix are value
// types; the 9-integer descriptor and numroc never leave this layer.
#include <array>
#include <memory>

#include "linalg/blas.hpp"
#include "linalg/matrix.hpp"
#include "mpi/mpi.hpp"

namespace ssldyn {

// A p x q BLACS process grid over a communicator (row-major rank order), released with
// the object.
class BlacsGrid {
  public:
    BlacsGrid(const mpi::Communicator& comm, int p, int q);
    // The most nearly square p x q with p >= q (tall-skinny factorisations prefer p >= q).
    static BlacsGrid square(const mpi::Communicator& comm);
    ~BlacsGrid();
    BlacsGrid(const BlacsGrid&) = delete;
    BlacsGrid& operator=(const BlacsGrid&) = delete;

    int context() const { return context_; }
    int rows() const { return p_; }
    int cols() const { return q_; }
    int my_row() const { return my_row_; }
    int my_col() const { return my_col_; }
    MPI_Comm comm() const { return comm_; }

  private:
    int context_ = -1, p_ = 0, q_ = 0, my_row_ = -1, my_col_ = -1;
    int system_handle_ = -1;
    MPI_Comm comm_;
};

// An m x n matrix distributed block-cyclically (block mb x nb) over a grid.
class DistributedMatrix {
  public:
    DistributedMatrix(const BlacsGrid& grid, Index m, Index n, Index mb, Index nb);

    // Every rank holds the same global matrix; each keeps its own blocks.
    static DistributedMatrix scatter(const BlacsGrid& grid, ConstView global, Index mb, Index nb);
    // The global matrix on every rank of the grid.
    Matrix gather() const;

    Index rows() const { return m_; }
    Index cols() const { return n_; }
    const BlacsGrid& grid() const { return *grid_; }
    Matrix& local() { return local_; }
    const Matrix& local() const { return local_; }
    const int* descriptor() const { return desc_.data(); }

    // Global index of local row / column.
    Index global_row(Index local_i) const;
    Index global_col(Index local_j) const;

  private:
    const BlacsGrid* grid_;
    Index m_, n_, mb_, nb_;
    std::array<int, 9> desc_{};
    Matrix local_;
};

// C <- alpha op(A) op(B) + beta C over the grid (pdgemm).

void pgemm(Op op_a, Op op_b, double alpha, const DistributedMatrix& a, const DistributedMatrix& b,
           double beta, DistributedMatrix& c);

}  // namespace ssldyn
