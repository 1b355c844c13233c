// Empirical tangent kernels of the two-layer model (THEORY §4.4): the Jacobian against central
// differences of the outputs; the structured Θ and Θ_T against the explicit JJᵀ and
// (JΠ_T)(JΠ_T)ᵀ, and the supervised baseline's against its scaled Jacobian; the tangent kernel:
// equal to Θ without constraints, below it with them (Θ − Θ_T positive semidefinite, Π_T being an
// orthogonal projection), and built from tangent vectors (a kernel row's weights vector is
// tangent to the manifolds).
#include <gtest/gtest.h>

#include <cmath>

#include "linalg/blas.hpp"
#include "linalg/lapack.hpp"
#include "model/supervised.hpp"
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
        const TangentKernels kernels = tangent_kernels(s.w, Activation::tanh, s.probes, true);
        const Matrix j = output_jacobian(s.w, Activation::tanh, s.probes);
        // Both kernels whole (rows 0..m).
        EXPECT_EQ(kernels.full.first, 0);
        EXPECT_EQ(kernels.full.m, p * k);
        ASSERT_EQ(kernels.full.rows.rows(), p * k);
        // Θ − Θ_T = J(I − Π_T)Jᵀ ⪰ 0 and not zero (the constraints remove directions).
        Matrix gap = kernels.full.rows;
        axpy(-1.0, kernels.tangent.rows, gap);
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

// The structured kernels (ntk.hpp: from B, H, Q, V and F, no Jacobian) against the explicit
// J Jᵀ and (JΠ_T)(JΠ_T)ᵀ, for W₁ with orthonormal rows (h < d) and columns (h > d), every
// activation, with and without constraints. Both sum O(h(d + k)) products of O(1) terms, in
// another order: round-off ~1e-15 relative; 1e-12 leaves room for that and catches any term
// wrong or missing (each is O(1) of Θ).
TEST(Ntk, StructuredKernelsEqualTheExplicitOnes) {
    for (const Index h : {Index{3}, Index{9}})
        for (const auto& [activation, name] : activation_names)
            for (const bool constrained : {false, true}) {
                const Probed s = probed(h);
                const TangentKernels kernels =
                    tangent_kernels(s.w, activation, s.probes, constrained);
                const Matrix j = output_jacobian(s.w, activation, s.probes);
                const Matrix jp = constrained ? project_jacobian(s.w, j) : j;
                const std::string label = std::string(name) + ", h = " + std::to_string(h) +
                                          (constrained ? ", constrained" : "");
                EXPECT_LT(
                    relative_change(kernels.full.rows, multiply(Op::none, Op::transpose, j, j)),
                    1e-12)
                    << label;
                EXPECT_LT(relative_change(kernels.tangent.rows,
                                          multiply(Op::none, Op::transpose, jp, jp)),
                          1e-12)
                    << label;
            }
}

// The supervised baseline's kernel (NTK parametrisation, N(0, 1) weights) against the explicit
// formula it had before: J of the plain network at (d^{-1/2}W₁, h^{-1/2}W₂), its W₁ columns
// scaled by d^{-1/2} and its W₂ columns by h^{-1/2}, then J Jᵀ. 1e-12 as above.
TEST(Ntk, SupervisedKernelIsTheScaledJacobians) {
    for (const Index h : {Index{3}, Index{9}})
        for (const auto& [activation, name] : activation_names) {
            RandomStream stream(22);
            const TwoLayerWeights w = ntk_initial_weights(d, h, k, stream);
            const Matrix probes = gaussian_matrix(stream, d, p);
            const double a = 1.0 / std::sqrt(double(d)), b = 1.0 / std::sqrt(double(h));
            TwoLayerWeights scaled = w;
            scale(a, scaled.w1);
            scale(b, scaled.w2);
            Matrix j = output_jacobian(scaled, activation, probes);
            scale(a, j.columns(0, h * d));
            scale(b, j.columns(h * d, k * h));
            const KernelRows kernel = ntk_kernel(w, activation, probes);
            EXPECT_LT(relative_change(kernel.rows, multiply(Op::none, Op::transpose, j, j)), 1e-12)
                << name << ", h = " << h;
        }
}
