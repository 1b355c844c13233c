// The linear limit (THEORY §4.3): the power-law fit against exact and noisy power laws, and the
// deviation of a wide constrained network at initialisation from its affine model, whose decay
// in h the estimate of THEORY §4.3 predicts.
#include <gtest/gtest.h>

#include <cmath>

#include "model/two_layer_dynamics.hpp"
#include "theory/linear_limit.hpp"

using namespace ssldyn;

TEST(PowerLawFit, ExactAndNoisyData) {
    std::vector<double> x, y, noisy;
    RandomStream stream(3);
    for (double h = 16; h <= 4096; h *= 2) {
        x.push_back(h);
        y.push_back(3.0 * std::pow(h, -1.5));
        noisy.push_back(3.0 * std::pow(h, -1.5) * std::exp(0.05 * stream.normal()));
    }
    const PowerLaw exact = fit_power_law(x, y);
    EXPECT_NEAR(exact.exponent, -1.5, 1e-12);
    EXPECT_NEAR(exact.prefactor, 3.0, 1e-10);
    EXPECT_LT(exact.upper - exact.lower, 1e-10);
    // 5 % log-normal noise over 9 points: the 95 % interval holds the truth and is narrow.
    const PowerLaw fit = fit_power_law(x, noisy);
    EXPECT_LT(fit.lower, -1.5);
    EXPECT_GT(fit.upper, -1.5);
    EXPECT_LT(fit.upper - fit.lower, 0.1);
    EXPECT_THROW(fit_power_law({1.0, 2.0}, {1.0, 2.0}), InputError);
}

// Wide case at initialisation (W₁ with orthonormal columns, u = W₁x of entries ~‖x‖/√h, W₂ a
// random k-frame): with r(u) = σ(u) − σ(0) − σ′(0)u, ‖W₂r‖/‖W₂σ′(0)u‖ ≈ ‖r‖/(σ′(0)‖x‖), which
// THEORY §4.3 estimates as O(‖x‖²/h) for odd σ (tanh: r ≈ −u³/3) and O(‖x‖/√h) when
// σ″(0) ≠ 0 (gelu: r ≈ u²/√(2π)). Over h = 64 … 4096, each point the mean over 8 draws of the
// weights, the fitted exponents must be within 0.1 of −1 and −1/2: the draws' fluctuations
// leave 95 % intervals of ±0.03–0.05 (measured: tanh −0.97 [−1.00, −0.94], gelu −0.53
// [−0.58, −0.49]), and the next terms of the expansion are smaller by ‖x‖²/h ≤ 0.03.
TEST(LinearLimit, DeviationAtInitialisationDecaysAsEstimated) {
    constexpr Index d = 8, k = 4, probes_count = 16;
    constexpr int draws = 8;
    RandomStream data(4);
    const Matrix probes = gaussian_matrix(data, d, probes_count, 0.5);
    for (const auto& [activation, expected] :
         {std::pair{Activation::tanh, -1.0}, std::pair{Activation::gelu, -0.5}}) {
        std::vector<double> widths, deviations;
        for (Index h = 64; h <= 4096; h *= 2) {
            // The mean over 8 draws of the weights, to tame their fluctuations.
            RandomStream stream(10 + static_cast<std::uint64_t>(h));
            const TwoLayerRule rule{true, Retraction::qr, 0.0, 0.0};
            double mean = 0.0;
            for (int draw = 0; draw < draws; ++draw)
                mean += linear_limit_deviation(initial_two_layer_weights(rule, d, h, k, stream),
                                               activation, probes) /
                        draws;
            widths.push_back(static_cast<double>(h));
            deviations.push_back(mean);
        }
        const PowerLaw fit = fit_power_law(widths, deviations);
        EXPECT_NEAR(fit.exponent, expected, 0.1) << name_of(activation_names, activation) << " ["
                                                 << fit.lower << ", " << fit.upper << "]";
    }
}
