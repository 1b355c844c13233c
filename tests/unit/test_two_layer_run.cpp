// Two-layer runs (run/two_layer_run.hpp, through run/driver.hpp) against independent computations:
// the identity network is its own linear pair; GD's distance to the reference flow is O(η) (THEORY
// §4.3); the packed weights are the network's; minibatches are fresh each step and reproducible.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "linalg/blas.hpp"
#include "model/two_layer_dynamics.hpp"
#include "run/driver.hpp"
#include "run/model_table.hpp"
#include "run/problem.hpp"

using namespace ssldyn;

namespace {

RunConfig two_layer(Index h, Activation activation) {
    RunConfig c;
    c.model = Model::two_layer;
    c.data = DataSource::spiked;
    c.d = 8;
    c.spikes = {4.0, 2.0, 1.0};
    c.bulk = 0.3;
    c.n = 300;
    c.sigma_aug = 0.2;
    c.k = 2;
    c.h = h;
    c.activation = activation;
    c.probes = 16;
    c.seed = 3;
    c.steps = 100;
    c.record_every = 25;
    c.eta_rel = 0.05;
    c.reference_tolerance = 1e-9;
    return c;
}

}  // namespace

// σ = identity: the affine part of σ is σ itself, so the pair is the network, to the last bit.
TEST(TwoLayerRun, IdentityNetworkIsItsOwnLinearPair) {
    const RunConfig c = two_layer(6, Activation::identity);
    const RunResult r = simulate(c, build_problem(c));
    ASSERT_EQ(r.status, RunStatus::done) << r.failure;
    for (const Record& rec : r.records) {
        EXPECT_EQ(rec.network.output_deviation, 0.0);
        EXPECT_EQ(rec.network.loss_deviation, 0.0);
        EXPECT_EQ(rec.network.gram_deviation, 0.0);
        EXPECT_LT(rec.network.projector_deviation, 1e-7);  // √2 sin θ of equal spaces: √u
    }
    const StateLayout shape = state_layout(c, 8);
    EXPECT_EQ(r.w.rows(), shape.rows);
    EXPECT_EQ(r.w.cols(), 2 * (8 + 2));
    for (Index j = 0; j < 10; ++j)
        for (Index i = 0; i < 6; ++i) EXPECT_EQ(r.w(i, j), r.w(i, j + 10));
}

// GD from the same W₀ strays from the exact flow by O(η): halving η halves the distance at the
// same t (THEORY §4.2–4.3; the reference is integrated to 1e-9, far below both errors).
TEST(TwoLayerRun, DistanceToReferenceFlowIsFirstOrderInEta) {
    for (Index h : {Index{5}, Index{12}}) {  // W₁ with orthonormal rows, then columns
        RunConfig c = two_layer(h, Activation::tanh);
        const Problem problem = build_problem(c);
        const RunResult coarse = simulate(c, problem);
        c.eta_rel /= 2;
        c.steps *= 2;
        c.record_every *= 2;
        const RunResult fine = simulate(c, problem);
        ASSERT_EQ(coarse.status, RunStatus::done) << coarse.failure;
        ASSERT_EQ(fine.status, RunStatus::done) << fine.failure;
        EXPECT_DOUBLE_EQ(coarse.records.back().t, fine.records.back().t);
        const double ratio =
            coarse.records.back().theory_distance / fine.records.back().theory_distance;
        EXPECT_GT(ratio, 1.8) << "h = " << h;
        EXPECT_LT(ratio, 2.2) << "h = " << h;
        EXPECT_GT(fine.records.back().theory_distance, 1e-6);  // well above the tolerance
        // Both stay on their manifolds.
        EXPECT_LT(coarse.records.back().simulated.orthogonality_error, 1e-12);
        EXPECT_LT(coarse.records.back().theory.orthogonality_error, 1e-12);
    }
}

// Minibatches: a run is reproducible, differs from the full-batch run, and its records measure
// the full data (the loss at step 0 is the full-batch loss of W₀).
TEST(TwoLayerRun, MinibatchRunIsReproducibleAndRecordsFullData) {
    RunConfig c = two_layer(12, Activation::gelu);
    c.batch = 32;
    c.reference_tolerance = 0.0;
    const Problem problem = build_problem(c);
    const RunResult a = simulate(c, problem), b = simulate(c, problem);
    RunConfig full = c;
    full.batch = 0;
    const RunResult whole = simulate(full, build_problem(full));
    ASSERT_EQ(a.status, RunStatus::done) << a.failure;
    EXPECT_EQ(a.records.back().simulated.loss, b.records.back().simulated.loss);
    EXPECT_EQ(a.records.front().simulated.loss, whole.records.front().simulated.loss);
    EXPECT_NE(a.records.back().simulated.loss, whole.records.back().simulated.loss);
    // SGD still descends the full loss on average over 100 steps.
    EXPECT_LT(a.records.back().simulated.loss, a.records.front().simulated.loss);
    EXPECT_TRUE(std::isnan(a.records.back().theory_distance));  // no reference asked for
}

// Naive two-layer GD with weight decay: the recorded weight change is that of the packed W.
TEST(TwoLayerRun, WeightChangeIsRelativeToInitialWeights) {
    RunConfig c = two_layer(10, Activation::softplus);
    c.dynamics = Dynamics::naive;
    c.weight_decay = 5.0;  // above λ₁ = 4: the weights stay bounded (THEORY §4.1)
    c.pair_linear = false;
    const RunResult r = simulate(c, build_problem(c));
    ASSERT_EQ(r.status, RunStatus::done) << r.failure;
    Matrix change = r.w;
    axpy(-1.0, r.w0, change);
    EXPECT_NEAR(r.records.back().network.weight_change,
                frobenius_norm(change) / frobenius_norm(r.w0), 1e-14);
    EXPECT_TRUE(std::isnan(r.records.back().network.loss_deviation));  // no pair
    EXPECT_GT(r.records.back().simulated.orthogonality_error, 1e-3);   // naive: off the manifold
}

// A run with `auto` records the retraction each layer took, and those are what ran: replayed by
// hand from the run's W₀ with the recorded methods per layer, GD ends at the run's weights bit
// for bit, and with polar forced on W₁ it does not (QR and polar factors differ by a rotation of
// O(η²), far above round-off). h = 40 gives W₁ 40 orthonormal rows (QR beyond 32), W₂ 2 (polar).
TEST(TwoLayerRun, RecordsTheRetractionOfEachLayerThatAReplayConfirms) {
    RunConfig c = two_layer(40, Activation::tanh);
    c.d = 48;
    c.pair_linear = false;
    c.reference_tolerance = 0.0;
    c.steps = 20;
    const Problem problem = build_problem(c);
    const RunResult r = simulate(c, problem);
    ASSERT_EQ(r.status, RunStatus::done) << r.failure;
    ASSERT_TRUE(r.layer_retractions.has_value());
    EXPECT_EQ((*r.layer_retractions)[0], Retraction::qr);
    EXPECT_EQ((*r.layer_retractions)[1], Retraction::polar);
    EXPECT_EQ(retraction_text(r), "qr/polar");

    // [W₁ | W₂ᵀ], columns contiguous.
    auto unpack = [&](const Matrix& packed) {
        Matrix w2t(c.h, c.k);
        std::copy(packed.data() + c.h * c.d, packed.data() + packed.size(), w2t.data());
        TwoLayerWeights w{Matrix(c.h, c.d), transpose(w2t)};
        std::copy(packed.data(), packed.data() + c.h * c.d, w.w1.data());
        return w;
    };
    const TwoLayerObjective objective(*problem.views, c.loss, c.activation);
    auto replay = [&](LayerRetractions methods) {
        const TwoLayerRule rule{true, methods, r.eta, 0.0};
        TwoLayerWeights w = unpack(r.w0);
        for (Index step = 0; step < c.steps; ++step) two_layer_step(rule, objective, w);
        return w;
    };
    const TwoLayerWeights end = unpack(r.w);
    const TwoLayerWeights recorded = replay({(*r.layer_retractions)[0], (*r.layer_retractions)[1]});
    const TwoLayerWeights polar = replay({Retraction::polar, Retraction::polar});
    EXPECT_TRUE(std::equal(end.w1.data(), end.w1.data() + end.w1.size(), recorded.w1.data()));
    EXPECT_TRUE(std::equal(end.w2.data(), end.w2.data() + end.w2.size(), recorded.w2.data()));
    double apart = 0.0;
    for (Index i = 0; i < end.w1.size(); ++i)
        apart = std::max(apart, std::fabs(end.w1.data()[i] - polar.w1.data()[i]));
    EXPECT_GT(apart, 1e-9);
}
