// Each closed-form flow (THEORY §4.1–4.2) against an independent RK4 integration of its ODE.
#include <gtest/gtest.h>

#include <cmath>

#include "metrics/metrics.hpp"
#include "test_support.hpp"
#include "theory/closed_form.hpp"

using namespace ssldyn;
using ssldyn::support::rk4;

namespace {

// Distinct eigenvalues, some negative (as C_c has), d = 8.
const std::vector<double> spectrum{3.0, 2.2, 1.5, 0.9, 0.4, 0.1, -0.3, -0.6};

struct Fixture {
    Matrix c = ssldyn::support::symmetric_with_spectrum(spectrum, 3);
    SymmetricEigen eigen = symmetric_eigen(c);
    Matrix w0;
    explicit Fixture(Dynamics dynamics) {
        RandomStream stream(5);
        w0 = initial_weights({dynamics, Retraction::qr, 0.0, 0.0},
                             gaussian_matrix(stream, 3, 8, 1.0 / std::sqrt(8.0)));
    }
};

// RK4 with h = 1e-3 on these rates (|2λ| ≤ 6): local error ~ (6h)⁵ ~ 1e-11 per step, so the
// global error stays near 1e-9 over t ≤ 2; 1e-8 leaves room for the growth of the naive flow.
constexpr double rk4_tolerance = 1e-8;
const double times[] = {0.1, 0.5, 1.0, 2.0};

}  // namespace

TEST(ClosedForm, EigenvaluesSortedDescending) {
    Fixture f(Dynamics::naive);
    for (std::size_t i = 0; i < spectrum.size(); ++i)
        EXPECT_NEAR(f.eigen.values[i], spectrum[i], 1e-13);
}

TEST(ClosedForm, WeightDecayFlowMatchesRk4) {
    Fixture f(Dynamics::naive);
    const double lambda = 0.7;
    const ClosedFormFlow flow(f.eigen, f.w0, Dynamics::naive, lambda);
    auto rhs = [&](const Matrix& w) {  // dW/dt = 2W(C − λI)
        Matrix out = multiply(w, f.c);
        axpy(-lambda, w, out);
        scale(2.0, out);
        return out;
    };
    for (double t : times) {
        const Matrix reference =
            eigen_coordinates(rk4(rhs, f.w0, t, static_cast<int>(t / 1e-3)), f.eigen);
        const FlowPoint p = flow.at(t);
        EXPECT_LT(relative_distance(p.rows, p.log_scale, reference, 0.0), rk4_tolerance)
            << "t = " << t;
    }
}

TEST(ClosedForm, SphereFlowMatchesRk4) {
    Fixture f(Dynamics::sphere);
    const ClosedFormFlow flow(f.eigen, f.w0, Dynamics::sphere, 0.0);
    auto rhs = [&](const Matrix& w) {  // Riemannian gradient flow on ‖W‖_F = 1
        Matrix out = multiply(w, f.c);
        double trace = 0.0;
        for (Index j = 0; j < w.cols(); ++j)
            for (Index i = 0; i < w.rows(); ++i) trace += out(i, j) * w(i, j);
        axpy(-trace, w, out);
        scale(2.0, out);
        return out;
    };
    for (double t : times) {
        const Matrix reference =
            eigen_coordinates(rk4(rhs, f.w0, t, static_cast<int>(t / 1e-3)), f.eigen);
        const FlowPoint p = flow.at(t);
        EXPECT_EQ(p.log_scale, 0.0);
        EXPECT_LT(relative_distance(p.rows, 0.0, reference, 0.0), rk4_tolerance) << "t = " << t;
    }
}

TEST(ClosedForm, GrassmannFlowMatchesRk4) {
    Fixture f(Dynamics::orthogonal);
    const ClosedFormFlow flow(f.eigen, f.w0, Dynamics::orthogonal, 0.0);
    auto rhs = [&](const Matrix& w) {  // dW/dt = 2 W C (I − WᵀW)
        Matrix wc = multiply(w, f.c);
        const Matrix wcwt = multiply(Op::none, Op::transpose, wc, w);
        gemm(Op::none, Op::none, -1.0, wcwt, w, 1.0, wc);
        scale(2.0, wc);
        return wc;
    };
    for (double t : times) {
        const Matrix reference =
            eigen_coordinates(rk4(rhs, f.w0, t, static_cast<int>(t / 1e-3)), f.eigen);
        const FlowPoint p = flow.at(t);
        EXPECT_LT(subspace_distance(p.rows, reference), rk4_tolerance) << "t = " << t;
        // The flow keeps W Wᵀ = I; the closed form returns orthonormal rows.
        EXPECT_LT(measure(p.rows, 0.0, f.eigen.values).orthogonality_error, 1e-13);
    }
}

TEST(ClosedForm, LargeTimesStayFiniteAndReachTheFixedPoints) {
    Fixture fo(Dynamics::orthogonal);
    const ClosedFormFlow grassmann(fo.eigen, fo.w0, Dynamics::orthogonal, 0.0);
    // e^{2λt} alone would overflow from t ≈ 120 on; the evaluation must not.
    for (double t : {50.0, 500.0, 1e4}) {
        const FlowPoint p = grassmann.at(t);
        ASSERT_TRUE(all_finite(p.rows));
        const Snapshot s = measure(p.rows, 0.0, fo.eigen.values);
        EXPECT_LT(s.topk_sin_angle, 1e-12) << "t = " << t;
        // L → −(λ₁ + λ₂ + λ₃)
        EXPECT_NEAR(s.loss, -(3.0 + 2.2 + 1.5), 1e-12);
    }
    Fixture fs(Dynamics::sphere);
    const ClosedFormFlow sphere(fs.eigen, fs.w0, Dynamics::sphere, 0.0);
    const Snapshot s = measure(sphere.at(1e4).rows, 0.0, fs.eigen.values);
    EXPECT_NEAR(s.effective_rank, 1.0, 1e-12);
    EXPECT_NEAR(s.loss, -3.0, 1e-12);
    Fixture fn(Dynamics::naive);
    const ClosedFormFlow naive(fn.eigen, fn.w0, Dynamics::naive, 0.0);
    const FlowPoint p = naive.at(1e4);
    ASSERT_TRUE(all_finite(p.rows));
    EXPECT_DOUBLE_EQ(p.log_scale, 2.0 * 1e4 * 3.0);  // growth e^{2λ₁t}, kept apart
}
