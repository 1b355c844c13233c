// Gradient descent against the exact flows, end to end through simulate(): O(η) convergence,
// the collapse of the naive dynamics and its rate, and the absence of collapse under the
// orthogonality constraint (THEORY §4.1–4.2).
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "metrics/metrics.hpp"
#include "random/stream.hpp"
#include "run/driver.hpp"
#include "run/problem.hpp"

using namespace ssldyn;

namespace {

// Spiked spectrum with clear gaps: λ = 5, 3, 2, 1.5, then 0.5.
RunConfig spiked(Dynamics dynamics, Loss loss, CovarianceSource source) {
    RunConfig c;
    c.data = DataSource::spiked;
    c.d = 12;
    c.spikes = {5.0, 3.0, 2.0, 1.5};
    c.bulk = 0.5;
    c.covariance = source;
    c.n = 2000;
    c.sigma_aug = 0.3;
    c.loss = loss;
    c.dynamics = dynamics;
    c.k = 3;
    c.seed = 11;
    return c;
}

// Distance to the flow at time t for step size eta (one record at the end).
double error_at(RunConfig c, double t, double eta) {
    c.eta = eta;
    c.steps = static_cast<Index>(std::lround(t / eta));
    c.record_every = c.steps;
    const RunResult r = simulate(c);
    EXPECT_EQ(r.status, RunStatus::done);
    return r.records.back().theory_distance;
}

// GD's global error at fixed t is e(η) = a·η + O(η²), so e(2η)/e(η) = 2 + O(η). With
// η·λ_max ≤ 0.02 the O(η) part is a few per cent: the ratio must lie in [1.8, 2.2].
void expect_linear_in_eta(const RunConfig& c) {
    const double e4 = error_at(c, 1.0, 4e-3), e2 = error_at(c, 1.0, 2e-3),
                 e1 = error_at(c, 1.0, 1e-3);
    EXPECT_GT(e1, 1e-8);  // far above round-off, so the ratios measure discretisation
    EXPECT_NEAR(e4 / e2, 2.0, 0.2) << e4 << " " << e2;
    EXPECT_NEAR(e2 / e1, 2.0, 0.2) << e2 << " " << e1;
}

}  // namespace

class OrthogonalConvergence : public ::testing::TestWithParam<std::tuple<Retraction, Loss>> {};

TEST_P(OrthogonalConvergence, ErrorToGrassmannFlowIsLinearInEta) {
    RunConfig c =
        spiked(Dynamics::orthogonal, std::get<1>(GetParam()), CovarianceSource::empirical);
    c.retraction = std::get<0>(GetParam());
    expect_linear_in_eta(c);
}

INSTANTIATE_TEST_SUITE_P(
    RetractionsAndLosses, OrthogonalConvergence,
    ::testing::Combine(::testing::Values(Retraction::qr, Retraction::polar, Retraction::cayley,
                                         Retraction::geodesic),
                       ::testing::Values(Loss::noncontrastive, Loss::contrastive)),
    [](const auto& p) {
        return std::string(name_of(retraction_names, std::get<0>(p.param))) + "_" +
               std::string(name_of(loss_names, std::get<1>(p.param)));
    });

// Along GD at fixed t: QR and polar orthonormalise the same W + ξ, and the step is equivariant
// under W → QW, so their row spaces coincide at every step (round-off apart). Cayley and the
// geodesic differ from polar at O(η³) per step in the row space (test_retraction: the three
// share the O(η²) term), so at fixed t their GD trajectories part at O(η²): the gap falls by 4
// when η halves, i.e. the retraction changes the O(η) error to the flow only at next order.
TEST(RetractionsAlongGd, RowSpacesAgreeToSecondOrderInEta) {
    const RunConfig c = spiked(Dynamics::orthogonal, Loss::noncontrastive, CovarianceSource::exact);
    const Problem problem = build_problem(c);
    const auto objective = problem.objective(c.loss);
    RandomStream stream(5);
    const Matrix w0 = retract_qr(gaussian_matrix(stream, c.k, problem.d));
    auto final_w = [&](Retraction r, double eta) {
        Matrix w = w0;
        for (Index s = 0; s < std::lround(1.0 / eta); ++s)
            gradient_step(StepRule{Dynamics::orthogonal, r, eta}, *objective, w);
        return w;
    };
    for (double eta : {4e-3, 2e-3}) {
        const Matrix polar = final_w(Retraction::polar, eta);
        // Same row space: only round-off, amplified mildly over 250–500 steps.
        EXPECT_LT(subspace_distance(final_w(Retraction::qr, eta), polar), 1e-12);
    }
    for (Retraction r : {Retraction::cayley, Retraction::geodesic}) {
        const double e4 = subspace_distance(final_w(r, 4e-3), final_w(Retraction::polar, 4e-3));
        const double e2 = subspace_distance(final_w(r, 2e-3), final_w(Retraction::polar, 2e-3));
        const double e1 = subspace_distance(final_w(r, 1e-3), final_w(Retraction::polar, 1e-3));
        EXPECT_GT(e1, 1e-10);  // far above round-off
        // 4(1 + O(η)) with η·λ_max ≤ 0.02: below 1 % (measured 4.001); ±0.1.
        EXPECT_NEAR(e4 / e2, 4.0, 0.1) << name_of(retraction_names, r) << " " << e4 << " " << e2;
        EXPECT_NEAR(e2 / e1, 4.0, 0.1) << name_of(retraction_names, r) << " " << e2 << " " << e1;
    }
}

TEST(NaiveConvergence, WeightDecayAndSphereAreLinearInEta) {
    RunConfig naive = spiked(Dynamics::naive, Loss::contrastive, CovarianceSource::empirical);
    naive.weight_decay = 1.0;
    expect_linear_in_eta(naive);
    expect_linear_in_eta(
        spiked(Dynamics::sphere, Loss::noncontrastive, CovarianceSource::empirical));
}

class Collapse : public ::testing::TestWithParam<Dynamics> {};

TEST_P(Collapse, NaiveDynamicsCollapseAtRateTwiceTheTopGap) {
    RunConfig c = spiked(GetParam(), Loss::noncontrastive, CovarianceSource::exact);
    c.weight_decay = 5.0;  // = λ₁, so that the weights of the naive flow stay bounded
    c.eta = 1e-3;
    c.steps = 5000;  // t = 5
    c.record_every = 100;
    const RunResult r = simulate(c);
    ASSERT_EQ(r.status, RunStatus::done);
    const Record& mid = r.records[r.records.size() / 2];
    const Record& last = r.records.back();
    // log(s₂/s₁) falls like −2(λ₁ − λ₂)t = −4t. GD's per-step factor is
    // (1 + 2η(λ₂−λ))/(1 + 2η(λ₁−λ)), a rate of −4 + O(η) = −4(1 + 0.2 %): 1 % tolerance.
    const double rate = std::log(last.simulated.s2_s1 / mid.simulated.s2_s1) / (last.t - mid.t);
    EXPECT_NEAR(rate, -4.0, 0.04);
    const double theory_rate = std::log(last.theory.s2_s1 / mid.theory.s2_s1) / (last.t - mid.t);
    EXPECT_NEAR(theory_rate, -4.0, 1e-4);  // exact up to the e^{−2(λ₁−λ₃)t} terms
    EXPECT_LT(last.simulated.effective_rank, 1.0 + 1e-6);        // collapsed to a scalar
    EXPECT_GT(r.records.front().simulated.effective_rank, 2.0);  // from a full-rank start
}

INSTANTIATE_TEST_SUITE_P(NaiveDynamics, Collapse,
                         ::testing::Values(Dynamics::naive, Dynamics::sphere), [](const auto& p) {
                             return std::string(name_of(dynamics_names, p.param));
                         });

TEST(NoCollapse, OrthogonalRunsKeepFullRankAndReachTheTopKEigenspace) {
    for (Retraction method :
         {Retraction::qr, Retraction::polar, Retraction::cayley, Retraction::geodesic}) {
        RunConfig c = spiked(Dynamics::orthogonal, Loss::noncontrastive, CovarianceSource::exact);
        c.retraction = method;
        c.eta = 0.01;
        c.steps = 3000;  // t = 30: the largest angle decays like e^{−2(λ₃−λ₄)t} = e^{−t}
        c.record_every = 100;
        const RunResult r = simulate(c);
        ASSERT_EQ(r.status, RunStatus::done) << name_of(retraction_names, method);
        for (const Record& rec : r.records) {
            EXPECT_NEAR(rec.simulated.effective_rank, 3.0, 1e-12);
            EXPECT_LT(rec.simulated.orthogonality_error, 1e-13);
        }
        EXPECT_LT(r.records.back().simulated.topk_sin_angle, 1e-10);
        EXPECT_NEAR(r.records.back().simulated.loss, -(5.0 + 3.0 + 2.0), 1e-9);
        EXPECT_GT(r.records.front().simulated.topk_sin_angle, 0.5);  // started far from it
    }
}

TEST(Simulation, DataPathAndCovariancePathGiveTheSameTrajectory) {
    RunConfig c = spiked(Dynamics::orthogonal, Loss::contrastive, CovarianceSource::empirical);
    c.eta = 0.01;
    c.steps = 100;
    c.record_every = 10;
    c.path = GradientPath::covariance;
    const RunResult by_c = simulate(c);
    c.path = GradientPath::data;
    const RunResult by_data = simulate(c);
    ASSERT_EQ(by_c.records.size(), by_data.records.size());
    // Same mathematics, sums in another order: round-off, amplified mildly over 100 steps.
    for (std::size_t i = 0; i < by_c.records.size(); ++i) {
        EXPECT_NEAR(by_c.records[i].simulated.loss, by_data.records[i].simulated.loss, 1e-10);
        EXPECT_NEAR(by_c.records[i].theory_distance, by_data.records[i].theory_distance, 1e-10);
    }
}

TEST(Simulation, DivergingRunIsMarkedFailedWithItsStep) {
    RunConfig c = spiked(Dynamics::naive, Loss::noncontrastive, CovarianceSource::exact);
    c.eta = 10.0;  // far beyond 1/λ_max: the weights grow by ~(1 + 100)ⁿ
    c.steps = 1000;
    c.record_every = 1;
    const RunResult r = simulate(c);
    EXPECT_EQ(r.status, RunStatus::failed);
    EXPECT_GT(r.failed_step, 0);
    EXPECT_LT(r.failed_step, 1000);
    EXPECT_NE(r.failure.find("non-finite"), std::string::npos);
}

// The reported hang: η = 1e308 on spiked data (d = 16, n = 200, k = 3, the default spectrum)
// overflows the first step to ±inf, and the polar retraction's SVD of it never returned (killed
// after 30 s). Every retraction now fails the run at step 1 with the reason, keeping its record
// at step 0.
TEST(Simulation, OverflowingStepFailsAtStepOneForEveryRetraction) {
    for (Retraction method :
         {Retraction::qr, Retraction::polar, Retraction::cayley, Retraction::geodesic}) {
        RunConfig c;
        c.data = DataSource::spiked;
        c.d = 16;
        c.n = 200;
        c.k = 3;
        c.retraction = method;
        c.eta = 1e308;
        c.steps = 5;
        c.record_every = 1;
        const RunResult r = simulate(c);
        const std::string name(name_of(retraction_names, method));
        EXPECT_EQ(r.status, RunStatus::failed) << name;
        EXPECT_EQ(r.failed_step, 1) << name;
        EXPECT_EQ(r.failure, "non-finite weights at step 1") << name;
        ASSERT_EQ(r.records.size(), 1u) << name;
        EXPECT_EQ(r.records.front().step, 0) << name;
    }
}

TEST(Simulation, SameConfigSameTrajectoryBitForBit) {
    RunConfig c = spiked(Dynamics::orthogonal, Loss::contrastive, CovarianceSource::empirical);
    c.steps = 50;
    c.record_every = 5;
    const RunResult a = simulate(c), b = simulate(c);
    ASSERT_EQ(a.records.size(), b.records.size());
    for (std::size_t i = 0; i < a.records.size(); ++i) {
        EXPECT_EQ(a.records[i].simulated.loss, b.records[i].simulated.loss);
        EXPECT_EQ(a.records[i].theory_distance, b.records[i].theory_distance);
    }
}
