// A linear run with C, its eigenvectors and the retraction spread over a run group (every matrix
// distributed: threshold 0) against the same run replicated on one rank (LAPACK and BLAS), for
// groups of 1, 2 and 4 ranks and a block size that divides no dimension. Both follow the same
// trajectory: they differ by the summation order of the products and by the factorisations'
// round-off, about u·‖C‖ per step. The orthogonal dynamics contract towards the top-k space (the
// error of one step is not amplified by later ones) and the naive and sphere runs here are
// short and stable, so after 200 steps the difference stays within 200u ≈ 4e-14 times the
// conditioning of the eigenvectors (eigengaps of 0.1 and more below): measured at most 1e-13;
// 1e-11 is the bound. The sine of the largest principal angle is computed as √(1 − cos²)
// near 0 in either layout and so carries √u ≈ 1.5e-8 absolute error.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "../unit/test_support.hpp"
#include "data/spiked.hpp"
#include "grids.hpp"
#include "linalg/blas.hpp"
#include "linalg/lapack.hpp"
#include "linalg/scalapack.hpp"
#include "random/stream.hpp"
#include "run/driver.hpp"
#include "run/problem.hpp"

using namespace ssldyn;

namespace {

constexpr double relative_tolerance = 1e-11;
constexpr double angle_tolerance = 1.5e-8;

RunConfig base_config() {
    RunConfig c;
    c.data = DataSource::spiked;
    c.d = 37;
    c.spikes = {3.0, 2.5, 2.0, 1.5, 1.4};
    c.bulk = 0.5;
    c.n = 300;
    c.sigma_aug = 0.2;
    c.k = 4;
    c.eta_rel = 0.05;
    c.steps = 200;
    c.record_every = 20;
    c.seed = 3;
    return c;
}

// The settings each case changes, as config text.
struct Case {
    const char* name;
    std::vector<std::pair<const char*, const char*>> settings;
};

const Case cases[] = {
    {"orthogonal_qr", {{"retraction", "qr"}}},
    {"orthogonal_polar_contrastive", {{"retraction", "polar"}, {"loss", "contrastive"}}},
    {"orthogonal_cayley", {{"retraction", "cayley"}}},
    {"orthogonal_qr_through_data", {{"retraction", "qr"}, {"path", "data"}}},
    {"naive_weight_decay_exact",
     {{"dynamics", "naive"}, {"weight_decay", "2.8"}, {"covariance", "exact"}}},
    {"sphere", {{"dynamics", "sphere"}}},
    {"penalty", {{"dynamics", "penalty"}, {"penalty", "5"}}},
};

double relative(double a, double b) {
    return std::fabs(a - b) / std::max(1.0, std::fabs(b));
}

// The largest difference of two snapshots, relative to max(1, |value|), the angle aside.
double snapshot_difference(const Snapshot& a, const Snapshot& b) {
    double worst =
        std::max({relative(a.loss, b.loss), relative(a.orthogonality_error, b.orthogonality_error),
                  relative(a.effective_rank, b.effective_rank), relative(a.s2_s1, b.s2_s1)});
    if (a.singular_values.size() != b.singular_values.size()) return INFINITY;
    for (std::size_t i = 0; i < a.singular_values.size(); ++i)
        worst = std::max(worst, relative(a.singular_values[i], b.singular_values[i]));
    return worst;
}

struct Difference {
    double values = 0.0;  // spectrum, records, final W, |r_ii| of W₀V_k
    double angle = 0.0;   // topk_sin_angle, absolute
};

Difference difference(const RunResult& a, const RunResult& b) {
    Difference d;
    if (a.records.size() != b.records.size() || a.spectrum.size() != b.spectrum.size())
        return {INFINITY, INFINITY};
    for (std::size_t i = 0; i < a.spectrum.size(); ++i)
        d.values = std::max(d.values, relative(a.spectrum[i], b.spectrum[i]));
    for (std::size_t i = 0; i < a.records.size(); ++i) {
        const Record &x = a.records[i], &y = b.records[i];
        if (x.step != y.step) return {INFINITY, INFINITY};
        d.values = std::max({d.values, snapshot_difference(x.simulated, y.simulated),
                             snapshot_difference(x.theory, y.theory),
                             std::fabs(x.theory_distance - y.theory_distance)});
        d.angle =
            std::max({d.angle, std::fabs(x.simulated.topk_sin_angle - y.simulated.topk_sin_angle),
                      std::fabs(x.theory.topk_sin_angle - y.theory.topk_sin_angle)});
    }
    d.values = std::max(d.values, support::relative_difference(a.w, b.w));
    // The |r_ii| of W₀V_k the rise times are predicted from (THEORY §6.5): unchanged by the
    // eigenvectors' signs, which the two layouts may choose differently.
    const std::vector<double> ra = triangular_diagonal(a.initial_top_coordinates),
                              rb = triangular_diagonal(b.initial_top_coordinates);
    if (ra.size() != rb.size() || ra.empty()) return {INFINITY, INFINITY};
    for (std::size_t i = 0; i < ra.size(); ++i)
        d.values = std::max(d.values, std::fabs(ra[i] - rb[i]) / rb[i]);
    return d;
}

}  // namespace

TEST(DistributedRun, EveryMatrixSpreadEqualsTheReplicatedRun) {
    const auto world = mpi::Communicator::world();
    for (const Case& test_case : cases) {
        RunConfig config = base_config();
        for (const auto& [key, value] : test_case.settings) set_value(config, key, value);
        const RunResult reference = simulate(config, build_problem(config));
        ASSERT_TRUE(test::everywhere(reference.status == RunStatus::done))
            << test_case.name << ": " << reference.failure;
        for (int g : {1, 2, 4}) {
            if (g > world.size() || world.size() % g != 0) continue;
            const auto group = world.split(world.rank() / g, world.rank());
            const BlacsGrid square = BlacsGrid::square(group), tall = BlacsGrid::tall(group);
            const Distribution where{&group, &square, &tall, 0, 5};
            const Problem problem = build_problem(config, where);
            const std::string label = std::string(test_case.name) + " on " + std::to_string(g);
            EXPECT_TRUE(test::everywhere(problem.c_distributed && problem.vectors_distributed &&
                                         problem.c.empty()))
                << label << ": C not spread alone";
            const RunResult spread = simulate(config, problem);
            const Difference d = difference(spread, reference);
            EXPECT_TRUE(test::everywhere(spread.status == RunStatus::done)) << label;
            EXPECT_TRUE(test::everywhere(d.values <= relative_tolerance))
                << label << ": " << d.values;
            EXPECT_TRUE(test::everywhere(d.angle <= angle_tolerance)) << label << ": " << d.angle;
        }
    }
}

// Below the threshold nothing is spread: the run is the replicated one, bit for bit.
TEST(DistributedRun, BelowTheThresholdEverythingIsReplicated) {
    const auto world = mpi::Communicator::world();
    const RunConfig config = base_config();
    const BlacsGrid square = BlacsGrid::square(world), tall = BlacsGrid::tall(world);
    const Distribution where{&world, &square, &tall, config.d * config.d, 5};
    const Problem problem = build_problem(config, where);
    EXPECT_FALSE(problem.c_distributed);
    const RunResult a = simulate(config, problem), b = simulate(config, build_problem(config));
    EXPECT_TRUE(test::everywhere(support::relative_difference(a.w, b.w) == 0.0));
}

// The gradient through the distributed C against the serial one, and C itself (pdsyr2k from
// the samples handed out in one all-to-all) against dsyr2k.
TEST(DistributedRun, CovarianceAndGradientMatchSerial) {
    const auto world = mpi::Communicator::world();
    for (const char* loss : {"noncontrastive", "contrastive"}) {
        RunConfig config = base_config();
        set_value(config, "loss", loss);
        const Problem serial = build_problem(config);
        const BlacsGrid square = BlacsGrid::square(world), tall = BlacsGrid::tall(world);
        const Problem spread = build_problem(config, {&world, &square, &tall, 0, 5});
        // Sums of 300 products in another order (pdsyr2k, pdgemm): 300u ≈ 7e-14 at most.
        const double c_error =
            support::relative_difference(spread.c_distributed->gather(), serial.c);
        EXPECT_TRUE(test::everywhere(c_error < 1e-13)) << loss << ": " << c_error;
        RandomStream stream(9);
        const Matrix w = gaussian_matrix(stream, config.k, config.d);
        const LossGradient a = spread.objective(config.loss)->evaluate(w);
        const LossGradient b = serial.objective(config.loss)->evaluate(w);
        const double error = std::max(relative(a.loss, b.loss),
                                      support::relative_difference(a.gradient, b.gradient));
        EXPECT_TRUE(test::everywhere(error < 1e-13)) << loss << ": " << error;
    }
}

// Each rank's rows of the spiked samples (Uᵀg summed over the ranks) against those rows of the
// samples drawn whole on one rank: the same draws, and Uᵀg summed in another order, so equal
// to round-off (s = 3 terms of O(1): 1e-14 relative is ample).
TEST(DistributedRun, SpikedSampleRowsAreRowsOfTheWholeSample) {
    const auto world = mpi::Communicator::world();
    const SpikedCovariance spiked(29, {5.0, 3.0, 2.0}, 0.7, true, 4);
    RandomStream whole_stream(3, 11);
    const Matrix whole = spiked.sample(17, whole_stream);
    const Index d = 29, rank = world.rank(), size = world.size();
    const Index first = d * rank / size, count = d * (rank + 1) / size - first;
    RandomStream stream(3, 11);
    const Matrix mine = spiked.sample_rows(17, first, count, stream, [&](Matrix& m) {
        world.sum(m.data(), static_cast<long>(m.size()));
    });
    const double error = support::relative_difference(mine, rows_of(whole, first, count));
    EXPECT_TRUE(test::everywhere(error < 1e-14)) << error;
    EXPECT_TRUE(test::everywhere(stream.position() == whole_stream.position()));
}
