#pragma once
// Dense column-major matrix (the layout BLAS and LAPACK expect) and non-owning views of
// contiguous column blocks. Data sets are stored d x n: one sample per column.
#include <cstddef>
#include <vector>

namespace ssldyn {

using Index = std::ptrdiff_t;

struct ConstView {
    const double* data;
    Index rows, cols, ld;
    double operator()(Index i, Index j) const { return data[i + j * ld]; }
};

struct View {
    double* data;
    Index rows, cols, ld;
    double& operator()(Index i, Index j) const { return data[i + j * ld]; }
    operator ConstView() const { return {data, rows, cols, ld}; }
};

class Matrix {
  public:
    Matrix() = default;
    Matrix(Index rows, Index cols, double fill = 0.0);

    static Matrix identity(Index n);

    Index rows() const { return rows_; }
    Index cols() const { return cols_; }
    Index size() const { return rows_ * cols_; }
    bool empty() const { return size() == 0; }

    double& operator()(Index i, Index j) { return data_[static_cast<std::size_t>(i + j * rows_)]; }
    double operator()(Index i, Index j) const {
        return data_[static_cast<std::size_t>(i + j * rows_)];
    }

    double* data() { return data_.data(); }
    const double* data() const { return data_.data(); }

    View view() { return {data(), rows_, cols_, rows_}; }
    ConstView view() const { return {data(), rows_, cols_, rows_}; }
    operator View() { return view(); }
    operator ConstView() const { return view(); }

    // Columns [first, first + count): contiguous, so a view, not a copy.
    View columns(Index first, Index count);
    ConstView columns(Index first, Index count) const;

  private:
    Index rows_ = 0, cols_ = 0;
    std::vector<double> data_;
};

// A dimension as the 32-bit integer of the Fortran BLAS/LAPACK/ScaLAPACK interfaces; throws,
// naming the routine, when it does not fit.
int fortran_int(Index value, const char* routine);

// The block of `rows` x `cols` entries at (row, col) of a view: a view with the same ld.
View block(View a, Index row, Index col, Index rows, Index cols);
ConstView block(ConstView a, Index row, Index col, Index rows, Index cols);

Matrix copy_of(ConstView a);
Matrix transpose(ConstView a);
// Rows [first, first + count) as a new matrix.
Matrix rows_of(ConstView a, Index first, Index count);
double frobenius_norm(ConstView a);
double max_abs(ConstView a);
bool all_finite(ConstView a);
// a <- a + alpha * b (same shape)
void axpy(double alpha, ConstView b, View a);
void scale(double alpha, View a);

}  // namespace ssldyn
