#pragma once
// Dense column-major matrix (the layout BLAS and LAPACK expect) and non-owning views of
// contiguous column blocks. Data sets are stored d x n: one sample per column.
#include <cstddef>
#include <vector>

#include "core/index.hpp"

namespace ssldyn {

// Views and matrices of doubles, the scalar of everything but the optional float32 passes of
// the two-layer model (model/precision.hpp), which use the same types of floats.
template <class T>
struct BasicConstView {
    const T* data;
    Index rows, cols, ld;
    T operator()(Index i, Index j) const { return data[i + j * ld]; }
};

template <class T>
struct BasicView {
    T* data;
    Index rows, cols, ld;
    T& operator()(Index i, Index j) const { return data[i + j * ld]; }
    operator BasicConstView<T>() const { return {data, rows, cols, ld}; }
};

// Throws for a negative dimension or columns outside [0, cols).
void check_dimensions(Index rows, Index cols);
void check_columns(Index cols, Index first, Index count);

template <class T>
class BasicMatrix {
  public:
    BasicMatrix() = default;
    BasicMatrix(Index rows, Index cols, T fill = T(0))
        : rows_(rows), cols_(cols), data_(size_of(rows, cols), fill) {}

    static BasicMatrix identity(Index n) {
        BasicMatrix id(n, n);
        for (Index i = 0; i < n; ++i) id(i, i) = T(1);
        return id;
    }

    Index rows() const { return rows_; }
    Index cols() const { return cols_; }
    Index size() const { return rows_ * cols_; }
    bool empty() const { return size() == 0; }

    T& operator()(Index i, Index j) { return data_[static_cast<std::size_t>(i + j * rows_)]; }
    T operator()(Index i, Index j) const { return data_[static_cast<std::size_t>(i + j * rows_)]; }

    T* data() { return data_.data(); }
    const T* data() const { return data_.data(); }

    BasicView<T> view() { return {data(), rows_, cols_, rows_}; }
    BasicConstView<T> view() const { return {data(), rows_, cols_, rows_}; }
    operator BasicView<T>() { return view(); }
    operator BasicConstView<T>() const { return view(); }

    // Columns [first, first + count): contiguous, so a view, not a copy.
    BasicView<T> columns(Index first, Index count) {
        check_columns(cols_, first, count);
        return {data() + first * rows_, rows_, count, rows_};
    }
    BasicConstView<T> columns(Index first, Index count) const {
        check_columns(cols_, first, count);
        return {data() + first * rows_, rows_, count, rows_};
    }

  private:
    static std::size_t size_of(Index rows, Index cols) {
        check_dimensions(rows, cols);  // before a negative size becomes a huge one
        return static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols);
    }
    Index rows_ = 0, cols_ = 0;
    std::vector<T> data_;
};

using ConstView = BasicConstView<double>;
using View = BasicView<double>;
using Matrix = BasicMatrix<double>;
using FloatConstView = BasicConstView<float>;
using FloatView = BasicView<float>;
using FloatMatrix = BasicMatrix<float>;

// A dimension as the 32-bit integer of the Fortran BLAS/LAPACK/ScaLAPACK interfaces; throws,
// naming the routine, when it does not fit.
int fortran_int(Index value, const char* routine);

[[noreturn]] void throw_shape_mismatch(const char* routine);

// The block of `rows` x `cols` entries at (row, col) of a view: a view with the same ld.
void check_block(Index a_rows, Index a_cols, Index row, Index col, Index rows, Index cols);
template <class T>
BasicView<T> block(BasicView<T> a, Index row, Index col, Index rows, Index cols) {
    check_block(a.rows, a.cols, row, col, rows, cols);
    return {a.data + row + col * a.ld, rows, cols, a.ld};
}
template <class T>
BasicConstView<T> block(BasicConstView<T> a, Index row, Index col, Index rows, Index cols) {
    check_block(a.rows, a.cols, row, col, rows, cols);
    return {a.data + row + col * a.ld, rows, cols, a.ld};
}

// to <- from, entry by entry, rounded to To's precision (same shape).
template <class To, class From>
void convert(BasicConstView<From> from, BasicView<To> to) {
    if (from.rows != to.rows || from.cols != to.cols) throw_shape_mismatch("convert");
    for (Index j = 0; j < from.cols; ++j) {
        const From* in = from.data + j * from.ld;
        To* out = to.data + j * to.ld;
        for (Index i = 0; i < from.rows; ++i) out[i] = static_cast<To>(in[i]);
    }
}
template <class To, class From>
void convert(BasicView<From> from, BasicView<To> to) {
    convert(BasicConstView<From>(from), to);
}

Matrix copy_of(ConstView a);
Matrix transpose(ConstView a);
// Rows [first, first + count) as a new matrix.
Matrix rows_of(ConstView a, Index first, Index count);
double frobenius_norm(ConstView a);
// ⟨A, B⟩ = Σᵢⱼ aᵢⱼ bᵢⱼ (same shape), summed column by column.
double frobenius_inner(ConstView a, ConstView b);
double max_abs(ConstView a);
bool all_finite(ConstView a);
// a <- a + alpha * b (same shape)
void axpy(double alpha, ConstView b, View a);
void scale(double alpha, View a);

}  // namespace ssldyn
