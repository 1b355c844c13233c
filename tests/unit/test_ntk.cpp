// Empirical tangent kernels of the two-layer model (THEORY §4.4): the Jacobian against central
// differences of the outputs, Θ = JJᵀ, and the tangent kernel: equal to Θ without constraints,
// below it with them (Θ − Θ_T positive semidefinite, Π_T being an orthogonal projection), and
// built from tangent vectors (a kernel row's weights vector is tangent to the manifolds).
#include <gtest/gtest.h>

#include <cmath>

#include "linalg/blas.hpp"
#include "linalg/lapack.hpp"
#include "model/two_layer_dynamics.hpp"
#include "theory/ntk.hpp"

using namespace ssldyn;

namespace {

constexpr Index d = 5, k = 2, p = 4;

struct Probed {
    TwoLayerWeights w;
    Matrix probes;
};

Probed probed(Index h) {
    RandomStream stream(21);
    const TwoLayerRule rule{true, Retraction::qr, 0.0, 0.0};
    return {initial_two_layer_weights(rule, d, h, k, stream), gaussian_matrix(stream, d, p)};
}

}  // namespace

// Central differences, step 1e-6 on O(1) outputs: error ~1e-10; 1e-8 bound.
TEST(Ntk, JacobianMatchesFiniteDifferences) {
    for (Activation activation : {Activation::tanh, Activation::gelu, Activation::identity}) {
        Probed s = probed(7);
        const Matrix j = output_jacobian(s.w, activation, s.probes);
        ASSERT_EQ(j.rows(), p * k);
        ASSERT_EQ(j.cols(), 7 * d + k * 7);
        const double delta = 1e-6;
        double worst = 0.0;
        auto column = [&](Matrix& layer, Index offset) {
            for (Index entry = 0; entry < layer.size(); ++entry) {
                const double keep = layer.data()[entry];
                layer.data()[entry] = keep + delta;
                const Matrix up = two_layer_outputs(s.w, activation, s.probes);
                layer.data()[entry] = keep - delta;
                const Matrix down = two_layer_outputs(s.w, activation, s.probes);
                layer.data()[entry] = keep;
                for (Index i = 0; i < p; ++i)
                    for (Index a = 0; a < k; ++a) {
                        const double fd = (up(a, i) - down(a, i)) / (2 * delta);
                        worst = std::max(worst, std::fabs(fd - j(i * k + a, offset + entry)));
                    }
            }
        };
        column(s.w.w1, 0);
        column(s.w.w2, s.w.w1.size());
        EXPECT_LT(worst, 1e-8) << name_of(activation_names, activation);
    }
}

TEST(Ntk, TangentKernelIsTheProjectedOne) {
    for (Index h : {Index{3}, Index{9}}) {  // W₁ with orthonormal rows, then columns
        const Probed s = probed(h);
        const TangentKernels free = tangent_kernels(s.w, Activation::tanh, s.probes, false);
        const TangentKernels kernels = tangent_kernels(s.w, Activation::tanh, s.probes, true);
        const Matrix j = output_jacobian(s.w, Activation::tanh, s.probes);
        // Θ = JJᵀ (the same dsyrk: exactly), and unconstrained Θ_T = Θ.
        EXPECT_EQ(relative_change(free.tangent, free.full), 0.0);
        EXPECT_LT(relative_change(kernels.full, multiply(Op::none, Op::transpose, j, j)), 1e-14);
        // Θ − Θ_T = J(I − Π_T)Jᵀ ⪰ 0 and not zero (the constraints remove directions).
        Matrix gap = kernels.full;
        axpy(-1.0, kernels.tangent, gap);
        const std::vector<double> values = symmetric_eigen(gap).values;
        EXPECT_GT(values.back(), -1e-12 * values.front()) << "h = " << h;
        EXPECT_GT(values.front(), 1e-3) << "h = " << h;
        // Θ_T(r, r) = ‖Π_T ∇f_r‖², and Π_T ∇f_r is tangent: its W₂ part ξ has sym(ξW₂ᵀ) = 0.
        Matrix g2(k, h);
        for (Index col = 0; col < k * h; ++col) g2.data()[col] = j(0, h * d + col);
        const Matrix xi = stiefel_gradient(g2, s.w.w2);
        const Matrix xiwt = multiply(Op::none, Op::transpose, xi, s.w.w2);
        for (Index b = 0; b < k; ++b)
            for (Index a = 0; a < k; ++a) EXPECT_NEAR(xiwt(a, b) + xiwt(b, a), 0.0, 1e-14);
    }
}
