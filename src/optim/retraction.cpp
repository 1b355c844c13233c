#include "optim/retraction.hpp"

#include <cmath>
#include <limits>
#include <string>

#include "core/error.hpp"
#include "linalg/blas.hpp"
#include "linalg/lapack.hpp"
#include "linalg/orthonormalise.hpp"

namespace ssldyn {

namespace {

Matrix sum_of(const Matrix& a, const Matrix& b) {
    Matrix s = a;
    axpy(1.0, b, s);
    return s;
}

// Drift control. QR and polar project W + ξ onto the manifold, so W's round-off never builds
// up. Cayley and the geodesic map W by an orthogonal transformation of R^d (in exact arithmetic)
// and do not project: the Cayley transform keeps the drift ‖WWᵀ − I‖ as it is (YYᵀ = WWᵀ) and
// adds its own round-off, a random walk over the steps; the geodesic's formula assumes
// orthonormal W (WV = 0 for the singular vectors V of the horizontal part), and its error is
// the drift times O(1 + ‖ξ‖), compounding over the steps (measured: 1e-16 to 5e-10 in 1000 steps
// of |ξ| = 0.3 with a vertical part). So both first look at the drift of their input, through
// the Gram matrix WWᵀ that Cayley needs anyway (for the geodesic one k²d product more), and only
// when it exceeds drift_tolerance (about what QR and polar leave, a few k·ε) pull W back by one
// Newton–Schulz step W ← (3I − WWᵀ)W/2, which squares the drift (I + E → I − 3E²/4 + O(E³)).
double drift_tolerance(Index k) {
    return 16.0 * static_cast<double>(k) * std::numeric_limits<double>::epsilon();
}

// W with a Gram matrix WWᵀ within drift_tolerance of I: w as it is, or after one Newton–Schulz
// step (then gram is recomputed). On return gram = WWᵀ.
Matrix near_manifold(const Matrix& w, Matrix& gram) {
    Matrix drift = gram;
    for (Index i = 0; i < drift.rows(); ++i) drift(i, i) -= 1.0;
    if (frobenius_norm(drift) <= drift_tolerance(w.rows())) return w;
    Matrix corrected = w;
    gemm(Op::none, Op::none, -0.5, drift, w, 1.0, corrected);  // (3I − G)W/2 = W − (G − I)W/2
    gram = multiply(Op::none, Op::transpose, corrected, corrected);
    return corrected;
}

// Wen & Yin (2013), Lemma 4.1, in row form. Column form: X = Wᵀ, A = G Xᵀ − X Gᵀ (skew),
// Y = (I + A/2)⁻¹(I − A/2) X = X − U (I + VᵀU/2)⁻¹ VᵀX with U = [G, X], V = [X, −G] (d x 2k).
// Y'(0) = −A X, so G is chosen with −A X = ξᵀ for the tangent ξ: G = −(I − X Xᵀ/2) ξᵀ (for
// horizontal ξ, simply −ξᵀ; the XXᵀ/2 term carries a vertical part ξWᵀ ≠ 0 over exactly).
Matrix cayley(const Matrix& w_in, const Matrix& step) {
    const Index k = w_in.rows();
    Matrix xtx = multiply(Op::none, Op::transpose, w_in, w_in);  // XᵀX = WWᵀ
    const Matrix w = near_manifold(w_in, xtx);
    const Matrix omega = multiply(Op::none, Op::transpose, step, w);  // ξWᵀ, k x k
    Matrix g = step;                                                  // Gᵀ, k x d
    scale(-1.0, g);
    gemm(Op::none, Op::none, 0.5, omega, w, 1.0, g);
    const Matrix xtg = multiply(Op::none, Op::transpose, w, g);  // XᵀG
    const Matrix gtg = multiply(Op::none, Op::transpose, g, g);  // GᵀG
    // I + VᵀU/2 with VᵀU = [XᵀG, XᵀX; −GᵀG, −GᵀX], and VᵀX = [XᵀX; −GᵀX].
    Matrix system = Matrix::identity(2 * k);
    Matrix rhs(2 * k, k);
    for (Index j = 0; j < k; ++j)
        for (Index i = 0; i < k; ++i) {
            system(i, j) += 0.5 * xtg(i, j);
            system(i, k + j) += 0.5 * xtx(i, j);
            system(k + i, j) -= 0.5 * gtg(i, j);
            system(k + i, k + j) -= 0.5 * xtg(j, i);
            rhs(i, j) = xtx(i, j);
            rhs(k + i, j) = -xtg(j, i);
        }
    const Matrix m = solve(system, rhs);  // 2k x k
    // Yᵀ = W − M_topᵀ Gᵀ − M_botᵀ W.
    Matrix y = w;
    const Matrix top = rows_of(m, 0, k), bottom = rows_of(m, k, k);
    gemm(Op::transpose, Op::none, -1.0, top, g, 1.0, y);
    gemm(Op::transpose, Op::none, -1.0, bottom, w, 1.0, y);
    return y;
}

// Cayley transform (I − Ω/2)⁻¹(I + Ω/2) of the skew part of a k x k matrix: orthogonal,
// I + Ω + O(Ω²).
Matrix cayley_rotation(const Matrix& omega) {
    const Index k = omega.rows();
    Matrix minus = Matrix::identity(k), plus = Matrix::identity(k);
    for (Index j = 0; j < k; ++j)
        for (Index i = 0; i < k; ++i) {
            const double skew = 0.25 * (omega(i, j) - omega(j, i));  // (Ω − Ωᵀ)/2, halved
            minus(i, j) -= skew;
            plus(i, j) += skew;
        }
    return solve(minus, plus);
}

// Edelman, Arias & Smith (1998), Theorem 2.3, in row form. Column form: X = Wᵀ, the horizontal
// part H = ξ_hᵀ = Û Σ V̂ᵀ (thin SVD), Y = X V̂ cos Σ V̂ᵀ + Û sin Σ V̂ᵀ. Row form with the thin
// SVD ξ_h = U Σ Vᵀ (U k x k): Yᵀ = U cos Σ Uᵀ W + U sin Σ Vᵀ. The vertical part Ω = ξWᵀ (skew
// for a tangent ξ) rotates the frame: R = Q Yᵀ with Q the Cayley transform of Ω.
Matrix geodesic(const Matrix& w_in, const Matrix& step) {
    const Index k = w_in.rows();
    Matrix gram = multiply(Op::none, Op::transpose, w_in, w_in);
    const Matrix w = near_manifold(w_in, gram);
    const Matrix omega = multiply(Op::none, Op::transpose, step, w);  // ξWᵀ
    Matrix horizontal = step;                                         // ξ(I − WᵀW)
    gemm(Op::none, Op::none, -1.0, omega, w, 1.0, horizontal);
    const Svd svd = thin_svd(horizontal);
    const Matrix q = cayley_rotation(omega);
    const Matrix qu = multiply(q, svd.u);
    Matrix qu_cos = qu, qu_sin = qu;
    for (Index j = 0; j < k; ++j) {
        const double s = svd.s[static_cast<std::size_t>(j)];
        const double c = std::cos(s), sn = std::sin(s);
        for (Index i = 0; i < k; ++i) {
            qu_cos(i, j) *= c;
            qu_sin(i, j) *= sn;
        }
    }
    const Matrix on_w = multiply(Op::none, Op::transpose, qu_cos, svd.u);  // Q U cos Σ Uᵀ
    Matrix y = multiply(on_w, w);
    gemm(Op::none, Op::none, 1.0, qu_sin, svd.vt, 1.0, y);
    return y;
}

// The distributed orthonormalisation that gives the factor of retract_qr or retract_polar (both
// unique: diag(R) > 0, and the polar factor of a full-rank matrix), as the row of the resolved
// method says; refused for a method without one.
Orthonormalisation orthonormalisation_of(Retraction resolved) {
    require_distributed_form(resolved, "a layer spread over a grid");
    return row_of(resolved).orthonormalisation;
}

}  // namespace

void require_distributed_form(Retraction method, std::string_view where,
                              std::string_view otherwise) {
    const RetractionRow& row = row_of(method);
    if (row.distributed) return;
    throw InputError(
        "retraction: " + std::string(row.name) + " has no form for " + std::string(where) +
        "; take " +
        alternatives_of(retraction_table, [](const RetractionRow& r) { return r.distributed; }) +
        (otherwise.empty() ? "" : ", or " + std::string(otherwise)));
}

Retraction resolve(Retraction method, Index k, Index /*d*/) {
    if (method != Retraction::automatic) return method;
    return k <= 32 ? Retraction::polar : Retraction::qr;
}

Matrix retract_qr(const Matrix& z) {
    return transpose(orthonormal_factor(transpose(z)));
}

Matrix retract_polar(const Matrix& z) {
    const Svd svd = thin_svd(z);
    return multiply(svd.u, svd.vt);
}

Matrix orthonormalise_rows(Retraction method, const Matrix& z) {
    return resolve(method, z.rows(), z.cols()) == Retraction::qr ? retract_qr(z) : retract_polar(z);
}

Matrix orthonormal_columns(Retraction method, Matrix my_rows, const BlacsGrid& grid, Index block) {
    const Index my_row_count = my_rows.rows();
    DistributedMatrix z = DistributedMatrix::from_row_blocks(grid, my_rows, block, block);
    my_rows = Matrix();
    if (z.rows() <= z.cols())
        throw InputError("orthonormal_columns: the spread matrix is " + std::to_string(z.rows()) +
                         " x " + std::to_string(z.cols()) + ", not taller than wide");
    orthonormalise(orthonormalisation_of(resolve(method, z.cols(), z.rows())), z);
    return z.to_row_blocks(my_row_count);
}

Matrix retract(Retraction method, const Matrix& w, const Matrix& step, const Distribution& where) {
    // A step that left the finite numbers (η far too large) is taken as it is, unretracted: the
    // run then sees non-finite weights and fails, as a naive one does, and no factorisation is
    // handed them (linalg/lapack.cpp).
    if (!all_finite(step)) return sum_of(w, step);
    const Retraction resolved = resolve(method, w.rows(), w.cols());
    if (row_of(resolved).distributed && where.distributes(w.cols(), w.rows())) {
        // The same factors as retract_qr and retract_polar, so the trajectory is the replicated
        // one to round-off.
        DistributedMatrix zt = DistributedMatrix::scatter(*where.tall, transpose(sum_of(w, step)),
                                                          where.block, where.block);
        orthonormalise(orthonormalisation_of(resolved), zt);
        return transpose(zt.gather());
    }
    switch (resolved) {
        case Retraction::polar:
            return retract_polar(sum_of(w, step));
        case Retraction::cayley:
            return cayley(w, step);
        case Retraction::geodesic:
            return geodesic(w, step);
        case Retraction::qr:
        case Retraction::automatic:
            break;
    }
    return retract_qr(sum_of(w, step));
}

Matrix retract_columns(Retraction method, const Matrix& w, const Matrix& step,
                       const Distribution& where) {
    if (!all_finite(step)) return sum_of(w, step);  // as retract's
    if (resolve(method, w.cols(), w.rows()) == Retraction::qr &&
        !where.distributes(w.rows(), w.cols()))
        return orthonormal_factor(sum_of(w, step));
    return transpose(retract(method, transpose(w), transpose(step), where));
}

}  // namespace ssldyn
