#pragma once
// The only door to LAPACK. Each routine returns values; workspace queries, info codes and
// the column-major conventions stay in lapack.cpp.
#include <vector>

#include "linalg/matrix.hpp"

namespace ssldyn {

// A = V diag(values) Vᵀ with values in DEscending order (THEORY §4 sorts λ₁ ≥ … ≥ λ_d).
struct SymmetricEigen {
    std::vector<double> values;
    Matrix vectors;  // column i belongs to values[i]
};
SymmetricEigen symmetric_eigen(ConstView a);  // dsyevd

// Thin SVD A = U diag(s) Vᵀ, r = min(m, n): U is m x r, vt is r x n, s descending.
struct Svd {
    Matrix u;
    std::vector<double> s;
    Matrix vt;
};
Svd thin_svd(ConstView a);                         // dgesdd
std::vector<double> singular_values(ConstView a);  // dgesdd, values only

// Orthonormal factor Q of A = QR (m >= n), signs fixed so that diag(R) > 0, which makes the
// factor unique and the QR retraction a smooth map (dgeqrf + dorgqr).
Matrix orthonormal_factor(ConstView a);

// |rⱼⱼ|, the diagonal of R of A = QR (m >= n): the norm of the part of column j orthogonal to
// the columns before it, Gram–Schmidt in column order (dgeqrf).
std::vector<double> triangular_diagonal(ConstView a);

// X with A X = B for square A (dgesv); throws when A is exactly singular.
Matrix solve(ConstView a, ConstView b);

}  // namespace ssldyn
