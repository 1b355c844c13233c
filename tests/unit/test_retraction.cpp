// Retractions onto the Stiefel manifold (THEORY §4.2).
#include <gtest/gtest.h>

#include <cmath>

#include "metrics/metrics.hpp"
#include "optim/retraction.hpp"
#include "test_support.hpp"

using namespace ssldyn;

namespace {

double orthogonality_error(const Matrix& w) {
    Matrix g = multiply(Op::none, Op::transpose, w, w);
    for (Index i = 0; i < g.rows(); ++i) g(i, i) -= 1.0;
    return frobenius_norm(g);
}

Matrix tangent_at(const Matrix& w, std::uint64_t seed) {  // ξ(I − WᵀW)
    RandomStream stream(seed);
    Matrix xi = gaussian_matrix(stream, w.rows(), w.cols());
    const Matrix xwt = multiply(Op::none, Op::transpose, xi, w);
    gemm(Op::none, Op::none, -1.0, xwt, w, 1.0, xi);
    return xi;
}

}  // namespace

TEST(Retraction, NamesRoundTrip) {
    for (const auto& [value, name] : retraction_names)
        EXPECT_EQ(parse_name(retraction_names, name, "retraction"), value);
    EXPECT_THROW(parse_name(retraction_names, "cayley?", "retraction"), InputError);
    EXPECT_EQ(resolve(Retraction::automatic, 8, 100), Retraction::polar);
    EXPECT_EQ(resolve(Retraction::automatic, 64, 100), Retraction::qr);
    EXPECT_EQ(resolve(Retraction::qr, 8, 100), Retraction::qr);
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
    EXPECT_LT(ssldyn::support::relative_difference(retract_qr(w), w), 1e-14);
}

TEST(Retraction, PolarIsTheClosestOrthonormalMatrix) {
    RandomStream stream(2);
    const Matrix z = gaussian_matrix(stream, 4, 30);
    const Matrix w = retract_polar(z);
    EXPECT_LT(orthogonality_error(w), 1e-14);
    // Independent formula: (Z Zᵀ)^{-1/2} Z via the eigendecomposition of the Gram matrix.
    const SymmetricEigen e = symmetric_eigen(multiply(Op::none, Op::transpose, z, z));
    Matrix scaled = e.vectors;
    for (Index j = 0; j < 4; ++j)
        for (Index i = 0; i < 4; ++i)
            scaled(i, j) /= std::sqrt(e.values[static_cast<std::size_t>(j)]);
    const Matrix inverse_root = multiply(Op::none, Op::transpose, scaled, e.vectors);
    EXPECT_LT(ssldyn::support::relative_difference(w, multiply(inverse_root, z)), 1e-13);
}

TEST(Retraction, BothAreRetractionsToSecondOrder) {
    RandomStream stream(3);
    const Matrix w = retract_qr(gaussian_matrix(stream, 3, 20));
    const Matrix xi = tangent_at(w, 4);
    for (Retraction method : {Retraction::qr, Retraction::polar}) {
        // ‖R(W + tξ) − (W + tξ)‖ = O(t²): halving t divides it by about 4.
        auto defect = [&](double t) {
            Matrix step = w;
            axpy(t, xi, step);
            return ssldyn::support::relative_difference(retract(method, step), step);
        };
        const double ratio = defect(1e-3) / defect(5e-4);
        EXPECT_NEAR(ratio, 4.0, 0.1) << name_of(retraction_names, method);
    }
}

TEST(Retraction, StaysOnTheManifoldOverManySteps) {
    RandomStream stream(5);
    for (Retraction method : {Retraction::qr, Retraction::polar}) {
        Matrix w = retract_qr(gaussian_matrix(stream, 4, 25));
        for (int s = 0; s < 1000; ++s) {
            axpy(0.05, tangent_at(w, static_cast<std::uint64_t>(s)), w);
            w = retract(method, w);
        }
        EXPECT_LT(orthogonality_error(w), 1e-13);
    }
}
