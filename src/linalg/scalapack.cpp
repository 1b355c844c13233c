#include "linalg/scalapack.hpp"

#include <string>

#include "core/error.hpp"

extern "C" {
// Debian ships no headers for PBLAS or ScaLAPACK: the prototypes live here, once.
void pdgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
             const double* alpha, const double* a, const int* ia, const int* ja, const int* desca,
             const double* b, const int* ib, const int* jb, const int* descb, const double* beta,
             double* c, const int* ic, const int* jc, const int* descc);
}

namespace ssldyn {

void pgemm(Op op_a, Op op_b, double alpha, const DistributedMatrix& a, const DistributedMatrix& b,
           double beta, DistributedMatrix& c) {
    const Index m = op_a == Op::none ? a.rows() : a.cols();
    const Index k = op_a == Op::none ? a.cols() : a.rows();
    const Index kb = op_b == Op::none ? b.rows() : b.cols();
    const Index n = op_b == Op::none ? b.cols() : b.rows();
    if (k != kb || c.rows() != m || c.cols() != n) throw RuntimeFailure("pdgemm: shape mismatch");
    const char ta = op_a == Op::none ? 'N' : 'T', tb = op_b == Op::none ? 'N' : 'T';
    const int mi = fortran_int(m, "pdgemm"), ni = fortran_int(n, "pdgemm"),
              ki = fortran_int(k, "pdgemm");
    const int one = 1;
    pdgemm_(&ta, &tb, &mi, &ni, &ki, &alpha, a.local().data(), &one, &one, a.descriptor(),
            b.local().data(), &one, &one, b.descriptor(), &beta, c.local().data(), &one, &one,
            c.descriptor());
}

}  // namespace ssldyn
