// Retractions onto the Stiefel manifold (THEORY §4.2): QR, polar, Cayley and the Grassmann
// geodesic, each against an independent formula, their orders of accuracy, their agreement with
// each other, and their staying on the manifold.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "metrics/metrics.hpp"
#include "optim/retraction.hpp"
#include "test_support.hpp"

using namespace ssldyn;
using ssldyn::support::relative_difference;

namespace {

const Retraction all_methods[] = {Retraction::qr, Retraction::polar, Retraction::cayley,
                                  Retraction::geodesic};

std::string name(Retraction r) {
    return std::string(name_of(retraction_names, r));
}

double orthogonality_error(const Matrix& w) {
    Matrix g = multiply(Op::none, Op::transpose, w, w);
    for (Index i = 0; i < g.rows(); ++i) g(i, i) -= 1.0;
    return frobenius_norm(g);
}

Matrix difference(const Matrix& a, const Matrix& b) {
    Matrix d = a;
    axpy(-1.0, b, d);
    return d;
}

Matrix start(std::uint64_t seed, Index k, Index d) {
    RandomStream stream(seed);
    return retract_qr(gaussian_matrix(stream, k, d));
}

// A horizontal tangent vector ξ(I − WᵀW) (ξWᵀ = 0), scaled to ‖ξ‖_F = 1: the kind every GD
// step takes (grad L = ∇L (I − WᵀW)).
Matrix horizontal_at(const Matrix& w, std::uint64_t seed) {
    RandomStream stream(seed);
    Matrix xi = gaussian_matrix(stream, w.rows(), w.cols());
    const Matrix xwt = multiply(Op::none, Op::transpose, xi, w);
    gemm(Op::none, Op::none, -1.0, xwt, w, 1.0, xi);
    scale(1.0 / frobenius_norm(xi), xi);
    return xi;
}

// A general tangent vector ΩW + ξ_h (Ω skew: a rotation of the frame), ‖·‖_F = 1.
Matrix tangent_at(const Matrix& w, std::uint64_t seed) {
    Matrix xi = horizontal_at(w, seed);
    RandomStream stream(seed + 1000);
    const Matrix a = gaussian_matrix(stream, w.rows(), w.rows());
    Matrix omega = a;
    axpy(-1.0, transpose(a), omega);
    gemm(Op::none, Op::none, 0.3, omega, w, 1.0, xi);
    scale(1.0 / frobenius_norm(xi), xi);
    return xi;
}

Matrix scaled(double t, const Matrix& m) {
    Matrix s = m;
    scale(t, s);
    return s;
}

// exp(A) of a small dense matrix by scaling and squaring a Taylor series (independent of the
// library's retractions): ‖A/2^s‖ ≤ 1/2 and 30 terms leave a truncation far below ε.
Matrix expm(const Matrix& a) {
    int squarings = 0;
    double norm = frobenius_norm(a);
    while (norm > 0.5) {
        norm /= 2;
        ++squarings;
    }
    const Matrix b = scaled(std::ldexp(1.0, -squarings), a);
    Matrix sum = Matrix::identity(a.rows()), term = Matrix::identity(a.rows());
    for (int n = 1; n <= 30; ++n) {
        term = scaled(1.0 / n, multiply(term, b));
        axpy(1.0, term, sum);
    }
    for (int s = 0; s < squarings; ++s) sum = multiply(sum, sum);
    return sum;
}

}  // namespace

TEST(Retraction, NamesRoundTrip) {
    for (const auto& [value, text] : retraction_names)
        EXPECT_EQ(parse_name(retraction_names, text, "retraction"), value);
    EXPECT_THROW(parse_name(retraction_names, "cayley?", "retraction"), InputError);
    EXPECT_EQ(name(Retraction::cayley), "cayley");
    EXPECT_EQ(name(Retraction::geodesic), "geodesic");
    EXPECT_EQ(resolve(Retraction::automatic, 8, 100), Retraction::polar);
    EXPECT_EQ(resolve(Retraction::automatic, 64, 100), Retraction::qr);
    for (Retraction r : all_methods) EXPECT_EQ(resolve(r, 8, 100), r);
}

// The distributed forms come from the table: qr and polar have one (and auto, whatever the shape
// it resolves for), cayley and geodesic are refused with a message that names the key, the
// method, where the form was wanted and the methods that have one.
TEST(Retraction, DistributedFormsFromTheTable) {
    for (Retraction r : {Retraction::automatic, Retraction::qr, Retraction::polar})
        EXPECT_NO_THROW(require_distributed_form(r, "a sharded layer")) << name(r);
    for (Index k : {1, 2, 32, 33, 784})
        EXPECT_TRUE(row_of(resolve(Retraction::automatic, k, 1000)).distributed) << k;
    EXPECT_EQ(row_of(Retraction::qr).orthonormalisation, Orthonormalisation::automatic);
    EXPECT_EQ(row_of(Retraction::polar).orthonormalisation, Orthonormalisation::polar_svd);
    for (Retraction r : {Retraction::cayley, Retraction::geodesic}) {
        try {
            require_distributed_form(r, "a sharded layer", "replicate it");
            ADD_FAILURE() << name(r) << " was not refused";
        } catch (const InputError& e) {
            EXPECT_EQ(std::string(e.what()),
                      "retraction: " + name(r) +
                          " has no form for a sharded layer; take auto, qr or polar, or "
                          "replicate it");
        }
    }
}

TEST(Retraction, QrGivesOrthonormalRowsWithPositiveTriangle) {
    RandomStream stream(1);
    const Matrix z = gaussian_matrix(stream, 5, 40);
    const Matrix w = retract_qr(z);
    EXPECT_LT(orthogonality_error(w), 1e-14);
    // Z = L W with L = Z Wᵀ lower triangular with a positive diagonal (R = Lᵀ).
    const Matrix l = multiply(Op::none, Op::transpose, z, w);
    for (Index i = 0; i < 5; ++i) {
        EXPECT_GT(l(i, i), 0.0);
        for (Index j = i + 1; j < 5; ++j) EXPECT_NEAR(l(i, j), 0.0, 1e-13);
    }
    // On the manifold already: QR of Wᵀ is Wᵀ · I, so the retraction is the identity there.
    EXPECT_LT(relative_difference(retract_qr(w), w), 1e-14);
    // The retraction interface: R_W(ξ) = qf(W + ξ).
    const Matrix xi = scaled(0.3, tangent_at(w, 7));
    Matrix z2 = w;
    axpy(1.0, xi, z2);
    EXPECT_EQ(relative_difference(retract(Retraction::qr, w, xi), retract_qr(z2)), 0.0);
}

TEST(Retraction, PolarIsTheClosestOrthonormalMatrix) {
    RandomStream stream(2);
    const Matrix z = gaussian_matrix(stream, 4, 30);
    const Matrix w = retract_polar(z);
    EXPECT_LT(orthogonality_error(w), 1e-14);
    // Independent formula: (Z Zᵀ)^{-1/2} Z via the eigendecomposition of the Gram matrix.
    const SymmetricEigen e = symmetric_eigen(multiply(Op::none, Op::transpose, z, z));
    Matrix inverse_root_factor = e.vectors;
    for (Index j = 0; j < 4; ++j)
        for (Index i = 0; i < 4; ++i)
            inverse_root_factor(i, j) /= std::sqrt(e.values[static_cast<std::size_t>(j)]);
    const Matrix inverse_root = multiply(Op::none, Op::transpose, inverse_root_factor, e.vectors);
    EXPECT_LT(relative_difference(w, multiply(inverse_root, z)), 1e-13);
}

// Wen–Yin apply the Cayley transform of a rank-2k skew d x d generator through a 2k x 2k
// solve; here the d x d transform itself, (I + A/2)⁻¹(I − A/2)X with A = −(Ξ̃Xᵀ − XΞ̃ᵀ),
// Ξ̃ = (I − XXᵀ/2)ξᵀ, X = Wᵀ (so that −AX = ξᵀ), with a d x d solve. Both are backward stable
// solves of well-conditioned systems (A skew: ‖(I + A/2)⁻¹‖ ≤ 1): agreement to 1e-13.
TEST(Retraction, CayleyIsTheCayleyTransformOfTheSkewGenerator) {
    const Index k = 3, d = 15;
    const Matrix w = start(3, k, d);
    for (double size : {0.1, 1.0, 3.0}) {
        const Matrix xi = scaled(size, tangent_at(w, 4));
        const Matrix x = transpose(w), xit = transpose(xi);
        Matrix xi_tilde = xit;  // (I − XXᵀ/2)ξᵀ
        gemm(Op::none, Op::none, -0.5, x, multiply(Op::transpose, Op::none, x, xit), 1.0, xi_tilde);
        Matrix a = multiply(Op::none, Op::transpose, x, xi_tilde);  // X Ξ̃ᵀ − Ξ̃ Xᵀ
        gemm(Op::none, Op::transpose, -1.0, xi_tilde, x, 1.0, a);
        Matrix plus = Matrix::identity(d), minus = Matrix::identity(d);
        axpy(0.5, a, plus);
        axpy(-0.5, a, minus);
        const Matrix y = solve(plus, multiply(minus, x));
        const Matrix r = retract(Retraction::cayley, w, xi);
        EXPECT_LT(relative_difference(r, transpose(y)), 1e-13) << "|xi| = " << size;
        EXPECT_LT(orthogonality_error(r), 1e-14) << "|xi| = " << size;
    }
}

// For horizontal H = ξᵀ (XᵀH = 0) the Grassmann geodesic is exp(HXᵀ − XHᵀ) X (Edelman, Arias &
// Smith 1998, §2.5), here by an independent matrix exponential; and the principal angles
// between the row spaces of W and R_W(ξ) are the singular values of ξ while they stay below
// π/2 (the geodesic has speed ‖ξ‖ and is minimal). Steps of up to |ξ| = 2 radians.
TEST(Retraction, GeodesicIsTheExactGrassmannGeodesic) {
    const Index k = 3, d = 15;
    const Matrix w = start(5, k, d);
    for (double size : {0.1, 0.5, 2.0}) {
        const Matrix xi = scaled(size, horizontal_at(w, 6));
        const Matrix x = transpose(w), h = transpose(xi);
        Matrix generator = multiply(Op::none, Op::transpose, h, x);  // HXᵀ − XHᵀ
        gemm(Op::none, Op::transpose, -1.0, x, h, 1.0, generator);
        const Matrix y = multiply(expm(generator), x);
        const Matrix r = retract(Retraction::geodesic, w, xi);
        EXPECT_LT(relative_difference(r, transpose(y)), 1e-13) << "|xi| = " << size;
        EXPECT_LT(orthogonality_error(r), 1e-14) << "|xi| = " << size;
        // cos θ_i = singular values of W Rᵀ, θ_i = σ_i(ξ) (all below π/2 here: |ξ|_F ≤ 2
        // spreads over 3 directions; checked).
        const std::vector<double> sigma = singular_values(xi);
        ASSERT_LT(sigma.front(), M_PI / 2);
        const std::vector<double> cosines =
            singular_values(multiply(Op::none, Op::transpose, w, r));
        for (Index i = 0; i < k; ++i)  // cosines descending ↔ angles ascending
            EXPECT_NEAR(cosines[static_cast<std::size_t>(i)],
                        std::cos(sigma[static_cast<std::size_t>(k - 1 - i)]), 1e-14);
    }
}

TEST(Retraction, EachFixesItsBasePoint) {
    const Matrix w = start(8, 4, 20);
    const Matrix zero(4, 20);
    for (Retraction r : all_methods)
        EXPECT_LT(relative_difference(retract(r, w, zero), w), 1e-15) << name(r);
}

// R_W(tξ) = W + tξ + O(t²) for any tangent ξ: halving t divides the defect by 4. For the
// horizontal steps GD takes, polar, Cayley and the geodesic are second-order retractions: their
// defect is −(t²/2) ξξᵀ W + O(t³), normal to the manifold (a symmetric matrix times W); QR's
// O(t²) defect also has a tangent (rotation) part. The ratios are 4(1 + O(t)) with t = 1e-3
// and ‖ξ‖ = 1, the defects ~1e-7 against round-off 1e-16: ±0.02 is ample and still rejects
// a first-order defect (ratio 2) or a third-order one (ratio 8).
TEST(Retraction, EachIsARetractionToSecondOrder) {
    const Matrix w = start(9, 3, 20);
    for (bool horizontal : {false, true}) {
        const Matrix xi = horizontal ? horizontal_at(w, 10) : tangent_at(w, 10);
        for (Retraction r : all_methods) {
            auto defect = [&](double t) {
                Matrix line = w;
                axpy(t, xi, line);
                return difference(retract(r, w, scaled(t, xi)), line);
            };
            const double ratio = frobenius_norm(defect(1e-3)) / frobenius_norm(defect(5e-4));
            EXPECT_NEAR(ratio, 4.0, 0.02) << name(r) << (horizontal ? " horizontal" : " any");
            if (!horizontal || r == Retraction::qr) continue;
            // −(1/2) ξξᵀW, to relative O(t) = 1e-3.
            const Matrix expected =
                scaled(-0.5e-6, multiply(multiply(Op::none, Op::transpose, xi, xi), w));
            EXPECT_LT(relative_difference(defect(1e-3), expected), 5e-3) << name(r);
        }
    }
}

// One step from the same W and ξ: every pair agrees to O(t²). For horizontal ξ the exact
// orders are known: QR against any other differs at O(t²) (a rotation of the frame; the row
// space of QR and polar is even the same), while polar, Cayley and the geodesic share the
// second-order term and part at O(t³), with leading differences c·t³ ξξᵀξ: polar − Cayley
// c = −1/4, polar − geodesic −1/3, Cayley − geodesic −1/12 (Taylor series of (X + tH)
// (I + t²HᵀH)^{-1/2}, of the Cayley transform, and of X cos(tΣ) + U sin(tΣ)). Ratios on
// halving t: 4 or 8 to within O(t) (±0.05); the coefficients to relative O(t) (1e-2).
TEST(Retraction, PairsAgreeToTheirPredictedOrder) {
    const Matrix w = start(11, 3, 20);
    for (bool horizontal : {true, false}) {
        const Matrix xi = horizontal ? horizontal_at(w, 12) : tangent_at(w, 12);
        for (Retraction a : all_methods)
            for (Retraction b : all_methods) {
                if (a >= b) continue;
                auto gap = [&](double t) {
                    return difference(retract(a, w, scaled(t, xi)), retract(b, w, scaled(t, xi)));
                };
                const double ratio = frobenius_norm(gap(1e-3)) / frobenius_norm(gap(5e-4));
                const std::string pair = name(a) + " - " + name(b);
                if (!horizontal) {  // any tangent: O(t²) at least
                    EXPECT_GT(ratio, 4.0 - 0.05) << pair << " any";
                    continue;
                }
                if (a == Retraction::qr) {
                    EXPECT_NEAR(ratio, 4.0, 0.05) << pair;
                    continue;
                }
                EXPECT_NEAR(ratio, 8.0, 0.05) << pair;
                const double c = a == Retraction::polar && b == Retraction::cayley     ? -0.25
                                 : a == Retraction::polar && b == Retraction::geodesic ? -1.0 / 3
                                                                                       : -1.0 / 12;
                const double t = 1e-2;
                const Matrix expected =
                    scaled(c * t * t * t, multiply(multiply(Op::none, Op::transpose, xi, xi), xi));
                EXPECT_LT(relative_difference(gap(t), expected), 2e-2) << pair;
            }
    }
}

// 1000 steps of size |ξ| = 0.3 with a rotation part: round-off must not accumulate beyond 1e-13
// (QR and polar re-orthonormalise by construction; Cayley and the geodesic are orthogonal maps
// of W, so their round-off would add up over the steps without the drift control in
// retraction.cpp).
TEST(Retraction, StaysOnTheManifoldOverManySteps) {
    for (Retraction r : all_methods) {
        Matrix w = start(13, 4, 25);
        double worst = 0.0;
        for (int s = 0; s < 1000; ++s) {
            w = retract(r, w, scaled(0.3, tangent_at(w, static_cast<std::uint64_t>(s))));
            worst = std::max(worst, orthogonality_error(w));
        }
        EXPECT_LT(worst, 1e-13) << name(r);
    }
}

// A step beyond the finite numbers (η = 1e308) is taken as it is, unretracted: the weights come
// back non-finite for the run to fail on (no factorisation is handed them), in row and column
// form alike.
TEST(Retraction, NonFiniteStepIsTakenAsItIs) {
    const Matrix w = start(31, 3, 12);
    Matrix step = horizontal_at(w, 32);
    scale(1e308, step);
    step(1, 4) = std::numeric_limits<double>::infinity();
    for (Retraction method : all_methods) {
        const Matrix rows = retract(method, w, step, Distribution());
        const Matrix columns =
            retract_columns(method, transpose(w), transpose(step), Distribution());
        EXPECT_FALSE(all_finite(rows)) << name(method);
        EXPECT_FALSE(all_finite(columns)) << name(method);
        EXPECT_EQ(rows(1, 4), std::numeric_limits<double>::infinity()) << name(method);
        EXPECT_EQ(rows(0, 0), w(0, 0) + step(0, 0)) << name(method);  // W + ξ, entry by entry
    }
}
