#include "linalg/scalapack.hpp"

#include <algorithm>
#include <limits>
#include <string>

#include "core/error.hpp"

extern "C" {
// Debian ships no headers for PBLAS or ScaLAPACK: the prototypes live here, once.
void pdgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
             const double* alpha, const double* a, const int* ia, const int* ja, const int* desca,
             const double* b, const int* ib, const int* jb, const int* descb, const double* beta,
             double* c, const int* ic, const int* jc, const int* descc);
void pdsyrk_(const char* uplo, const char* trans, const int* n, const int* k, const double* alpha,
             const double* a, const int* ia, const int* ja, const int* desca, const double* beta,
             double* c, const int* ic, const int* jc, const int* descc);
void pdsyr2k_(const char* uplo, const char* trans, const int* n, const int* k, const double* alpha,
              const double* a, const int* ia, const int* ja, const int* desca, const double* b,
              const int* ib, const int* jb, const int* descb, const double* beta, double* c,
              const int* ic, const int* jc, const int* descc);
void pdtradd_(const char* uplo, const char* trans, const int* m, const int* n, const double* alpha,
              const double* a, const int* ia, const int* ja, const int* desca, const double* beta,
              double* c, const int* ic, const int* jc, const int* descc);
void pdtrsm_(const char* side, const char* uplo, const char* transa, const char* diag, const int* m,
             const int* n, const double* alpha, const double* a, const int* ia, const int* ja,
             const int* desca, double* b, const int* ib, const int* jb, const int* descb);
double pdlange_(const char* norm, const int* m, const int* n, const double* a, const int* ia,
                const int* ja, const int* desca, double* work);
void pdlacpy_(const char* uplo, const int* m, const int* n, const double* a, const int* ia,
              const int* ja, const int* desca, double* b, const int* ib, const int* jb,
              const int* descb);
void pdsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* ia,
              const int* ja, const int* desca, double* w, double* z, const int* iz, const int* jz,
              const int* descz, double* work, const int* lwork, int* iwork, const int* liwork,
              int* info);
void pdgeqrf_(const int* m, const int* n, double* a, const int* ia, const int* ja, const int* desca,
              double* tau, double* work, const int* lwork, int* info);
void pdorgqr_(const int* m, const int* n, const int* k, double* a, const int* ia, const int* ja,
              const int* desca, const double* tau, double* work, const int* lwork, int* info);
void pdpotrf_(const char* uplo, const int* n, double* a, const int* ia, const int* ja,
              const int* desca, int* info);
void pdpocon_(const char* uplo, const int* n, const double* a, const int* ia, const int* ja,
              const int* desca, const double* anorm, double* rcond, double* work, const int* lwork,
              int* iwork, const int* liwork, int* info);
}

namespace ssldyn {

namespace {

const int one = 1;  // every routine here works on whole matrices: ia = ja = 1

void check_info(int info, const char* routine) {
    if (info == 0) return;
    if (info < 0) {
        // ScaLAPACK reports entry j of argument i's descriptor as -(100 i + j).
        const int bad = -info;
        const std::string what = bad > 100 ? "entry " + std::to_string(bad % 100) +
                                                 " of the descriptor of argument " +
                                                 std::to_string(bad / 100)
                                           : "argument " + std::to_string(bad);
        throw RuntimeFailure(std::string(routine) + ": " + what + " is invalid");
    }
    throw RuntimeFailure(std::string(routine) + ": failed to converge or singular (info " +
                         std::to_string(info) + ")");
}

// PBLAS and ScaLAPACK need every operand in one BLACS context.
void check_same_grid(const DistributedMatrix& a, const DistributedMatrix& b, const char* routine) {
    if (a.grid().context() != b.grid().context())
        throw RuntimeFailure(std::string(routine) + ": operands are on different grids");
}

void check_square(const DistributedMatrix& a, const char* routine) {
    if (a.rows() != a.cols()) throw RuntimeFailure(std::string(routine) + ": matrix is not square");
}

// Workspace sizes come back as doubles from a query (lwork = -1); a little slack covers the
// rounding of large sizes and the queries that ScaLAPACK is known to answer a little short.
int workspace_size(double query) {
    return std::max(1, static_cast<int>(query * 1.01) + 64);
}

// As lapack.cpp's: no iterative routine is handed a NaN or an infinity. Every rank of the grid
// learns whether any rank holds one, so that all throw together instead of some waiting in a
// collective.
void require_finite(const DistributedMatrix& a, const char* routine) {
    const double finite = a.grid().communicator().min(all_finite(a.local()) ? 1.0 : 0.0);
    if (finite == 0.0)
        throw RuntimeFailure(std::string(routine) + ": the " + std::to_string(a.rows()) + " x " +
                             std::to_string(a.cols()) + " matrix has non-finite entries");
}

double lange(char norm, const DistributedMatrix& a) {
    if (a.rows() == 0 || a.cols() == 0) return 0.0;
    const int m = fortran_int(a.rows(), "pdlange"), n = fortran_int(a.cols(), "pdlange");
    std::vector<double> work(
        static_cast<std::size_t>(a.local().rows() + a.local().cols() + a.block_rows() + 1));
    return pdlange_(&norm, &m, &n, a.local().data(), &one, &one, a.descriptor(), work.data());
}

// Tall-skinny products on a P x 1 grid. There every rank holds whole rows of a tall matrix, so
// the products that keep its rows (AᵀB summed over the ranks; A·B and A·R⁻¹ for a small B or R)
// need only the small matrix on every rank and one local BLAS call: one allreduce of n² words,
// the communication PBLAS does too. But PBLAS packs panels: at 65536 x 1024 on one core its
// pdsyrk and pdgemm(T, N) ran at 24–27 GF/s and pdtrsm at 35 where dsyrk, dgemm and dtrsm run at
// 66–70, and its pdgemm(N, N) did not speed up from one rank to two. The small matrix is
// replicated only when it is no larger than a rank's part of the tall one (n <= m/P), so memory
// stays O(mn/P); the rule uses global sizes only, so all ranks take the same path.
bool rows_are_local(const DistributedMatrix& tall, Index small_size) {
    return tall.grid().cols() == 1 &&
           small_size * tall.grid().rows() <= tall.rows() * std::max<Index>(1, tall.cols());
}

// c <- alpha s + beta c for s replicated on every rank; each rank writes its own blocks.
void add_replicated(double alpha, const Matrix& s, double beta, DistributedMatrix& c) {
    Matrix& local = c.local();
    for (Index jl = 0; jl < local.cols(); ++jl)
        for (Index il = 0; il < local.rows(); ++il) {
            const double value = alpha * s(c.global_row(il), c.global_col(jl));
            local(il, jl) = beta == 0.0 ? value : value + beta * local(il, jl);
        }
}

}  // namespace

void pgemm(Op op_a, Op op_b, double alpha, const DistributedMatrix& a, const DistributedMatrix& b,
           double beta, DistributedMatrix& c) {
    const Index m = op_a == Op::none ? a.rows() : a.cols();
    const Index k = op_a == Op::none ? a.cols() : a.rows();
    const Index kb = op_b == Op::none ? b.rows() : b.cols();
    const Index n = op_b == Op::none ? b.cols() : b.rows();
    if (k != kb || c.rows() != m || c.cols() != n) throw RuntimeFailure("pdgemm: shape mismatch");
    check_same_grid(a, c, "pdgemm");
    check_same_grid(b, c, "pdgemm");
    if (m == 0 || n == 0) return;
    // AᵀB of two tall matrices with the same rows on every rank: local products, summed.
    if (op_a == Op::transpose && op_b == Op::none && rows_are_local(a, m * n) &&
        rows_are_local(b, m * n) && a.block_rows() == b.block_rows()) {
        Matrix product(m, n);
        gemm(Op::transpose, Op::none, 1.0, a.local(), b.local(), 0.0, product);
        a.grid().communicator().sum(product.data(), product.size());
        add_replicated(alpha, product, beta, c);
        return;
    }
    // A·op(B) of a tall A by a small B, C laid out as A: each rank's rows times all of B.
    if (op_a == Op::none && rows_are_local(a, b.rows() * b.cols()) && c.grid().cols() == 1 &&
        c.block_rows() == a.block_rows()) {
        const Matrix all_b = b.gather();
        gemm(Op::none, op_b, alpha, a.local(), all_b, beta, c.local());
        return;
    }
    const char ta = op_a == Op::none ? 'N' : 'T', tb = op_b == Op::none ? 'N' : 'T';
    const int mi = fortran_int(m, "pdgemm"), ni = fortran_int(n, "pdgemm"),
              ki = fortran_int(k, "pdgemm");
    pdgemm_(&ta, &tb, &mi, &ni, &ki, &alpha, a.local().data(), &one, &one, a.descriptor(),
            b.local().data(), &one, &one, b.descriptor(), &beta, c.local().data(), &one, &one,
            c.descriptor());
}

namespace {

// The lower triangle of a square c <- its transposed upper one, so that a symmetric result
// written in the upper triangle (pdsyrk, pdsyr2k) is exactly symmetric in full.
void mirror_upper(DistributedMatrix& c) {
    const char lower = 'L', transpose = 'T';
    const int ni = fortran_int(c.rows(), "pdtradd");
    // pdtradd may not read and write one matrix.
    const DistributedMatrix upper_part = c;
    const double unit = 1.0, zero = 0.0;
    pdtradd_(&lower, &transpose, &ni, &ni, &unit, upper_part.local().data(), &one, &one,
             upper_part.descriptor(), &zero, c.local().data(), &one, &one, c.descriptor());
}

}  // namespace

void psyrk(Op op, double alpha, const DistributedMatrix& a, double beta, DistributedMatrix& c) {
    const Index n = op == Op::none ? a.rows() : a.cols();
    const Index k = op == Op::none ? a.cols() : a.rows();
    if (c.rows() != n || c.cols() != n) throw RuntimeFailure("pdsyrk: shape mismatch");
    check_same_grid(a, c, "pdsyrk");
    if (n == 0) return;
    if (op == Op::transpose && rows_are_local(a, n * n)) {
        Matrix gram(n, n);
        syrk(Op::transpose, 1.0, a.local(), 0.0, gram);
        a.grid().communicator().sum(gram.data(), gram.size());
        add_replicated(alpha, gram, beta, c);
        return;
    }
    const char upper = 'U', trans = op == Op::none ? 'N' : 'T';
    const int ni = fortran_int(n, "pdsyrk"), ki = fortran_int(k, "pdsyrk");
    pdsyrk_(&upper, &trans, &ni, &ki, &alpha, a.local().data(), &one, &one, a.descriptor(), &beta,
            c.local().data(), &one, &one, c.descriptor());
    mirror_upper(c);
}

void psyr2k(Op op, double alpha, const DistributedMatrix& a, const DistributedMatrix& b,
            double beta, DistributedMatrix& c) {
    const Index n = op == Op::none ? a.rows() : a.cols();
    const Index k = op == Op::none ? a.cols() : a.rows();
    if (c.rows() != n || c.cols() != n || b.rows() != a.rows() || b.cols() != a.cols())
        throw RuntimeFailure("pdsyr2k: shape mismatch");
    check_same_grid(a, c, "pdsyr2k");
    check_same_grid(b, c, "pdsyr2k");
    if (n == 0) return;
    const char upper = 'U', trans = op == Op::none ? 'N' : 'T';
    const int ni = fortran_int(n, "pdsyr2k"), ki = fortran_int(k, "pdsyr2k");
    pdsyr2k_(&upper, &trans, &ni, &ki, &alpha, a.local().data(), &one, &one, a.descriptor(),
             b.local().data(), &one, &one, b.descriptor(), &beta, c.local().data(), &one, &one,
             c.descriptor());
    mirror_upper(c);
}

double norm1(const DistributedMatrix& a) {
    return lange('1', a);
}

double frobenius_norm(const DistributedMatrix& a) {
    return lange('F', a);
}

DistributedSymmetricEigen symmetric_eigen(const DistributedMatrix& a) {
    check_square(a, "pdsyevd");
    const Index n_ = a.rows(), nb = a.block_cols();
    DistributedSymmetricEigen out{std::vector<double>(static_cast<std::size_t>(n_)),
                                  DistributedMatrix(a.grid(), n_, n_, nb, nb)};
    if (n_ == 0) return out;
    require_finite(a, "pdsyevd");
    if (n_ == 1) {
        out.values[0] = a.gather()(0, 0);
        add_to_diagonal(1.0, out.vectors);
        return out;
    }
    // ScaLAPACK 2.2's pdsyevd returns wrong eigenvalues on ranks without data when the matrix is
    // a single block on a grid of several ranks (checked for n = 5, 23, 40 on 1x2 to 4x1 grids):
    // so blocks of at most n - 1 there.
    const Index block = a.grid().size() > 1 ? std::min(nb, n_ - 1) : nb;
    DistributedMatrix work_a = a.redistribute(a.grid(), block, block);
    DistributedMatrix vectors(a.grid(), n_, n_, block, block);
    // pdsyevd sorts ascending and its vectors cannot be reordered without moving them between
    // ranks; the eigenvalues of -A are those of A negated, with the same vectors, so ascending
    // for -A is descending for A.
    scale(-1.0, work_a);
    const char jobz = 'V', uplo = 'L';
    const int n = fortran_int(n_, "pdsyevd");
    int info = 0, lwork = -1, liwork = -1, iwork_query = 0;
    double work_query = 0;
    pdsyevd_(&jobz, &uplo, &n, work_a.local().data(), &one, &one, work_a.descriptor(),
             out.values.data(), vectors.local().data(), &one, &one, vectors.descriptor(),
             &work_query, &lwork, &iwork_query, &liwork, &info);
    check_info(info, "pdsyevd");
    // ScaLAPACK 2.2's query leaves out what its back-transformation pdormtr needs on top,
    // max(nb(nb-1)/2, (mp + nq)·nb) + nb²: without it pdormtr rejects the workspace and the
    // vectors are garbage.
    lwork =
        workspace_size(work_query) +
        fortran_int((work_a.local().rows() + work_a.local().cols() + 2 * block) * block, "pdsyevd");
    liwork = workspace_size(iwork_query);
    std::vector<double> work(static_cast<std::size_t>(lwork));
    std::vector<int> iwork(static_cast<std::size_t>(liwork));
    pdsyevd_(&jobz, &uplo, &n, work_a.local().data(), &one, &one, work_a.descriptor(),
             out.values.data(), vectors.local().data(), &one, &one, vectors.descriptor(),
             work.data(), &lwork, iwork.data(), &liwork, &info);
    check_info(info, "pdsyevd");
    for (double& value : out.values) value = -value;
    // Every rank computes the eigenvalues, and an ulp apart on one rank would part the replicated
    // weights of a run (its step size is set by λ₁): rank 0's for all.
    a.grid().communicator().broadcast(out.values.data(), n, 0);
    copy(vectors, out.vectors);
    return out;
}

void householder_qr(DistributedMatrix& a, DistributedMatrix* r) {
    const Index m_ = a.rows(), n_ = a.cols();
    if (m_ < n_) throw RuntimeFailure("householder_qr: matrix has more columns than rows");
    if (r && (r->rows() != n_ || r->cols() != n_))
        throw RuntimeFailure("householder_qr: R must be n x n");
    if (r) check_same_grid(a, *r, "householder_qr");
    if (n_ == 0) return;
    require_finite(a, "pdgeqrf");
    const int m = fortran_int(m_, "pdgeqrf"), n = fortran_int(n_, "pdgeqrf");
    std::vector<double> tau(static_cast<std::size_t>(std::max<Index>(1, a.local().cols())));
    int info = 0, lwork = -1;
    double work_query = 0;
    pdgeqrf_(&m, &n, a.local().data(), &one, &one, a.descriptor(), tau.data(), &work_query, &lwork,
             &info);
    check_info(info, "pdgeqrf");
    lwork = workspace_size(work_query);
    std::vector<double> work(static_cast<std::size_t>(lwork));
    pdgeqrf_(&m, &n, a.local().data(), &one, &one, a.descriptor(), tau.data(), work.data(), &lwork,
             &info);
    check_info(info, "pdgeqrf");

    // sign[j] = sign of R(j, j), + for zero as in the serial factor; its owner tells everyone.
    std::vector<double> sign(static_cast<std::size_t>(n_), 0.0);
    for (Index jl = 0; jl < a.local().cols(); ++jl) {
        const Index j = a.global_col(jl), il = a.local_row(j);
        if (il >= 0) sign[static_cast<std::size_t>(j)] = a.local()(il, jl) < 0 ? -1.0 : 1.0;
    }
    a.grid().communicator().sum(sign.data(), n);
    if (r) {
        // pdlacpy copies rank by rank, so R first takes A's blocking, then r's.
        DistributedMatrix top(a.grid(), n_, n_, a.block_rows(), a.block_cols());
        const char upper = 'U';
        pdlacpy_(&upper, &n, &n, a.local().data(), &one, &one, a.descriptor(), top.local().data(),
                 &one, &one, top.descriptor());
        // R <- S R with S = diag(sign), so that Q S · S R = Q R.
        for (Index il = 0; il < top.local().rows(); ++il)
            if (sign[static_cast<std::size_t>(top.global_row(il))] < 0)
                for (Index jl = 0; jl < top.local().cols(); ++jl) top.local()(il, jl) *= -1.0;
        copy(top, *r);
    }

    lwork = -1;
    pdorgqr_(&m, &n, &n, a.local().data(), &one, &one, a.descriptor(), tau.data(), &work_query,
             &lwork, &info);
    check_info(info, "pdorgqr");
    lwork = workspace_size(work_query);
    work.assign(static_cast<std::size_t>(lwork), 0.0);
    pdorgqr_(&m, &n, &n, a.local().data(), &one, &one, a.descriptor(), tau.data(), work.data(),
             &lwork, &info);
    check_info(info, "pdorgqr");
    for (Index jl = 0; jl < a.local().cols(); ++jl)
        if (sign[static_cast<std::size_t>(a.global_col(jl))] < 0)
            for (Index il = 0; il < a.local().rows(); ++il) a.local()(il, jl) *= -1.0;
}

bool cholesky(DistributedMatrix& a) {
    check_square(a, "pdpotrf");
    if (a.block_rows() != a.block_cols())
        throw RuntimeFailure("pdpotrf: the matrix must be in square blocks");
    if (a.rows() == 0) return true;
    const char uplo = 'U';
    const int n = fortran_int(a.rows(), "pdpotrf");
    int info = 0;
    pdpotrf_(&uplo, &n, a.local().data(), &one, &one, a.descriptor(), &info);
    // Callers branch on the answer, so every rank must give the same one.
    info = a.grid().communicator().max(info);
    if (info > 0) return false;
    check_info(info, "pdpotrf");
    return true;
}

double cholesky_condition(const DistributedMatrix& r, double a_norm1) {
    check_square(r, "pdpocon");
    if (r.rows() == 0) return 1.0;
    const char uplo = 'U';
    const int n = fortran_int(r.rows(), "pdpocon");
    int info = 0, lwork = -1, liwork = -1, iwork_query = 0;
    double work_query = 0, rcond = 0;
    pdpocon_(&uplo, &n, r.local().data(), &one, &one, r.descriptor(), &a_norm1, &rcond, &work_query,
             &lwork, &iwork_query, &liwork, &info);
    check_info(info, "pdpocon");
    lwork = workspace_size(work_query);
    liwork = workspace_size(iwork_query);
    std::vector<double> work(static_cast<std::size_t>(lwork));
    std::vector<int> iwork(static_cast<std::size_t>(liwork));
    pdpocon_(&uplo, &n, r.local().data(), &one, &one, r.descriptor(), &a_norm1, &rcond, work.data(),
             &lwork, iwork.data(), &liwork, &info);
    check_info(info, "pdpocon");
    // The same estimate on every rank, so that callers branching on it stay together.
    rcond = r.grid().communicator().min(rcond);
    return rcond > 0 ? 1.0 / rcond : std::numeric_limits<double>::infinity();
}

void solve_right_upper(const DistributedMatrix& r, DistributedMatrix& b) {
    check_square(r, "pdtrsm");
    if (b.cols() != r.rows()) throw RuntimeFailure("pdtrsm: shape mismatch");
    check_same_grid(r, b, "pdtrsm");
    if (b.rows() == 0 || b.cols() == 0) return;
    if (rows_are_local(b, r.rows() * r.cols())) {
        const Matrix all_r = r.gather();
        solve_right_upper(all_r.view(), b.local().view());
        return;
    }
    const char side = 'R', uplo = 'U', trans = 'N', diag = 'N';
    const int m = fortran_int(b.rows(), "pdtrsm"), n = fortran_int(b.cols(), "pdtrsm");
    const double unit = 1.0;
    pdtrsm_(&side, &uplo, &trans, &diag, &m, &n, &unit, r.local().data(), &one, &one,
            r.descriptor(), b.local().data(), &one, &one, b.descriptor());
}

}  // namespace ssldyn
