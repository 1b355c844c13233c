// The two-layer model's loss and gradients (THEORY §2–3): every activation, both losses and both
// layers against central finite differences of the loss, the identity activation against the
// linear model's data path through the chain rule, and each activation's derivative against
// finite differences of the activation.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>
#include <utility>

#include "data/spiked.hpp"
#include "linalg/blas.hpp"
#include "loss/loss.hpp"
#include "loss/objective.hpp"
#include "model/two_layer.hpp"

using namespace ssldyn;

namespace {

constexpr Index d = 5, h = 7, k = 3, n = 40;

Views make_views() {
    const SpikedCovariance spiked(d, {4.0, 2.0}, 0.5, true, 3);
    RandomStream stream(4);
    return Views(spiked.sample(n, stream), Augmentation{0.3, 1.0}, true, 9, 1);
}

TwoLayerWeights make_weights() {
    RandomStream stream(12);
    return {gaussian_matrix(stream, h, d, 1.0 / std::sqrt(double(d))),
            gaussian_matrix(stream, k, h, 1.0 / std::sqrt(double(h)))};
}

// The largest entry error of got, relative to want's largest entry.
double worst(const Matrix& got, const Matrix& want) {
    double scale = 0.0, error = 0.0;
    for (Index i = 0; i < want.size(); ++i) {
        scale = std::max(scale, std::fabs(want.data()[i]));
        error = std::max(error, std::fabs(got.data()[i] - want.data()[i]));
    }
    return error / scale;
}

// 2n = 600 samples and h = 1100 units: one whole block of 1024 units and a part.
struct WideNetwork {
    static constexpr Index n = 300, h = 1100;
    RandomStream stream{5};
    const Views views{SpikedCovariance(d, {4.0, 2.0}, 0.5, true, 3).sample(n, stream),
                      Augmentation{0.3, 1.0}, true, 9, 1};
    const TwoLayerWeights w{gaussian_matrix(stream, h, d, 1.0 / std::sqrt(double(d))),
                            gaussian_matrix(stream, k, h, 1.0 / std::sqrt(double(h)))};
};

class Gradients : public ::testing::TestWithParam<std::tuple<Activation, Loss>> {};

}  // namespace

// Central differences with step δ = 1e-5 on entries of size ~0.4: truncation δ²|L‴|/6 ~ 1e-11
// and round-off u|L|/δ ~ 1e-11, so 1e-8 relative to max(1, |g|) holds with room; relu's kinks
// are never within δ of a pre-activation for these weights (checked by the result itself: a
// kink crossed would show as an O(1) error).
TEST_P(Gradients, MatchCentralFiniteDifferences) {
    const auto [activation, loss] = GetParam();
    const Views views = make_views();
    const TwoLayerObjective objective(views, loss, activation);
    TwoLayerWeights w = make_weights();
    const TwoLayerGradient g = objective.evaluate(w);
    EXPECT_DOUBLE_EQ(g.loss, objective.loss(w));
    const double delta = 1e-5;
    auto check_layer = [&](Matrix& layer, const Matrix& gradient, const char* name) {
        double worst = 0.0;
        for (Index j = 0; j < layer.cols(); ++j)
            for (Index i = 0; i < layer.rows(); ++i) {
                const double keep = layer(i, j);
                layer(i, j) = keep + delta;
                const double up = objective.loss(w);
                layer(i, j) = keep - delta;
                const double down = objective.loss(w);
                layer(i, j) = keep;
                const double fd = (up - down) / (2.0 * delta);
                worst = std::max(worst, std::fabs(fd - gradient(i, j)) /
                                            std::max(1.0, std::fabs(gradient(i, j))));
            }
        EXPECT_LT(worst, 1e-8) << name;
    };
    check_layer(w.w1, g.w1, "W1");
    check_layer(w.w2, g.w2, "W2");
}

INSTANTIATE_TEST_SUITE_P(
    ActivationsAndLosses, Gradients,
    ::testing::Combine(::testing::Values(Activation::identity, Activation::tanh, Activation::erf,
                                         Activation::gelu, Activation::softplus, Activation::relu),
                       ::testing::Values(Loss::noncontrastive, Loss::contrastive)),
    [](const auto& test) {
        return std::string(name_of(activation_names, std::get<0>(test.param))) + "_" +
               std::string(name_of(loss_names, std::get<1>(test.param)));
    });

// σ = identity is the linear model W = W₂W₁: L equal, ∂L/∂W₁ = W₂ᵀ∇L(W), ∂L/∂W₂ = ∇L(W)W₁ᵀ with
// ∇L from the linear data path, products of 5–7 terms in another order: 1e-13 relative.
TEST(TwoLayer, IdentityActivationIsTheLinearModelThroughTheChainRule) {
    const Views views = make_views();
    const TwoLayerWeights w = make_weights();
    for (Loss loss : {Loss::noncontrastive, Loss::contrastive}) {
        const TwoLayerGradient g = TwoLayerObjective(views, loss, Activation::identity).evaluate(w);
        const LossGradient linear = DataObjective(views, loss).evaluate(multiply(w.w2, w.w1));
        EXPECT_NEAR(g.loss, linear.loss, 1e-13 * std::fabs(linear.loss));
        const Matrix w1 = multiply(Op::transpose, Op::none, w.w2, linear.gradient);
        const Matrix w2 = multiply(Op::none, Op::transpose, linear.gradient, w.w1);
        for (Index j = 0; j < d; ++j)
            for (Index i = 0; i < h; ++i) EXPECT_NEAR(g.w1(i, j), w1(i, j), 1e-13);
        for (Index j = 0; j < h; ++j)
            for (Index i = 0; i < k; ++i) EXPECT_NEAR(g.w2(i, j), w2(i, j), 1e-13);
    }
}

// σ′ against central differences of σ away from relu's kink (δ = 1e-6: error ~1e-10), and the
// values at 0 that decide the linear limit (THEORY §4.3).
TEST(Activations, DerivativesAndValuesAtZero) {
    for (const auto& [activation, name] : activation_names) {
        for (double u : {-2.3, -0.7, -0.05, 0.3, 1.1, 3.4}) {
            const double delta = 1e-6;
            const double fd =
                (activate(activation, u + delta) - activate(activation, u - delta)) / (2.0 * delta);
            EXPECT_NEAR(activate_derivative(activation, u), fd, 1e-9) << name << " at " << u;
        }
    }
    EXPECT_EQ(activate(Activation::tanh, 0.0), 0.0);
    EXPECT_EQ(activate(Activation::erf, 0.0), 0.0);
    EXPECT_EQ(activate(Activation::gelu, 0.0), 0.0);
    EXPECT_DOUBLE_EQ(activate(Activation::softplus, 0.0), std::log(2.0));
    EXPECT_DOUBLE_EQ(activate_derivative(Activation::gelu, 0.0), 0.5);
    EXPECT_DOUBLE_EQ(activate_derivative(Activation::softplus, 0.0), 0.5);
    EXPECT_DOUBLE_EQ(activate_derivative(Activation::erf, 0.0), 2.0 / std::sqrt(M_PI));
    // No overflow far out.
    EXPECT_DOUBLE_EQ(activate(Activation::softplus, 800.0), 800.0);
    EXPECT_DOUBLE_EQ(activate_derivative(Activation::softplus, -800.0), 0.0);
    EXPECT_DOUBLE_EQ(activate(Activation::gelu, -40.0), 0.0);
}

// Back-propagation takes σ′ from σ where it can (slope_from_value), reuses its buffers, runs the
// products with the activity in blocks of 1024 units (h = 1100: a whole block and a part) and
// the elementwise passes on column ranges over the BLAS threads (model/two_layer.cpp); against
// the whole-matrix formulas with σ and σ′ entry by entry from the scalar functions, for every
// activation and two affine parts: ∇W₂ = (∂L/∂F)ᵀσ(Uᵀ), ∇W₁ = ((∂L/∂F)W₂ ∘ σ′(Uᵀ))ᵀSᵀ. The same
// sums; σ′ from σ (softplus: 1 − e^{−σ} against the logistic function) and the vector tanh
// (4 ulp) differ in the last bits: 1e-12 of the largest entry.
TEST(TwoLayer, BackPropagationEqualsTheWholeMatrixFormulas) {
    const WideNetwork net;
    const Views& views = net.views;
    const TwoLayerWeights& w = net.w;
    const ConstView s = views.stacked(views_used(Loss::noncontrastive));
    const Matrix u = multiply(Op::transpose, Op::transpose, s, w.w1);  // 2n x h
    for (const Nonlinearity units :
         {Nonlinearity(Activation::identity), Nonlinearity(Activation::tanh),
          Nonlinearity(Activation::erf), Nonlinearity(Activation::gelu),
          Nonlinearity(Activation::softplus), Nonlinearity(Activation::relu),
          Nonlinearity(Activation::relu, true), Nonlinearity(Activation::softplus, true)}) {
        const Linearisation affine = linearisation(units.activation);
        Matrix a(u.rows(), u.cols()), slope(u.rows(), u.cols());
        for (Index i = 0; i < u.size(); ++i) {
            const double x = u.data()[i];
            a.data()[i] =
                units.linearised ? affine.offset + affine.slope * x : activate(units.activation, x);
            slope.data()[i] =
                units.linearised ? affine.slope : activate_derivative(units.activation, x);
        }
        const Matrix f = multiply(Op::none, Op::transpose, a, w.w2);
        const Matrix back_f = batch_loss_gradient(f, WideNetwork::n, Loss::noncontrastive);
        const double scale_back = -1.0 / double(WideNetwork::n);
        Matrix w2(k, WideNetwork::h), back(u.rows(), u.cols()), w1(WideNetwork::h, d);
        gemm(Op::transpose, Op::none, scale_back, back_f, a, 0.0, w2);
        gemm(Op::none, Op::none, scale_back, back_f, w.w2, 0.0, back);
        for (Index i = 0; i < back.size(); ++i) back.data()[i] *= slope.data()[i];
        gemm(Op::transpose, Op::transpose, 1.0, back, s, 0.0, w1);

        const TwoLayerObjective objective(views, Loss::noncontrastive, units);
        const TwoLayerGradient g = objective.evaluate(w);
        const std::string name = std::string(name_of(activation_names, units.activation)) +
                                 (units.linearised ? " (affine part)" : "");
        EXPECT_NEAR(g.loss, batch_loss(f, WideNetwork::n, Loss::noncontrastive),
                    1e-12 * std::fabs(g.loss))
            << name;
        EXPECT_LT(worst(g.w2, w2), 1e-12) << name;
        EXPECT_LT(worst(g.w1, w1), 1e-12) << name;
    }
}

// The elementwise passes split over three threads (the tests run with one BLAS thread) give the
// one-thread gradient: each entry is computed alone, and the products are the same calls, so
// only a BLAS that splits its sums by threads could differ (1e-14 relative). A second evaluation
// on the kept buffers gives the first's gradient bit for bit.
TEST(TwoLayer, ElementwisePassesOnSeveralThreadsAndReusedBuffers) {
    const Views views = make_views();
    const TwoLayerWeights w = make_weights();
    const int threads = blas_threads();
    for (Activation activation : {Activation::tanh, Activation::gelu}) {
        set_blas_threads(1);
        const TwoLayerGradient one =
            TwoLayerObjective(views, Loss::contrastive, activation).evaluate(w);
        set_blas_threads(3);
        const TwoLayerObjective objective(views, Loss::contrastive, activation);
        const TwoLayerGradient first = objective.evaluate(w);
        const TwoLayerGradient again = objective.evaluate(w);
        set_blas_threads(threads);
        const std::string name(name_of(activation_names, activation));
        for (const auto& [got, want] :
             {std::pair{&first.w1, &one.w1}, std::pair{&first.w2, &one.w2}})
            for (Index i = 0; i < want->size(); ++i)
                EXPECT_NEAR(got->data()[i], want->data()[i],
                            1e-14 * (1.0 + std::fabs(want->data()[i])))
                    << name;
        for (Index i = 0; i < first.w1.size(); ++i)
            EXPECT_EQ(again.w1.data()[i], first.w1.data()[i]) << name;
        for (Index i = 0; i < first.w2.size(); ++i)
            EXPECT_EQ(again.w2.data()[i], first.w2.data()[i]) << name;
        EXPECT_EQ(again.loss, first.loss) << name;
    }
}

// The float32 passes (model/precision.hpp) against float64 on the same weights, across unit
// blocks (h = 1100) and for σ′ kept (gelu) or taken from σ (tanh, relu, an affine part). Every
// entry is a float sum of at most K = 1100 rounded terms: its error is at most γ_K ≈ K·u = 7e-5
// of the sum of their magnitudes, so 1e-4 of the largest entry (measured: 3e-7 to 6e-7). It must
// differ from float64 too (> 1e-9), or the float path was not taken.
TEST(TwoLayer, Float32PassesMatchFloat64ToSingleRounding) {
    const WideNetwork net;
    const Views& views = net.views;
    const TwoLayerWeights& w = net.w;
    for (const Nonlinearity units :
         {Nonlinearity(Activation::tanh), Nonlinearity(Activation::gelu),
          Nonlinearity(Activation::relu), Nonlinearity(Activation::softplus, true)}) {
        const std::string name = std::string(name_of(activation_names, units.activation)) +
                                 (units.linearised ? " (affine part)" : "");
        const TwoLayerGradient exact =
            TwoLayerObjective(views, Loss::contrastive, units).evaluate(w);
        const TwoLayerObjective single(views, Loss::contrastive, units, Precision::float32);
        const TwoLayerGradient rounded = single.evaluate(w);
        EXPECT_NEAR(rounded.loss, exact.loss, 1e-4 * std::fabs(exact.loss)) << name;
        EXPECT_NEAR(single.loss(w), rounded.loss, 1e-12 * std::fabs(exact.loss)) << name;
        for (const auto& [got, want] :
             {std::pair{&rounded.w1, &exact.w1}, std::pair{&rounded.w2, &exact.w2}}) {
            const double error = worst(*got, *want);
            EXPECT_LT(error, 1e-4) << name;
            EXPECT_GT(error, 1e-9) << name;
        }
    }
}
