#pragma once
// The only door to BLAS: shape-checked wrappers over the Fortran interface (which every BLAS
// exports, so any vendor library links). Level-3 only where it matters for speed.
#include <string>

#include "linalg/matrix.hpp"

namespace ssldyn {

enum class Op { none, transpose };

// C <- alpha op(A) op(B) + beta C (dgemm; sgemm for the float32 passes of the two-layer model)
void gemm(Op op_a, Op op_b, double alpha, ConstView a, ConstView b, double beta, View c);
void gemm(Op op_a, Op op_b, float alpha, FloatConstView a, FloatConstView b, float beta,
          FloatView c);

// The product op(A) op(B) as a new matrix.
Matrix multiply(Op op_a, Op op_b, ConstView a, ConstView b);
inline Matrix multiply(ConstView a, ConstView b) {
    return multiply(Op::none, Op::none, a, b);
}

// C <- alpha (A Bᵀ + B Aᵀ) + beta C for A, B of shape n x m (op none) or m x n (op transpose,
// C <- alpha (Aᵀ B + Bᵀ A) + beta C). C is filled in full, so it is exactly symmetric.
void syr2k(Op op, double alpha, ConstView a, ConstView b, double beta, View c);

// C <- alpha AᵀA + beta C for A m x n (op transpose) or alpha AAᵀ + beta C (op none) (dsyrk).
// C is filled in full, so it is exactly symmetric; with beta != 0 it must be symmetric on entry.
void syrk(Op op, double alpha, ConstView a, double beta, View c);

// B <- B R⁻¹ for R upper triangular n x n and B m x n (dtrsm).
void solve_right_upper(ConstView r, View b);

// Number of threads the BLAS library uses (1 when it cannot be told).
int blas_threads();
// The BLAS library as it describes itself (OpenBLAS: version, kernel, build options).
std::string blas_library();
void set_blas_threads(int threads);

}  // namespace ssldyn
