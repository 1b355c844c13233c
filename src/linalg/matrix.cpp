#include "linalg/matrix.hpp"

#include <climits>
#include <cmath>
#include <string>

#include "core/error.hpp"

namespace ssldyn {

void check_dimensions(Index rows, Index cols) {
    if (rows < 0 || cols < 0) throw RuntimeFailure("Matrix: negative dimension");
}

void check_columns(Index cols, Index first, Index count) {
    if (first < 0 || count < 0 || first + count > cols)
        throw RuntimeFailure("Matrix::columns: range outside the matrix");
}

void check_block(Index a_rows, Index a_cols, Index row, Index col, Index rows, Index cols) {
    if (row < 0 || col < 0 || rows < 0 || cols < 0 || row + rows > a_rows || col + cols > a_cols)
        throw RuntimeFailure("block: range outside the matrix");
}

void throw_shape_mismatch(const char* routine) {
    throw RuntimeFailure(std::string(routine) + ": shape mismatch");
}

int fortran_int(Index value, const char* routine) {
    if (value < 0 || value > INT_MAX)
        throw RuntimeFailure(std::string(routine) + ": dimension " + std::to_string(value) +
                             " outside the 32-bit range of the Fortran interface");
    return static_cast<int>(value);
}

Matrix copy_of(ConstView a) {
    Matrix out(a.rows, a.cols);
    for (Index j = 0; j < a.cols; ++j)
        for (Index i = 0; i < a.rows; ++i) out(i, j) = a(i, j);
    return out;
}

Matrix transpose(ConstView a) {
    Matrix out(a.cols, a.rows);
    for (Index j = 0; j < a.cols; ++j)
        for (Index i = 0; i < a.rows; ++i) out(j, i) = a(i, j);
    return out;
}

Matrix rows_of(ConstView a, Index first, Index count) {
    if (first < 0 || count < 0 || first + count > a.rows)
        throw RuntimeFailure("rows_of: range outside the matrix");
    Matrix out(count, a.cols);
    for (Index j = 0; j < a.cols; ++j)
        for (Index i = 0; i < count; ++i) out(i, j) = a(first + i, j);
    return out;
}

double frobenius_inner(ConstView a, ConstView b) {
    double s = 0.0;
    for (Index j = 0; j < a.cols; ++j)
        for (Index i = 0; i < a.rows; ++i) s += a(i, j) * b(i, j);
    return s;
}

double frobenius_norm(ConstView a) {
    // Scaled sum of squares, as LAPACK's dlange does, so huge entries do not overflow early.
    double scale = 0.0, ssq = 1.0;
    for (Index j = 0; j < a.cols; ++j)
        for (Index i = 0; i < a.rows; ++i) {
            const double x = std::fabs(a(i, j));
            if (x == 0.0) continue;
            if (scale < x) {
                ssq = 1.0 + ssq * (scale / x) * (scale / x);
                scale = x;
            } else {
                ssq += (x / scale) * (x / scale);
            }
        }
    return scale * std::sqrt(ssq);
}

double max_abs(ConstView a) {
    double m = 0.0;
    for (Index j = 0; j < a.cols; ++j)
        for (Index i = 0; i < a.rows; ++i) m = std::fmax(m, std::fabs(a(i, j)));
    return m;
}

bool all_finite(ConstView a) {
    for (Index j = 0; j < a.cols; ++j)
        for (Index i = 0; i < a.rows; ++i)
            if (!std::isfinite(a(i, j))) return false;
    return true;
}

void axpy(double alpha, ConstView b, View a) {
    if (a.rows != b.rows || a.cols != b.cols) throw RuntimeFailure("axpy: shape mismatch");
    for (Index j = 0; j < a.cols; ++j)
        for (Index i = 0; i < a.rows; ++i) a(i, j) += alpha * b(i, j);
}

void scale(double alpha, View a) {
    for (Index j = 0; j < a.cols; ++j)
        for (Index i = 0; i < a.rows; ++i) a(i, j) *= alpha;
}

}  // namespace ssldyn
