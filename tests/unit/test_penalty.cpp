// Soft orthogonality: unconstrained GD on L + μ‖W Wᵀ − I‖²_F (dynamics = penalty). Its
// gradient, its minimiser W = Q S V_kᵀ with s_i² = 1 + λ_i/(2μ), the transient collapse at small
// μ, and its row space following the Grassmann flow.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "config/run_config.hpp"
#include "metrics/metrics.hpp"
#include "run/driver.hpp"
#include "test_support.hpp"
#include "theory/closed_form.hpp"

using namespace ssldyn;

namespace {

// Exact C (= Σ) with a dominant top eigenvalue: λ = 10, 2, 1.5, then nine times 0.5.
const std::vector<double> top{10.0, 2.0, 1.5};

RunConfig spiked_penalty(double mu) {
    RunConfig c;
    c.data = DataSource::spiked;
    c.d = 12;
    c.spikes = top;
    c.bulk = 0.5;
    c.covariance = CovarianceSource::exact;
    c.dynamics = Dynamics::penalty;
    c.penalty = mu;
    c.k = 3;
    c.seed = 11;
    return c;
}

double objective_value(const Objective& objective, const Matrix& w, double mu) {
    Matrix excess = multiply(Op::none, Op::transpose, w, w);
    for (Index i = 0; i < excess.rows(); ++i) excess(i, i) -= 1.0;
    const double f = frobenius_norm(excess);
    return objective.loss(w) + mu * f * f;
}

std::string input_error(const RunConfig& c) {
    try {
        validate(c);
    } catch (const InputError& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

// One step with η = 1 from W moves W by exactly the gradient ∇L + 4μ(WWᵀ − I)W; central
// differences of L + μ‖WWᵀ − I‖² with h = 1e-5 carry an O(h²) ≈ 1e-10 error (a quartic with O(1)
// coefficients) and round-off ε·|f|/h ≈ 1e-11: 1e-7 relative leaves a wide margin, while a
// wrong factor (2μ or 8μ instead of 4μ) is off by order one.
TEST(Penalty, StepFollowsTheGradientOfThePenalisedLoss) {
    const Matrix c = support::symmetric_with_spectrum({3.0, 1.0, 0.5, -0.2, 0.1, 2.0}, 4);
    const CovarianceObjective objective(c);
    RandomStream stream(3);
    const Matrix w = gaussian_matrix(stream, 2, 6);  // off the manifold: the penalty acts
    const double mu = 0.7;
    Matrix moved = w;
    gradient_step(StepRule{Dynamics::penalty, Retraction::automatic, 1.0, 0.0, mu}, objective,
                  moved);
    Matrix gradient = w;
    axpy(-1.0, moved, gradient);
    Matrix numeric(2, 6);
    const double h = 1e-5;
    for (Index j = 0; j < 6; ++j)
        for (Index i = 0; i < 2; ++i) {
            Matrix plus = w, minus = w;
            plus(i, j) += h;
            minus(i, j) -= h;
            numeric(i, j) =
                (objective_value(objective, plus, mu) - objective_value(objective, minus, mu)) /
                (2 * h);
        }
    EXPECT_LT(support::relative_difference(gradient, numeric), 1e-7);
}

TEST(Penalty, ConfigNeedsAPositivePenaltyForPenaltyRuns) {
    RunConfig c;
    set_value(c, "dynamics", "penalty");
    EXPECT_EQ(c.dynamics, Dynamics::penalty);
    EXPECT_EQ(get_value(c, "dynamics"), "penalty");
    EXPECT_EQ(input_error(c).rfind("penalty: must be > 0", 0), 0u) << input_error(c);
    set_value(c, "penalty", "0.25");
    EXPECT_EQ(get_value(c, "penalty"), "0.25");
    EXPECT_NO_THROW(validate(c));
    c.penalty = -1;
    c.dynamics = Dynamics::orthogonal;  // ignored there, but never negative
    EXPECT_EQ(input_error(c).rfind("penalty:", 0), 0u) << input_error(c);
    EXPECT_THROW(set_value(c, "penalty", "strong"), InputError);
}

// Same Gaussian draw, same start: penalty runs begin on the manifold where the orthogonal runs
// (with the same retraction setting) begin, and their theory is the same Grassmann flow.
TEST(Penalty, StartsWhereTheOrthogonalRunStarts) {
    RunConfig c = spiked_penalty(1.0);
    c.eta = 0.01;
    c.steps = 10;
    c.record_every = 10;
    RunConfig o = c;
    o.dynamics = Dynamics::orthogonal;
    const RunResult rp = simulate(c), ro = simulate(o);
    ASSERT_EQ(rp.w0.size(), ro.w0.size());
    for (Index j = 0; j < rp.w0.cols(); ++j)
        for (Index i = 0; i < rp.w0.rows(); ++i) EXPECT_EQ(rp.w0(i, j), ro.w0(i, j));
    EXPECT_LT(rp.records.front().simulated.orthogonality_error, 1e-14);
    EXPECT_EQ(rp.records.back().theory.loss, ro.records.back().theory.loss);
}

// At the minimiser of L + μ‖WWᵀ − I‖² (W = Q S V_kᵀ, s_i² = 1 + λ_i/(2μ)), ‖WWᵀ − I‖_F =
// ‖(λ₁, λ₂, λ₃)‖/(2μ): it falls like 1/μ, and the effective rank is that of the s_i. GD's fixed
// points are the critical points whatever η, so the run converges to the minimiser itself; by
// t = 20 its slowest mode (the row space turning into the top-3 eigenspace, rate ≥ 2(λ₃ − λ₄)
// = 2) has decayed by e^{−40}: measured residuals are ~1e-14, and 1e-10 (relative) leaves four
// orders for round-off, while a wrong law (λ/μ, λ/(4μ)) misses by more than 1e-2.
TEST(Penalty, ConvergesToTheClosedFormMinimiser) {
    double previous_error = 0.0;
    for (double mu : {1.0, 2.0, 4.0, 8.0}) {
        RunConfig c = spiked_penalty(mu);
        c.eta = 0.005;  // η(4λ₁ + 8μ) ≤ 0.52 < 2: stable at the minimiser for μ ≤ 8
        c.steps = 4000;
        c.record_every = 4000;
        const RunResult r = simulate(c);
        ASSERT_EQ(r.status, RunStatus::done) << r.failure;
        const Snapshot& last = r.records.back().simulated;
        const std::vector<double> s = penalty_optimum_singular_values(r.spectrum, 3, mu);
        double squares = 0.0;
        for (std::size_t i = 0; i < 3; ++i) {
            EXPECT_NEAR(s[i] * s[i], 1.0 + top[i] / (2 * mu), 1e-12);  // the formula itself
            EXPECT_NEAR(last.singular_values[i] / s[i], 1.0, 1e-10) << "mu " << mu << " i " << i;
            squares += top[i] * top[i];
        }
        const double expected_error = std::sqrt(squares) / (2 * mu);
        EXPECT_NEAR(last.orthogonality_error / expected_error, 1.0, 1e-10) << "mu " << mu;
        EXPECT_NEAR(last.effective_rank, effective_rank(s), 1e-10) << "mu " << mu;
        EXPECT_LT(last.effective_rank, 3.0 - 0.01);  // not k: the frame is not orthonormal
        EXPECT_LT(last.topk_sin_angle, 1e-10);       // the row space is the top-3 eigenspace
        // The stored predictions agree with the same formula.
        EXPECT_NEAR(r.optimum_effective_rank, effective_rank(s), 1e-14);
        EXPECT_NEAR(r.optimum_orthogonality_error / expected_error, 1.0, 1e-14);
        // L = −Σ s_i²λ_i lies below the constrained optimum −Σλ_i by Σλ_i²/(2μ).
        EXPECT_NEAR(r.final_loss_gap, -squares / (2 * mu) / (10.0 + 2.0 + 1.5), 1e-9);
        if (previous_error > 0) {
            EXPECT_NEAR(previous_error / last.orthogonality_error, 2.0, 1e-9);
        }
        previous_error = last.orthogonality_error;
    }
}

// At small μ the penalty is negligible until W has grown: W ≈ W₀e^{2Ct}, the naive dynamics,
// whose top direction grows like e^{2λ₁t} = e^{20t} against e^{4t} and e^{3t}: the frame
// collapses towards rank one until s₁ saturates at s₁² = 1 + λ₁/(2μ) ≈ 5000 (t ≈ 0.3); then s₂
// and s₃ catch up to their own saturation and the effective rank recovers to the minimiser's.
// μ = 1e-3: measured minimum 1.29 near t = 0.3, so < 1.5 is asserted; the recovery by t = 7 is
// complete to ~1e-9 (the last mode decays like e^{−2t}·… from t ≈ 2), asserted to 1e-6.
// At μ = 1 the penalty acts from the start: no dip (minimum above 2.8 = k − 0.2).
TEST(Penalty, SmallPenaltyPassesThroughTheNaiveCollapseAndRecovers) {
    RunConfig c = spiked_penalty(1e-3);
    c.eta = 0.002;  // η(4λ₁ + 8μ) ≈ 0.08
    c.steps = 3500;
    c.record_every = 10;
    const RunResult r = simulate(c);
    ASSERT_EQ(r.status, RunStatus::done) << r.failure;
    const auto lowest =
        std::min_element(r.records.begin(), r.records.end(), [](const Record& a, const Record& b) {
            return a.simulated.effective_rank < b.simulated.effective_rank;
        });
    EXPECT_LT(lowest->simulated.effective_rank, 1.5);
    EXPECT_GT(lowest->t, 0.1);
    EXPECT_LT(lowest->t, 1.0);
    EXPECT_EQ(r.min_effective_rank, lowest->simulated.effective_rank);
    EXPECT_NEAR(r.records.front().simulated.effective_rank, 3.0, 1e-12);
    const std::vector<double> s = penalty_optimum_singular_values(r.spectrum, 3, 1e-3);
    EXPECT_NEAR(r.records.back().simulated.effective_rank, effective_rank(s), 1e-6);
    EXPECT_GT(effective_rank(s), 2.7);

    RunConfig strong = spiked_penalty(1.0);
    strong.eta = 0.005;
    strong.steps = 1400;
    strong.record_every = 10;
    const RunResult rs = simulate(strong);
    ASSERT_EQ(rs.status, RunStatus::done);
    EXPECT_GT(rs.min_effective_rank, 2.8);
}

// The exact penalty flow dW/dt = 2WC − 4μ(WWᵀ − I)W is 2WC plus a k x k matrix times W, so
// W(t) = M(t)·W₀e^{2Ct} with M invertible: its row space is exactly the Grassmann flow's, for
// every μ (and so is weight decay's). GD's distance to it is pure discretisation error, O(η):
// halving η halves it (±0.1, as for the retractions in test_dynamics).
TEST(Penalty, RowSpaceConvergesToTheGrassmannFlowLinearlyInEta) {
    for (double mu : {0.1, 1.0}) {
        auto error = [&](double eta) {
            RunConfig c = spiked_penalty(mu);
            c.eta = eta;
            c.steps = std::lround(1.0 / eta);
            c.record_every = c.steps;
            const RunResult r = simulate(c);
            EXPECT_EQ(r.status, RunStatus::done);
            EXPECT_EQ(r.final_grassmann_distance, r.records.back().theory_distance);
            return r.records.back().theory_distance;
        };
        const double e4 = error(4e-3), e2 = error(2e-3), e1 = error(1e-3);
        EXPECT_GT(e1, 1e-8);
        EXPECT_NEAR(e4 / e2, 2.0, 0.1) << "mu " << mu << ": " << e4 << " " << e2;
        EXPECT_NEAR(e2 / e1, 2.0, 0.1) << "mu " << mu << ": " << e2 << " " << e1;
    }
    // Weight decay: the same row-space flow, recorded in final_grassmann_distance.
    auto naive_error = [&](double eta) {
        RunConfig c = spiked_penalty(1.0);
        c.dynamics = Dynamics::naive;
        c.weight_decay = 10.0;
        c.eta = eta;
        c.steps = std::lround(1.0 / eta);
        c.record_every = c.steps;
        return simulate(c).final_grassmann_distance;
    };
    const double n4 = naive_error(4e-3), n2 = naive_error(2e-3);
    EXPECT_GT(n2, 1e-8);
    EXPECT_NEAR(n4 / n2, 2.0, 0.1) << n4 << " " << n2;
}
