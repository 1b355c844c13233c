#include "linalg/lapack.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <string>

#include "core/error.hpp"

extern "C" {
void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w,
             double* work, const int* lwork, int* iwork, const int* liwork, int* info);
void dgesdd_(const char* jobz, const int* m, const int* n, double* a, const int* lda, double* s,
             double* u, const int* ldu, double* vt, const int* ldvt, double* work, const int* lwork,
             int* iwork, int* info);
void dgeqrf_(const int* m, const int* n, double* a, const int* lda, double* tau, double* work,
             const int* lwork, int* info);
void dorgqr_(const int* m, const int* n, const int* k, double* a, const int* lda, const double* tau,
             double* work, const int* lwork, int* info);
void dgesv_(const int* n, const int* nrhs, double* a, const int* lda, int* ipiv, double* b,
            const int* ldb, int* info);
}

namespace ssldyn {

namespace {

void check_info(int info, const char* routine) {
    if (info == 0) return;
    if (info < 0)
        throw RuntimeFailure(std::string(routine) + ": argument " + std::to_string(-info) +
                             " is invalid");
    throw RuntimeFailure(std::string(routine) + ": failed to converge or singular (info " +
                         std::to_string(info) + ")");
}

int workspace_size(double query) {
    return std::max(1, static_cast<int>(query) + 1);
}

// LAPACK's iterative solvers can loop for ever on a NaN or an infinity (dgesdd's dbdsqr never
// meets its convergence test on them), so no factorisation is handed one: weights that diverged
// fail the step instead of hanging the run.
void require_finite(ConstView a, const char* routine) {
    if (!all_finite(a))
        throw RuntimeFailure(std::string(routine) + ": the " + std::to_string(a.rows) + " x " +
                             std::to_string(a.cols) + " matrix has non-finite entries");
}

}  // namespace

SymmetricEigen symmetric_eigen(ConstView a) {
    if (a.rows != a.cols) throw RuntimeFailure("symmetric_eigen: matrix is not square");
    const int n = fortran_int(a.rows, "dsyevd");
    require_finite(a, "dsyevd");
    Matrix v = copy_of(a);
    std::vector<double> w(static_cast<std::size_t>(n));
    if (n == 0) return {w, v};
    const char jobz = 'V', uplo = 'L';
    const int lda = std::max(1, n);
    int info = 0, lwork = -1, liwork = -1, iwork_query = 0;
    double work_query = 0;
    dsyevd_(&jobz, &uplo, &n, v.data(), &lda, w.data(), &work_query, &lwork, &iwork_query, &liwork,
            &info);
    check_info(info, "dsyevd");
    lwork = workspace_size(work_query);
    liwork = std::max(1, iwork_query);
    std::vector<double> work(static_cast<std::size_t>(lwork));
    std::vector<int> iwork(static_cast<std::size_t>(liwork));
    dsyevd_(&jobz, &uplo, &n, v.data(), &lda, w.data(), work.data(), &lwork, iwork.data(), &liwork,
            &info);
    check_info(info, "dsyevd");
    // LAPACK sorts ascending; reverse to λ₁ ≥ … ≥ λ_d.
    SymmetricEigen out{std::vector<double>(w.rbegin(), w.rend()), Matrix(n, n)};
    for (int j = 0; j < n; ++j)
        for (int i = 0; i < n; ++i) out.vectors(i, j) = v(i, n - 1 - j);
    return out;
}

namespace {

Svd gesdd(ConstView a, bool vectors) {
    const int m = fortran_int(a.rows, "dgesdd"), n = fortran_int(a.cols, "dgesdd");
    const int r = std::min(m, n);
    require_finite(a, "dgesdd");
    Matrix work_a = copy_of(a);
    Svd out{vectors ? Matrix(m, r) : Matrix(), std::vector<double>(static_cast<std::size_t>(r)),
            vectors ? Matrix(r, n) : Matrix()};
    if (r == 0) return out;
    const char jobz = vectors ? 'S' : 'N';
    const int lda = std::max(1, m), ldu = std::max(1, m), ldvt = std::max(1, r);
    double dummy = 0;
    double* u = vectors ? out.u.data() : &dummy;
    double* vt = vectors ? out.vt.data() : &dummy;
    std::vector<int> iwork(static_cast<std::size_t>(8 * r));
    int info = 0, lwork = -1;
    double work_query = 0;
    dgesdd_(&jobz, &m, &n, work_a.data(), &lda, out.s.data(), u, &ldu, vt, &ldvt, &work_query,
            &lwork, iwork.data(), &info);
    check_info(info, "dgesdd");
    lwork = workspace_size(work_query);
    std::vector<double> work(static_cast<std::size_t>(lwork));
    dgesdd_(&jobz, &m, &n, work_a.data(), &lda, out.s.data(), u, &ldu, vt, &ldvt, work.data(),
            &lwork, iwork.data(), &info);
    check_info(info, "dgesdd");
    return out;
}

}  // namespace

Svd thin_svd(ConstView a) {
    return gesdd(a, true);
}

std::vector<double> singular_values(ConstView a) {
    return gesdd(a, false).s;
}

namespace {

// A = QR by Householder reflections (dgeqrf), in LAPACK's packed form: R on and above the
// diagonal, the reflectors below it and in tau.
Matrix householder_qr(ConstView a, const char* caller, std::vector<double>& tau) {
    const int m = fortran_int(a.rows, "dgeqrf"), n = fortran_int(a.cols, "dgeqrf");
    if (m < n) throw RuntimeFailure(std::string(caller) + ": matrix has more columns than rows");
    require_finite(a, "dgeqrf");
    Matrix qr = copy_of(a);
    tau.assign(static_cast<std::size_t>(n), 0.0);
    if (n == 0) return qr;
    const int lda = std::max(1, m);
    int info = 0, lwork = -1;
    double work_query = 0;
    dgeqrf_(&m, &n, qr.data(), &lda, tau.data(), &work_query, &lwork, &info);
    check_info(info, "dgeqrf");
    lwork = workspace_size(work_query);
    std::vector<double> work(static_cast<std::size_t>(lwork));
    dgeqrf_(&m, &n, qr.data(), &lda, tau.data(), work.data(), &lwork, &info);
    check_info(info, "dgeqrf");
    return qr;
}

}  // namespace

Matrix orthonormal_factor(ConstView a) {
    std::vector<double> tau;
    Matrix q = householder_qr(a, "orthonormal_factor", tau);
    const int m = static_cast<int>(a.rows), n = static_cast<int>(a.cols);
    if (n == 0) return q;
    const int lda = std::max(1, m);
    std::vector<double> r_sign(static_cast<std::size_t>(n));
    for (int j = 0; j < n; ++j) r_sign[static_cast<std::size_t>(j)] = q(j, j) < 0 ? -1.0 : 1.0;
    int info = 0, lwork = -1;
    double work_query = 0;
    dorgqr_(&m, &n, &n, q.data(), &lda, tau.data(), &work_query, &lwork, &info);
    check_info(info, "dorgqr");
    lwork = workspace_size(work_query);
    std::vector<double> work(static_cast<std::size_t>(lwork));
    dorgqr_(&m, &n, &n, q.data(), &lda, tau.data(), work.data(), &lwork, &info);
    check_info(info, "dorgqr");
    for (int j = 0; j < n; ++j)
        if (r_sign[static_cast<std::size_t>(j)] < 0)
            for (int i = 0; i < m; ++i) q(i, j) = -q(i, j);
    return q;
}

std::vector<double> triangular_diagonal(ConstView a) {
    std::vector<double> tau;
    const Matrix qr = householder_qr(a, "triangular_diagonal", tau);
    std::vector<double> r;
    for (Index j = 0; j < a.cols; ++j) r.push_back(std::fabs(qr(j, j)));
    return r;
}

Matrix solve(ConstView a, ConstView b) {
    if (a.rows != a.cols || b.rows != a.rows) throw RuntimeFailure("solve: shape mismatch");
    const int n = fortran_int(a.rows, "dgesv"), nrhs = fortran_int(b.cols, "dgesv");
    require_finite(a, "dgesv");
    require_finite(b, "dgesv");
    Matrix lu = copy_of(a), x = copy_of(b);
    if (n == 0) return x;
    std::vector<int> ipiv(static_cast<std::size_t>(n));
    const int lda = std::max(1, n), ldb = std::max(1, n);
    int info = 0;
    dgesv_(&n, &nrhs, lu.data(), &lda, ipiv.data(), x.data(), &ldb, &info);
    check_info(info, "dgesv");
    return x;
}

}  // namespace ssldyn
