#pragma once
// The only door to PBLAS and ScaLAPACK's computational routines. Each takes DistributedMatrix
// arguments on one grid (any shape; a 1 x 1 grid is the serial path), checks shapes, and turns
// info codes into exceptions; workspace queries and descriptors stay in scalapack.cpp. The
// conventions are lapack.hpp's, so a distributed result equals the serial one to round-off.
#include <vector>

#include "linalg/blacs.hpp"
#include "linalg/blas.hpp"

namespace ssldyn {

// Tall-skinny shapes on a P x 1 grid (m >= P·n: every rank holds whole rows and the small n x n
// operand is no larger than its part) go through one local BLAS call and one allreduce of n²
// words instead of PBLAS, which is 2-3x slower there (scalapack.cpp says by how much): AᵀB and
// AᵀA of tall matrices, A·B with a small B, A R⁻¹. Same results to round-off, same arguments.

// C <- alpha op(A) op(B) + beta C (pdgemm).
void pgemm(Op op_a, Op op_b, double alpha, const DistributedMatrix& a, const DistributedMatrix& b,
           double beta, DistributedMatrix& c);

// C <- alpha AᵀA + beta C for A m x n (op transpose: the Gram matrix of the columns, XᵀX/n for
// samples in rows) or alpha AAᵀ + beta C (op none); half the flops of pgemm (pdsyrk). C is filled
// in full (the upper triangle mirrored by pdtradd), so it is exactly symmetric; with beta != 0 it
// must be symmetric on entry.
void psyrk(Op op, double alpha, const DistributedMatrix& a, double beta, DistributedMatrix& c);

// C <- alpha (A Bᵀ + B Aᵀ) + beta C (op none) or alpha (AᵀB + BᵀA) + beta C (op transpose) for
// A and B of one shape (pdsyr2k): the symmetric part of a cross-covariance in one call, filled
// in full as psyrk's.
void psyr2k(Op op, double alpha, const DistributedMatrix& a, const DistributedMatrix& b,
            double beta, DistributedMatrix& c);

// ‖A‖₁ (largest column sum) and ‖A‖_F (pdlange).
double norm1(const DistributedMatrix& a);
double frobenius_norm(const DistributedMatrix& a);

// A = V diag(values) Vᵀ with values in DEscending order, as lapack.hpp's SymmetricEigen
// (pdsyevd). Vectors are on A's grid in square blocks of A's column block size.
struct DistributedSymmetricEigen {
    std::vector<double> values;
    DistributedMatrix vectors;  // column i belongs to values[i]
};
DistributedSymmetricEigen symmetric_eigen(const DistributedMatrix& a);

// A = QR by Householder reflections (pdgeqrf + pdorgqr), m >= n: A is overwritten by Q, signs
// fixed so that diag(R) > 0 exactly as lapack.hpp's orthonormal_factor. When r is given (n x n on
// A's grid) it receives R, zero below the diagonal.
void householder_qr(DistributedMatrix& a, DistributedMatrix* r = nullptr);

// The upper triangle of a symmetric A (square blocks) overwritten by R with A = RᵀR (pdpotrf).
// Returns false instead of throwing when A is not numerically positive definite (a leading minor
// was not positive): callers fall back to another method.
bool cholesky(DistributedMatrix& a);

// Estimate of the 1-norm condition number ‖A‖₁‖A⁻¹‖₁ of a symmetric positive definite A from its
// Cholesky factor r (upper) and a_norm1 = ‖A‖₁ (pdpocon); infinity for a singular factor.
double cholesky_condition(const DistributedMatrix& r, double a_norm1);

// B <- B R⁻¹ for R upper triangular n x n and B m x n (pdtrsm).
void solve_right_upper(const DistributedMatrix& r, DistributedMatrix& b);

}  // namespace ssldyn
