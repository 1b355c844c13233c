#include "linalg/blas.hpp"

#include <climits>
#include <string>

#include "core/error.hpp"

extern "C" {
void dgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
            const double* alpha, const double* a, const int* lda, const double* b, const int* ldb,
            const double* beta, double* c, const int* ldc);
void sgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
            const float* alpha, const float* a, const int* lda, const float* b, const int* ldb,
            const float* beta, float* c, const int* ldc);
void dsyr2k_(const char* uplo, const char* trans, const int* n, const int* k, const double* alpha,
             const double* a, const int* lda, const double* b, const int* ldb, const double* beta,
             double* c, const int* ldc);
void dsyrk_(const char* uplo, const char* trans, const int* n, const int* k, const double* alpha,
            const double* a, const int* lda, const double* beta, double* c, const int* ldc);
void dtrsm_(const char* side, const char* uplo, const char* transa, const char* diag, const int* m,
            const int* n, const double* alpha, const double* a, const int* lda, double* b,
            const int* ldb);
// OpenBLAS extensions; weak so that other BLAS libraries link too.
void openblas_set_num_threads(int) __attribute__((weak));
int openblas_get_num_threads() __attribute__((weak));
char* openblas_get_config() __attribute__((weak));
}

namespace ssldyn {

namespace {

int ld_of(Index ld, const char* routine) {
    return fortran_int(ld < 1 ? 1 : ld, routine);
}

// The shape checks and Fortran arguments of ?gemm, for dgemm and sgemm.
template <class T, class Routine>
void gemm_of(Routine routine, const char* name, Op op_a, Op op_b, T alpha, BasicConstView<T> a,
             BasicConstView<T> b, T beta, BasicView<T> c) {
    const Index m = op_a == Op::none ? a.rows : a.cols;
    const Index k = op_a == Op::none ? a.cols : a.rows;
    const Index kb = op_b == Op::none ? b.rows : b.cols;
    const Index n = op_b == Op::none ? b.cols : b.rows;
    if (k != kb || c.rows != m || c.cols != n) throw_shape_mismatch("gemm");
    if (m == 0 || n == 0) return;
    const char ta = op_a == Op::none ? 'N' : 'T', tb = op_b == Op::none ? 'N' : 'T';
    const int mi = fortran_int(m, name), ni = fortran_int(n, name), ki = fortran_int(k, name);
    const int lda = ld_of(a.ld, name), ldb = ld_of(b.ld, name), ldc = ld_of(c.ld, name);
    routine(&ta, &tb, &mi, &ni, &ki, &alpha, a.data, &lda, b.data, &ldb, &beta, c.data, &ldc);
}

}  // namespace

void gemm(Op op_a, Op op_b, double alpha, ConstView a, ConstView b, double beta, View c) {
    gemm_of(dgemm_, "dgemm", op_a, op_b, alpha, a, b, beta, c);
}

void gemm(Op op_a, Op op_b, float alpha, FloatConstView a, FloatConstView b, float beta,
          FloatView c) {
    gemm_of(sgemm_, "sgemm", op_a, op_b, alpha, a, b, beta, c);
}

Matrix multiply(Op op_a, Op op_b, ConstView a, ConstView b) {
    Matrix c(op_a == Op::none ? a.rows : a.cols, op_b == Op::none ? b.cols : b.rows);
    gemm(op_a, op_b, 1.0, a, b, 0.0, c);
    return c;
}

void syr2k(Op op, double alpha, ConstView a, ConstView b, double beta, View c) {
    if (a.rows != b.rows || a.cols != b.cols) throw RuntimeFailure("syr2k: shape mismatch");
    const Index n = op == Op::none ? a.rows : a.cols;
    const Index k = op == Op::none ? a.cols : a.rows;
    if (c.rows != n || c.cols != n) throw RuntimeFailure("syr2k: shape mismatch");
    const char uplo = 'L', trans = op == Op::none ? 'N' : 'T';
    const int ni = fortran_int(n, "dsyr2k"), ki = fortran_int(k, "dsyr2k");
    const int lda = ld_of(a.ld, "dsyr2k"), ldb = ld_of(b.ld, "dsyr2k"), ldc = ld_of(c.ld, "dsyr2k");
    dsyr2k_(&uplo, &trans, &ni, &ki, &alpha, a.data, &lda, b.data, &ldb, &beta, c.data, &ldc);
    for (Index j = 0; j < n; ++j)
        for (Index i = 0; i < j; ++i) c(i, j) = c(j, i);
}

void syrk(Op op, double alpha, ConstView a, double beta, View c) {
    const Index n = op == Op::none ? a.rows : a.cols;
    const Index k = op == Op::none ? a.cols : a.rows;
    if (c.rows != n || c.cols != n) throw RuntimeFailure("syrk: shape mismatch");
    if (n == 0) return;
    const char uplo = 'L', trans = op == Op::none ? 'N' : 'T';
    const int ni = fortran_int(n, "dsyrk"), ki = fortran_int(k, "dsyrk");
    const int lda = ld_of(a.ld, "dsyrk"), ldc = ld_of(c.ld, "dsyrk");
    dsyrk_(&uplo, &trans, &ni, &ki, &alpha, a.data, &lda, &beta, c.data, &ldc);
    for (Index j = 0; j < n; ++j)
        for (Index i = 0; i < j; ++i) c(i, j) = c(j, i);
}

void solve_right_upper(ConstView r, View b) {
    if (r.rows != r.cols || b.cols != r.rows) throw RuntimeFailure("trsm: shape mismatch");
    if (b.rows == 0 || b.cols == 0) return;
    const char side = 'R', uplo = 'U', trans = 'N', diag = 'N';
    const int m = fortran_int(b.rows, "dtrsm"), n = fortran_int(b.cols, "dtrsm");
    const int ldr = ld_of(r.ld, "dtrsm"), ldb = ld_of(b.ld, "dtrsm");
    const double one = 1.0;
    dtrsm_(&side, &uplo, &trans, &diag, &m, &n, &one, r.data, &ldr, b.data, &ldb);
}

int blas_threads() {
    return openblas_get_num_threads ? openblas_get_num_threads() : 1;
}

std::string blas_library() {
    if (openblas_get_config) return openblas_get_config();
    return "unknown (not OpenBLAS)";
}

void set_blas_threads(int threads) {
    if (openblas_set_num_threads) openblas_set_num_threads(threads);
}

}  // namespace ssldyn
