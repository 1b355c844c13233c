#include "linalg/orthonormalise.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "core/error.hpp"
#include "linalg/lapack.hpp"
#include "linalg/scalapack.hpp"

namespace ssldyn {

namespace {

// An n x n matrix on a's grid in square blocks of a's column block size, aligned with a's
// columns as PBLAS wants for products with a.
DistributedMatrix small_square(const DistributedMatrix& a) {
    return DistributedMatrix(a.grid(), a.cols(), a.cols(), a.block_cols(), a.block_cols());
}

OrthonormalisationReport cholesky_qr2(DistributedMatrix& a) {
    OrthonormalisationReport report{Orthonormalisation::cholesky_qr2};
    DistributedMatrix r = small_square(a);
    for (int pass = 0; pass < 2; ++pass) {
        psyrk(Op::transpose, 1.0, a, 0.0, r);
        const double gram_norm = pass == 0 ? norm1(r) : 0.0;
        const bool factored = cholesky(r);
        if (pass == 0)
            report.gram_condition = factored ? cholesky_condition(r, gram_norm)
                                             : std::numeric_limits<double>::infinity();
        // Negated so that a NaN condition falls back too. After a good first pass the second
        // Gram is within O(√u) of I; should its Cholesky fail all the same, Householder on
        // A R₁⁻¹ gives the same Q as on A (R₁ is upper triangular with a positive diagonal).
        if (!factored || !(report.gram_condition <= cholesky_qr2_condition_limit)) {
            householder_qr(a);
            report.fell_back = true;
            return report;
        }
        solve_right_upper(r, a);
    }
    return report;
}

// Q U_R Vᵀ from A = QR and R = U_R Σ Vᵀ: the polar factor of A (Q U_R Σ Vᵀ is A's SVD). ScaLAPACK's
// pdgesvd bidiagonalises the whole m x n matrix and rotates all m rows of U, with no QR first as
// LAPACK's dgesvd does for m >> n; so the QR comes first here. The n x n SVD of R is LAPACK's on
// every rank (n² words gathered, n³ flops against the QR's mn²): pdgesvd on a small R spread
// over ranks that hold none of it fails its check that all ranks agree (info n + 1, seen on 4
// ranks for n = 2, 3), and is 15x slower than dgesdd at n = 1024 on one rank (bench/README-qr.md).
void polar_svd(DistributedMatrix& a) {
    DistributedMatrix r = small_square(a);
    householder_qr(a, &r);
    const Svd svd = thin_svd(r.gather());
    const DistributedMatrix rotation = DistributedMatrix::scatter(a.grid(), multiply(svd.u, svd.vt),
                                                                  r.block_rows(), r.block_cols());
    DistributedMatrix q = a;
    pgemm(Op::none, Op::none, 1.0, q, rotation, 0.0, a);
}

// X ← X(3I − G)/2 with G = XᵀX maps each singular value σ to σ(3 − σ²)/2, which converges to 1
// for σ in (0, √3), linearly (×1.5) while σ is small and quadratically near 1. The scale
// X₀ = A/‖AᵀA‖₁^½ puts every σ in (0, 1] (‖A‖₂² = ‖AᵀA‖₂ <= ‖AᵀA‖₁) and is nearly 1 when A is
// near orthonormal; it reuses the first Gram matrix, which the first update needs anyway.
int newton_schulz(DistributedMatrix& a) {
    DistributedMatrix g = small_square(a);
    psyrk(Op::transpose, 1.0, a, 0.0, g);
    const double gram_norm = norm1(g);
    if (!(gram_norm > 0) || !std::isfinite(gram_norm))
        throw RuntimeFailure("newton_schulz: the matrix is zero or not finite");
    scale(1.0 / std::sqrt(gram_norm), a);
    scale(1.0 / gram_norm, g);
    DistributedMatrix next = a;
    for (int iteration = 1; iteration <= newton_schulz_max_iterations; ++iteration) {
        add_to_diagonal(-1.0, g);  // G − I
        const double error = frobenius_norm(g);
        if (!std::isfinite(error)) break;
        scale(-0.5, g);  // (3I − G)/2 = I − (G − I)/2
        add_to_diagonal(1.0, g);
        pgemm(Op::none, Op::none, 1.0, a, g, 0.0, next);
        std::swap(a, next);
        if (error <= newton_schulz_tolerance) return iteration;
        psyrk(Op::transpose, 1.0, a, 0.0, g);
    }
    throw RuntimeFailure("newton_schulz: no convergence in " +
                         std::to_string(newton_schulz_max_iterations) +
                         " iterations (is the matrix rank deficient?)");
}

}  // namespace

Orthonormalisation resolve(Orthonormalisation method, Index m, Index n) {
    if (method != Orthonormalisation::automatic) return method;
    return m >= 2 * n ? Orthonormalisation::cholesky_qr2 : Orthonormalisation::householder;
}

OrthonormalisationReport orthonormalise(Orthonormalisation method, DistributedMatrix& a) {
    if (a.rows() < a.cols())
        throw RuntimeFailure("orthonormalise: matrix has more columns than rows");
    OrthonormalisationReport report{resolve(method, a.rows(), a.cols())};
    if (a.cols() == 0) return report;
    switch (report.method) {
        case Orthonormalisation::cholesky_qr2:
            return cholesky_qr2(a);
        case Orthonormalisation::polar_svd:
            polar_svd(a);
            return report;
        case Orthonormalisation::newton_schulz:
            report.iterations = newton_schulz(a);
            return report;
        case Orthonormalisation::householder:
        case Orthonormalisation::automatic:
            break;
    }
    householder_qr(a);
    return report;
}

}  // namespace ssldyn
