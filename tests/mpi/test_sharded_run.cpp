// A two-layer run whose wide W₁ (h > d) is sharded over its run group (run/two_layer_run.hpp,
// model/sharded_two_layer.hpp) against the same run replicated: every record of both layers,
// the paired linear run, the kernels and the reference flow agree to round-off, and a checkpoint
// of the sharded run resumes it bit for bit. The sums over the units run in another order and
// the factorisations are the distributed ones (tests/mpi/test_sharded_two_layer.cpp measures a
// step's difference at 1e-15, growing mildly); over 60 steps 1e-10 relative is the bound, and
// distances between nearly equal subspaces (√ of round-off) 1.5e-8 absolute.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "grids.hpp"
#include "linalg/lapack.hpp"
#include "run/driver.hpp"
#include "run/problem.hpp"

using namespace ssldyn;

namespace {

RunConfig wide_config() {
    RunConfig c;
    c.model = Model::two_layer;
    c.data = DataSource::spiked;
    c.d = 7;
    c.spikes = {4.0, 2.5, 1.5};
    c.bulk = 0.4;
    c.n = 150;
    c.sigma_aug = 0.2;
    c.k = 2;
    c.h = 23;  // uneven over 2 and 4 ranks
    c.probes = 12;
    c.ntk_probes = 2;
    c.eta_rel = 0.05;
    c.steps = 60;
    c.record_every = 15;
    c.reference_tolerance = 1e-8;
    c.retraction = Retraction::qr;
    return c;
}

double relative(double a, double b) {
    return std::fabs(a - b) / std::max(1.0, std::fabs(b));
}

// The run on groups of 2 and 4 ranks (as far as the world allows), each with its grids, matrices
// above `threshold` entries spread in blocks of 5; compare(result, g) for each.
template <class Compare>
void for_each_spread_run(const RunConfig& config, Index threshold, Compare compare) {
    const auto world = mpi::Communicator::world();
    for (int g : {2, 4}) {
        if (g > world.size() || world.size() % g != 0) continue;
        const auto group = world.split(world.rank() / g, world.rank());
        const BlacsGrid square = BlacsGrid::square(group), tall = BlacsGrid::tall(group);
        const Distribution where{&group, &square, &tall, threshold, 5};
        const RunResult spread = simulate(config, build_problem(config, where));
        ASSERT_TRUE(test::everywhere(spread.status == RunStatus::done)) << spread.failure;
        compare(spread, g);
    }
}

}  // namespace

TEST(ShardedRun, EqualsTheReplicatedRun) {
    for (const Retraction retraction : {Retraction::qr, Retraction::polar}) {
        RunConfig config = wide_config();
        config.retraction = retraction;
        const RunResult replicated = simulate(config, build_problem(config));
        ASSERT_EQ(replicated.status, RunStatus::done) << replicated.failure;
        for_each_spread_run(config, 0, [&](const RunResult& spread, int g) {
            ASSERT_EQ(spread.records.size(), replicated.records.size());
            double worst = 0.0, worst_angle = 0.0;
            for (std::size_t i = 0; i < spread.records.size(); ++i) {
                const Record& a = spread.records[i];
                const Record& b = replicated.records[i];
                for (const auto& [x, y] :
                     {std::pair{a.simulated.loss, b.simulated.loss},
                      {a.theory.loss, b.theory.loss},
                      {a.simulated.effective_rank, b.simulated.effective_rank},
                      {a.theory_distance, b.theory_distance},
                      {a.network.output_deviation, b.network.output_deviation},
                      {a.network.linear_loss, b.network.linear_loss},
                      {a.network.gram_deviation, b.network.gram_deviation},
                      {a.network.weight_change, b.network.weight_change},
                      {a.network.kernel_change, b.network.kernel_change},
                      {a.network.tangent_kernel_change, b.network.tangent_kernel_change}})
                    worst = std::max(worst, relative(x, y));
                worst_angle = std::max(
                    {worst_angle,
                     std::fabs(a.network.projector_deviation - b.network.projector_deviation),
                     std::fabs(a.network.w1_orthogonality_error -
                               b.network.w1_orthogonality_error)});
            }
            // The |r_ii| of W₂W₁V_k at the start, whence the rise times are predicted (THEORY
            // §6.5; the eigenvectors' signs aside).
            const std::vector<double> ra = triangular_diagonal(spread.initial_top_coordinates),
                                      rb = triangular_diagonal(replicated.initial_top_coordinates);
            ASSERT_EQ(ra.size(), static_cast<std::size_t>(config.k));
            ASSERT_EQ(rb.size(), ra.size());
            for (std::size_t i = 0; i < ra.size(); ++i)
                worst = std::max(worst, std::fabs(ra[i] - rb[i]) / rb[i]);
            EXPECT_TRUE(test::everywhere(worst < 1e-10)) << "group of " << g << ": " << worst;
            EXPECT_TRUE(test::everywhere(worst_angle < 1.5e-8)) << worst_angle;
            // The stored weights are the whole network's.
            ASSERT_EQ(spread.w.rows(), replicated.w.rows());
            Matrix difference = spread.w;
            axpy(-1.0, replicated.w, difference);
            EXPECT_LT(frobenius_norm(difference) / frobenius_norm(replicated.w), 1e-10);
            EXPECT_EQ(spread.reference_accepted, replicated.reference_accepted);
        });
    }
}

TEST(ShardedRun, ResumesBitForBitAndRefusesRetractionsWithoutShardedForm) {
    const auto world = mpi::Communicator::world();
    if (world.size() < 2) GTEST_SKIP() << "sharding needs a group of two ranks or more";
    const auto group = world.split(world.rank() / 2, world.rank());
    const BlacsGrid square = BlacsGrid::square(group), tall = BlacsGrid::tall(group);
    const Distribution where{&group, &square, &tall, 0, 5};
    RunConfig config = wide_config();
    config.batch = 40;  // minibatches through the sharded objective as well
    const Problem problem = build_problem(config, where);
    const RunResult whole = simulate(config, problem);
    ASSERT_EQ(whole.status, RunStatus::done) << whole.failure;
    Checkpoint saved;
    RunControl first;
    first.poll = [](Index step) {
        return step == 37 ? StepAction::save_and_stop : StepAction::proceed;
    };
    first.save = [&](const RunState& s) { saved = {s.step, s.w, s.records, s.seconds}; };
    simulate(config, problem, first);
    RunControl second;
    second.resume_from = &saved;
    const RunResult resumed = simulate(config, problem, second);
    ASSERT_EQ(resumed.status, RunStatus::done);
    EXPECT_EQ(std::memcmp(resumed.w.data(), whole.w.data(),
                          sizeof(double) * static_cast<std::size_t>(whole.w.size())),
              0);
    EXPECT_EQ(resumed.records.back().theory_distance, whole.records.back().theory_distance);
    config.retraction = Retraction::cayley;
    EXPECT_THROW(simulate(config, problem), InputError);  // only where W₁ is sharded
    EXPECT_EQ(simulate(config, build_problem(config)).status, RunStatus::done);
}

// Kernels of m = 12·2 = 24 outputs with the threshold at 100 entries: their rows are spread over
// the group (m² = 576) for a sharded network (h·d = 161) and for replicated weights (h < d), with
// and without constraints; the kernel changes equal the replicated run's as above, 1e-10.
TEST(ShardedRun, KernelRowsSpreadOverTheGroupEqualTheReplicatedRun) {
    for (const Index h : {Index{23}, Index{5}})
        for (const Dynamics dynamics : {Dynamics::orthogonal, Dynamics::naive}) {
            RunConfig config = wide_config();
            config.h = h;
            config.dynamics = dynamics;
            config.weight_decay = dynamics == Dynamics::naive ? 5.0 : 0.0;
            config.ntk_probes = 12;
            config.steps = 30;
            config.reference_tolerance = 0;
            const RunResult replicated = simulate(config, build_problem(config));
            ASSERT_EQ(replicated.status, RunStatus::done) << replicated.failure;
            EXPECT_GT(replicated.records.back().network.tangent_kernel_change, 1e-3);
            for_each_spread_run(config, 100, [&](const RunResult& spread, int g) {
                ASSERT_EQ(spread.records.size(), replicated.records.size());
                double worst = 0.0;
                for (std::size_t i = 0; i < spread.records.size(); ++i) {
                    const NetworkRecord& a = spread.records[i].network;
                    const NetworkRecord& b = replicated.records[i].network;
                    worst = std::max({worst, relative(a.kernel_change, b.kernel_change),
                                      relative(a.tangent_kernel_change, b.tangent_kernel_change)});
                }
                EXPECT_TRUE(test::everywhere(worst < 1e-10))
                    << "h = " << h << ", group of " << g << ": " << worst;
            });
        }
}
