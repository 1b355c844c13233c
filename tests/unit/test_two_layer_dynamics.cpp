// Gradient descent of the two-layer model with both layers constrained by shape (THEORY §4.3):
// the constraints held to round-off over many steps with every retraction, narrow (h < d, W₁
// with orthonormal rows) and wide (h > d, orthonormal columns); the first-order loss change of
// a small step equal to −η⟨∇L, grad L⟩ with grad L the Stiefel gradient computed here
// independently (a Grassmann projection, or none, would give another value).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
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

bool same_bits(const Matrix& a, const Matrix& b) {
    return a.rows() == b.rows() && a.cols() == b.cols() &&
           std::memcmp(a.data(), b.data(), sizeof(double) * static_cast<std::size_t>(a.size())) ==
               0;
}

double largest_difference(const Matrix& a, const Matrix& b) {
    double largest = 0.0;
    for (Index i = 0; i < a.size(); ++i)
        largest = std::max(largest, std::fabs(a.data()[i] - b.data()[i]));
    return largest;
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

// `auto` is resolved for each layer by its orthonormal vectors (resolve: polar up to 32, QR
// beyond): W₁ h x d has min(h, d) of them, W₂ k x h has min(k, h). Explicit methods stand.
TEST(TwoLayerDynamics, AutoIsResolvedForEachLayerByItsShape) {
    struct Case {
        Index d, h, k;
        Retraction w1, w2;
    };
    for (const Case& c : {Case{64, 48, 4, Retraction::qr, Retraction::polar},     // rows, 48
                          Case{40, 64, 4, Retraction::qr, Retraction::polar},     // columns, 40
                          Case{16, 64, 4, Retraction::polar, Retraction::polar},  // columns, 16
                          Case{64, 48, 40, Retraction::qr, Retraction::qr},
                          Case{6, 4, 2, Retraction::polar, Retraction::polar}}) {
        const LayerRetractions used = resolve_layers(Retraction::automatic, c.d, c.h, c.k);
        EXPECT_EQ(used.w1, c.w1) << c.d << " " << c.h << " " << c.k;
        EXPECT_EQ(used.w2, c.w2) << c.d << " " << c.h << " " << c.k;
        const LayerRetractions kept =
            resolve_layers({Retraction::cayley, Retraction::geodesic}, c.d, c.h, c.k);
        EXPECT_EQ(kept.w1, Retraction::cayley);
        EXPECT_EQ(kept.w2, Retraction::geodesic);
    }
}

// What `auto` runs is what resolve_layers says: the initial weights and two steps with `auto`
// equal, bit for bit, those with the resolved methods given per layer (QR for W₁, polar for
// W₂), narrow and wide; with polar forced on W₁ they differ: the initial W₁ by O(1) (another
// orthonormal basis of the same rows), and the stepped W₁ (from the same start) by the
// O(η²|∇L|²) rotation between the QR and polar factors (measured: 4e-5 and 1e-4 of the largest
// entry), far above round-off: 1e-6 required.
TEST(TwoLayerDynamics, AutoRunsTheMethodsItResolvesTo) {
    struct Shape {
        Index d, h;
    };
    for (const Shape s : {Shape{64, 48}, Shape{40, 64}}) {
        constexpr Index outputs = 4;
        const SpikedCovariance spiked(s.d, {4.0, 3.0, 2.0}, 0.5, true, 11);
        RandomStream data(12);
        const Views views(spiked.sample(80, data), Augmentation{0.3, 1.0}, true, 2, 1);
        const TwoLayerObjective objective(views, Loss::noncontrastive, Activation::tanh);
        const TwoLayerRule automatic{true, Retraction::automatic, 0.05, 0.0};
        const TwoLayerRule resolved{true, {Retraction::qr, Retraction::polar}, 0.05, 0.0};
        const TwoLayerRule polar{true, Retraction::polar, 0.05, 0.0};
        const std::string shape = std::to_string(s.d) + " x " + std::to_string(s.h);

        RandomStream stream_a(13), stream_b(13), stream_c(13);
        TwoLayerWeights a = initial_two_layer_weights(automatic, s.d, s.h, outputs, stream_a);
        TwoLayerWeights b = initial_two_layer_weights(resolved, s.d, s.h, outputs, stream_b);
        const TwoLayerWeights c = initial_two_layer_weights(polar, s.d, s.h, outputs, stream_c);
        EXPECT_TRUE(same_bits(a.w1, b.w1) && same_bits(a.w2, b.w2)) << shape;
        EXPECT_GT(largest_difference(a.w1, c.w1), 0.1) << shape;
        EXPECT_TRUE(same_bits(a.w2, c.w2)) << shape;  // W₂ takes polar either way

        TwoLayerWeights forced = a;
        for (int step = 0; step < 2; ++step) {
            two_layer_step(automatic, objective, a);
            two_layer_step(resolved, objective, b);
        }
        EXPECT_TRUE(same_bits(a.w1, b.w1) && same_bits(a.w2, b.w2)) << shape;
        TwoLayerWeights once = forced;
        two_layer_step(automatic, objective, once);
        two_layer_step(polar, objective, forced);
        EXPECT_GT(largest_difference(once.w1, forced.w1), 1e-6) << shape;
    }
}
