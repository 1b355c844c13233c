#pragma once
// The only door to PBLAS and ScaLAPACK's computational routines. Each takes DistributedMatrix
// arguments (any grid, any block size; a 1 x 1 grid is the serial path), checks shapes, and
// turns info codes into exceptions; workspace queries stay in scalapack.cpp.
#include "linalg/blacs.hpp"
#include "linalg/blas.hpp"

namespace ssldyn {

// C <- alpha op(A) op(B) + beta C over the grid (pdgemm).
void pgemm(Op op_a, Op op_b, double alpha, const DistributedMatrix& a, const DistributedMatrix& b,
           double beta, DistributedMatrix& c);

}  // namespace ssldyn
