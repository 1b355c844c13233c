// Gradient descent of the two-layer model with both layers constrained by shape (THEORY §4.3):
// the constraints held to round-off over many steps with every retraction, narrow (h < d, W₁
// with orthonormal rows) and wide (h > d, orthonormal columns); the first-order loss change of
// a small step equal to −η⟨∇L, grad L⟩ with grad L the Stiefel gradient computed here
// independently (a Grassmann projection, or none, would give another value).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <tuple>

#include "data/spiked.hpp"
#include "linalg/blas.hpp"
#include "model/two_layer_dynamics.hpp"

using namespace ssldyn;

namespace {

constexpr Index d = 6, k = 2, n = 60;

Views make_views() {
    const SpikedCovariance spiked(d, {4.0, 3.0, 2.0}, 0.5, true, 5);
    RandomStream stream(6);
    return Views(spiked.sample(n, stream), Augmentation{0.3, 1.0}, true, 2, 1);
}

// ∇L − sym(∇L Wᵀ) W for orthonormal rows, the same on the transpose for orthonormal columns.
Matrix expected_stiefel_gradient(const Matrix& gradient, const Matrix& w) {
    const bool rows = w.rows() <= w.cols();
    const Matrix g = rows ? gradient : transpose(gradient), x = rows ? w : transpose(w);
    const Matrix a = multiply(Op::none, Op::transpose, g, x);
    Matrix sym = a;
    axpy(1.0, transpose(a), sym);
    scale(0.5, sym);
    Matrix out = g;
    gemm(Op::none, Op::none, -1.0, sym, x, 1.0, out);
    return rows ? out : transpose(out);
}

double inner(const Matrix& a, const Matrix& b) {
    double s = 0.0;
    for (Index j = 0; j < a.cols(); ++j)
        for (Index i = 0; i < a.rows(); ++i) s += a(i, j) * b(i, j);
    return s;
}

class ByShapeAndRetraction : public ::testing::TestWithParam<std::tuple<Index, Retraction>> {};

}  // namespace

// After 300 steps each layer is orthonormal to a few ulps per step's retraction (QR and polar
// project; Cayley and the geodesic correct their drift): 1e-12 bounds k·h·u with room. The loss
// goes down (η = 0.02 is small against the curvature here).
TEST_P(ByShapeAndRetraction, ConstraintsHoldAndTheLossFalls) {
    const auto [h, retraction] = GetParam();
    const Views views = make_views();
    const TwoLayerObjective objective(views, Loss::noncontrastive, Activation::tanh);
    const TwoLayerRule rule{true, retraction, 0.02, 0.0};
    RandomStream stream(7);
    TwoLayerWeights w = initial_two_layer_weights(rule, d, h, k, stream);
    EXPECT_LT(layer_orthogonality_error(w.w1), 1e-13);
    EXPECT_LT(layer_orthogonality_error(w.w2), 1e-13);
    const double first = objective.loss(w);
    for (int step = 0; step < 300; ++step) two_layer_step(rule, objective, w);
    EXPECT_LT(layer_orthogonality_error(w.w1), 1e-12);
    EXPECT_LT(layer_orthogonality_error(w.w2), 1e-12);
    EXPECT_LT(objective.loss(w), first - 0.1 * std::fabs(first));
}

INSTANTIATE_TEST_SUITE_P(NarrowAndWide, ByShapeAndRetraction,
                         ::testing::Combine(::testing::Values(Index{4}, Index{12}),
                                            ::testing::Values(Retraction::qr, Retraction::polar,
                                                              Retraction::cayley,
                                                              Retraction::geodesic)),
                         [](const auto& test) {
                             return "h" + std::to_string(std::get<0>(test.param)) + "_" +
                                    std::string(name_of(retraction_names, std::get<1>(test.param)));
                         });

// A step of η = 1e-6 changes the loss by −η⟨∇L, grad L⟩ + O(η²): the ratio is 1 to ~1e-5.
TEST(TwoLayerDynamics, SmallStepFollowsTheStiefelGradient) {
    const Views views = make_views();
    for (Index h : {Index{4}, Index{12}}) {
        const TwoLayerObjective objective(views, Loss::contrastive, Activation::gelu);
        const TwoLayerRule rule{true, Retraction::qr, 1e-6, 0.0};
        RandomStream stream(8);
        TwoLayerWeights w = initial_two_layer_weights(rule, d, h, k, stream);
        const TwoLayerGradient g = objective.evaluate(w);
        const double predicted = -rule.eta * (inner(g.w1, expected_stiefel_gradient(g.w1, w.w1)) +
                                              inner(g.w2, expected_stiefel_gradient(g.w2, w.w2)));
        two_layer_step(rule, objective, w);
        const double change = objective.loss(w) - g.loss;
        EXPECT_NEAR(change / predicted, 1.0, 1e-4) << "h = " << h;
    }
}

// Naive GD with weight decay: one step is W − η(∇L + 2λW) on each layer, and no constraint.
TEST(TwoLayerDynamics, NaiveStepIsPlainGradientDescent) {
    const Views views = make_views();
    const TwoLayerObjective objective(views, Loss::noncontrastive, Activation::softplus);
    const TwoLayerRule rule{false, Retraction::automatic, 0.01, 0.3};
    RandomStream stream(9);
    TwoLayerWeights w = initial_two_layer_weights(rule, d, 8, k, stream);
    EXPECT_GT(layer_orthogonality_error(w.w1), 0.1);  // Gaussian, not put on a manifold
    const TwoLayerWeights before = w;
    const TwoLayerGradient g = objective.evaluate(w);
    two_layer_step(rule, objective, w);
    for (Index j = 0; j < d; ++j)
        for (Index i = 0; i < 8; ++i)
            EXPECT_DOUBLE_EQ(w.w1(i, j),
                             before.w1(i, j) - 0.01 * (g.w1(i, j) + 0.6 * before.w1(i, j)));
}
