// A run stopped after any step and continued from its saved state gives the records and final
// weights of the uninterrupted run bit for bit (run/checkpoint.hpp): the state is complete.
#include <gtest/gtest.h>

#include <cstring>
#include <tuple>

#include "run/driver.hpp"
#include "run/problem.hpp"

using namespace ssldyn;

namespace {

RunConfig config(Dynamics dynamics) {
    RunConfig c;
    c.data = DataSource::spiked;
    c.d = 10;
    c.spikes = {4.0, 2.0, 1.0};
    c.bulk = 0.3;
    c.n = 500;
    c.sigma_aug = 0.2;
    c.dynamics = dynamics;
    c.weight_decay = 3.0;
    c.penalty = 1.0;
    c.k = 3;
    c.seed = 5;
    c.steps = 250;
    c.record_every = 20;
    return c;
}

bool same_bits(double a, double b) {
    return std::memcmp(&a, &b, sizeof a) == 0;
}

void expect_same_snapshot(const Snapshot& a, const Snapshot& b) {
    EXPECT_TRUE(same_bits(a.loss, b.loss));
    EXPECT_TRUE(same_bits(a.orthogonality_error, b.orthogonality_error));
    EXPECT_TRUE(same_bits(a.effective_rank, b.effective_rank));
    EXPECT_TRUE(same_bits(a.topk_sin_angle, b.topk_sin_angle));
    ASSERT_EQ(a.singular_values.size(), b.singular_values.size());
    for (std::size_t i = 0; i < a.singular_values.size(); ++i)
        EXPECT_TRUE(same_bits(a.singular_values[i], b.singular_values[i]));
    ASSERT_EQ(a.modes.size(), b.modes.size());
    for (std::size_t i = 0; i < a.modes.size(); ++i) EXPECT_TRUE(same_bits(a.modes[i], b.modes[i]));
}

// Stops the run after `stop_at` steps, keeps what it saved, and continues from a copy of it.
RunResult interrupted_and_continued(const RunConfig& c, const Problem& problem, Index stop_at) {
    Checkpoint saved;
    RunControl first;
    first.poll = [&](Index step) {
        return step == stop_at ? StepAction::save_and_stop : StepAction::proceed;
    };
    first.save = [&](const RunState& s) { saved = {s.step, s.w, s.records, s.seconds}; };
    const RunResult stopped = simulate(c, problem, first);
    EXPECT_EQ(stopped.status, RunStatus::running);
    EXPECT_EQ(saved.step, stop_at);
    RunControl second;
    second.resume_from = &saved;
    return simulate(c, problem, second);
}

// A continued run's records and final weights against the uninterrupted run's, bit for bit.
void expect_continues_whole(const RunResult& resumed, const RunResult& whole) {
    ASSERT_EQ(resumed.status, RunStatus::done) << resumed.failure;
    ASSERT_EQ(resumed.records.size(), whole.records.size());
    for (std::size_t i = 0; i < whole.records.size(); ++i) {
        const Record &r = resumed.records[i], &w = whole.records[i];
        EXPECT_EQ(r.step, w.step);
        expect_same_snapshot(r.simulated, w.simulated);
        expect_same_snapshot(r.theory, w.theory);
        EXPECT_TRUE(same_bits(r.theory_distance, w.theory_distance));
        for (double NetworkRecord::*field :
             {&NetworkRecord::loss_deviation, &NetworkRecord::gram_deviation,
              &NetworkRecord::weight_change, &NetworkRecord::tangent_kernel_change})
            EXPECT_TRUE(same_bits(r.network.*field, w.network.*field));
    }
    ASSERT_EQ(resumed.w.rows(), whole.w.rows());
    ASSERT_EQ(resumed.w.cols(), whole.w.cols());
    EXPECT_EQ(std::memcmp(resumed.w.data(), whole.w.data(),
                          sizeof(double) * static_cast<std::size_t>(whole.w.size())),
              0);
}

}  // namespace

class Checkpoints : public ::testing::TestWithParam<Dynamics> {};

TEST_P(Checkpoints, ContinuedRunEqualsUninterruptedBitForBit) {
    const RunConfig c = config(GetParam());
    const Problem problem = build_problem(c);
    const RunResult whole = simulate(c, problem);
    ASSERT_EQ(whole.status, RunStatus::done);
    // On a record step, just after one, and just before the end.
    for (Index stop_at : {Index{40}, Index{41}, Index{249}}) {
        const RunResult resumed = interrupted_and_continued(c, problem, stop_at);
        expect_continues_whole(resumed, whole);
        EXPECT_EQ(resumed.steps_taken, c.steps);
        EXPECT_TRUE(same_bits(resumed.final_grassmann_distance, whole.final_grassmann_distance));
        EXPECT_TRUE(same_bits(resumed.min_effective_rank, whole.min_effective_rank));
    }
}

INSTANTIATE_TEST_SUITE_P(Dynamics, Checkpoints,
                         ::testing::Values(Dynamics::naive, Dynamics::sphere, Dynamics::orthogonal,
                                           Dynamics::penalty));

// Two-layer runs carry more state: the pair's weights (checkpointed with the network's), the
// reference flow (replayed from W₀ through the record times) and, for minibatches, the step's
// stream; all must continue exactly.
class TwoLayerCheckpoints : public ::testing::TestWithParam<Index> {};

TEST_P(TwoLayerCheckpoints, ContinuedRunEqualsUninterruptedBitForBit) {
    RunConfig c = config(Dynamics::orthogonal);
    c.model = Model::two_layer;
    c.h = 14;
    c.batch = GetParam();
    c.probes = 20;
    c.ntk_probes = 3;
    c.steps = 120;
    c.reference_tolerance = 1e-7;
    const Problem problem = build_problem(c);
    const RunResult whole = simulate(c, problem);
    ASSERT_EQ(whole.status, RunStatus::done) << whole.failure;
    EXPECT_GT(whole.reference_accepted, 0);
    for (Index stop_at : {Index{40}, Index{57}}) {
        const RunResult resumed = interrupted_and_continued(c, problem, stop_at);
        expect_continues_whole(resumed, whole);
        EXPECT_EQ(resumed.reference_accepted, whole.reference_accepted);
    }
}

INSTANTIATE_TEST_SUITE_P(Batch, TwoLayerCheckpoints, ::testing::Values(Index{0}, Index{64}));

// Runs with a predictor (THEORY §6.3) carry W_p and the target in their state and replay their
// flow through the record times, on the linear model and on the two-layer one (both layers of the
// online and the target encoder).
class PredictorCheckpoints : public ::testing::TestWithParam<std::tuple<Loss, Model>> {};

TEST_P(PredictorCheckpoints, ContinuedRunEqualsUninterruptedBitForBit) {
    RunConfig c = config(Dynamics::naive);
    std::tie(c.loss, c.model) = GetParam();
    c.h = 6;
    c.activation = Activation::tanh;
    c.weight_decay = 0.05;
    c.target_rate = 2.0;
    c.reference_tolerance = 1e-7;
    const Problem problem = build_problem(c);
    const RunResult whole = simulate(c, problem);
    ASSERT_EQ(whole.status, RunStatus::done) << whole.failure;
    EXPECT_GT(whole.reference_accepted, 0);
    if (c.model == Model::two_layer) {
        // [W1 | W2 | W_p | W1_a | W2_a], max(h, k) x (2d + 2h + k).
        EXPECT_EQ(whole.w.rows(), 6);
        EXPECT_EQ(whole.w.cols(), 2 * 10 + 2 * 6 + 3);
    }
    for (Index stop_at : {Index{40}, Index{57}}) {
        const RunResult resumed = interrupted_and_continued(c, problem, stop_at);
        expect_continues_whole(resumed, whole);
        EXPECT_TRUE(
            same_bits(resumed.final_predictor_offdiagonal, whole.final_predictor_offdiagonal));
        EXPECT_TRUE(same_bits(resumed.final_predictor_norm, whole.final_predictor_norm));
    }
}

INSTANTIATE_TEST_SUITE_P(Losses, PredictorCheckpoints,
                         ::testing::Combine(::testing::Values(Loss::byol, Loss::simsiam),
                                            ::testing::Values(Model::linear, Model::two_layer)),
                         [](const auto& p) {
                             return std::string(name_of(loss_names, std::get<0>(p.param))) + "_" +
                                    (std::get<1>(p.param) == Model::linear ? "linear"
                                                                           : "two_layer");
                         });

TEST(Checkpoints, SaveWithoutStopLeavesTheRunUnchanged) {
    const RunConfig c = config(Dynamics::orthogonal);
    const Problem problem = build_problem(c);
    const RunResult whole = simulate(c, problem);
    int saves = 0;
    RunControl control;
    control.poll = [](Index step) {
        return step % 50 == 0 ? StepAction::save : StepAction::proceed;
    };
    control.save = [&](const RunState& s) {
        ++saves;
        EXPECT_EQ(s.records.back().step, s.step - s.step % c.record_every);
    };
    const RunResult saved = simulate(c, problem, control);
    EXPECT_EQ(saves, 4);  // steps 50, 100, 150, 200 (none at the last step, 250)
    EXPECT_EQ(std::memcmp(saved.w.data(), whole.w.data(), sizeof(double) * 30), 0);
}

TEST(Checkpoints, StateOfAnotherShapeIsRefused) {
    const RunConfig c = config(Dynamics::orthogonal);
    const Problem problem = build_problem(c);
    Checkpoint wrong{10, Matrix(2, 10), {Record{}}, 0.0};
    RunControl control;
    control.resume_from = &wrong;
    EXPECT_THROW(simulate(c, problem, control), RuntimeFailure);
}
