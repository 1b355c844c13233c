// The dry run's estimates against independent counts: memory parts from the shapes, the memory
// a rank is given (SLURM's variables), and the time left of a width sweep weighted by each run's
// work against the equal-cost estimate, on a deterministic cost model.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/memory_limit.hpp"
#include "core/progress.hpp"
#include "plan/estimate.hpp"
#include "run/driver.hpp"
#include "run/footprint.hpp"

using namespace ssldyn;

namespace {

RunConfig spiked(Index d, Index n) {
    RunConfig c;
    c.data = DataSource::spiked;
    c.d = d;
    c.n = n;
    c.k = 4;
    return c;
}

}  // namespace

// The case: spiked d = 60000 holds C and its eigenvectors, 2 · 8 · d² bytes (C alone
// 28.8 GB), and its build peaks at the eigensolver's 5 d² (C, its copy, 2 d² of workspace, the
// sorted eigenvectors).
TEST(Footprint, SquareMatricesOfTheCovariancePath) {
    const Index d = 60000, n = 100;
    const Footprint f = run_footprint(spiked(d, n), d, n, {});
    EXPECT_DOUBLE_EQ(f.problem, 2.0 * 8 * 60000.0 * 60000.0);
    EXPECT_DOUBLE_EQ(f.build, 5.0 * 8 * 60000.0 * 60000.0);
    EXPECT_EQ(f.data, 0.0);  // the views go before the eigensolver: the gradient is through C
    EXPECT_GE(f.peak(), 28.8e9);
    // Spread over 4 ranks of a group: each holds a quarter of every d x d matrix.
    const Footprint spread = run_footprint(spiked(d, n), d, n, {4, Index{1} << 22});
    EXPECT_TRUE(spread.spread);
    EXPECT_DOUBLE_EQ(spread.problem, 2.0 * 8 * 60000.0 * 60000.0 / 4);
}

// steps = 10¹², record_every = 1: 10¹² + 1 records, each at least its struct and its row.
TEST(Footprint, RecordsHeldInMemory) {
    RunConfig c = spiked(16, 200);
    c.steps = 1000000000000;
    c.record_every = 1;
    const Footprint f = run_footprint(c, 16, 200, {});
    EXPECT_EQ(record_count(c), 1000000000001);
    EXPECT_GE(f.records, 1000000000001.0 * static_cast<double>(sizeof(Record)));
    EXPECT_GT(f.peak(), 1e14);
}

// A two-layer network through the data: the views (d x 3n) are kept, and the activity and its
// slope, (2n) x h each for the non-contrastive loss, for the network and its pair.
TEST(Footprint, NetworkActivities) {
    RunConfig c = spiked(64, 1000);
    c.model = Model::two_layer;
    c.h = 4096;
    c.reference_tolerance = 0;
    const Footprint f = run_footprint(c, 64, 1000, {});
    EXPECT_GE(f.data, 8.0 * 64 * 3 * 1000);
    EXPECT_GE(f.weights, 2 * 2 * 8.0 * 2000 * 4096);
    // Sharded over a group of 4 (h > d, h·d above the threshold): a quarter of the units.
    const Footprint shared = run_footprint(c, 64, 1000, {4, 1000});
    EXPECT_TRUE(shared.sharded);
    EXPECT_LT(shared.weights, 0.3 * f.weights);
}

TEST(MemoryLimit, SlurmMemoryPerCpuTimesCpusPerTask) {
    ::setenv("SLURM_MEM_PER_CPU", "3", 1);
    ::setenv("SLURM_CPUS_PER_TASK", "2", 1);
    // Less this process's resident memory (a few MB: the limit holds the program too).
    const MemoryLimit limit = memory_per_rank(1);
    EXPECT_LT(limit.bytes, 6.0 * 1024 * 1024);
    EXPECT_GT(limit.bytes, 6.0 * 1024 * 1024 - 200e6);
    EXPECT_EQ(limit.source.rfind("SLURM_MEM_PER_CPU less this process's ", 0), 0u);
    ::setenv("SLURM_MEM_PER_CPU", "3000", 1);
    ::setenv("SLURM_MEM_PER_NODE", "8", 1);
    // The node's, over 4 ranks, less the same resident memory.
    EXPECT_NEAR(memory_per_rank(4).bytes - 2.0 * 1024 * 1024, limit.bytes - 6.0 * 1024 * 1024, 4e6);
    ::unsetenv("SLURM_MEM_PER_CPU");
    ::unsetenv("SLURM_MEM_PER_NODE");
    ::unsetenv("SLURM_CPUS_PER_TASK");
    EXPECT_GT(memory_per_rank(1).bytes, 0.0);  // MemAvailable, or the cgroup's
}

// A width sweep, cheap widths first (as a sweep expands h = 256 … 4096): its runs take time in
// proportion to their work, off by a deterministic ±20 % from run to run. Halfway through its
// runs, the time left from the work is within 25 % of the true time left, and closer to it than
// the equal-cost estimate (which, here, says a fraction of it).
TEST(Progress, TimeLeftOfAWidthSweepIsWeightedByWork) {
    const SweepPlan plan = parse_sweep_plan(
        "[sweep]\nname = w\n[fixed]\nmodel = two-layer\ndata = spiked\nd = 64\nn = 500\nk = 4\n"
        "steps = 100\n[axes]\nh = 256, 512, 1024, 2048, 4096\nseed = 1, 2\n",
        "width.ini");
    const SweepEstimate estimate = estimate_sweep(plan, {});
    const std::size_t runs = plan.runs.size();
    ASSERT_EQ(runs, 10u);
    std::vector<double> seconds;
    double work_total = 0;
    for (std::size_t i = 0; i < runs; ++i) {
        const double off = 1.0 + 0.2 * std::sin(3.0 * static_cast<double>(i));
        seconds.push_back(estimate.runs[i].flops * 1e-9 * off);
        work_total += estimate.runs[i].flops;
    }
    const std::size_t done = runs / 2;
    double elapsed = 0, work_done = 0, truth = 0;
    for (std::size_t i = 0; i < runs; ++i) {
        if (i < done) {
            elapsed += seconds[i];
            work_done += estimate.runs[i].flops;
        } else {
            truth += seconds[i];
        }
    }
    const double weighted = time_left(elapsed, work_done, work_total);
    const double equal = time_left(elapsed, static_cast<double>(done), static_cast<double>(runs));
    EXPECT_LT(std::fabs(weighted - truth), 0.25 * truth);
    EXPECT_LT(std::fabs(weighted - truth), std::fabs(equal - truth));
    EXPECT_LT(equal, 0.5 * truth);  // the failure of issue 18: "6 s left" with 34 s to go
    EXPECT_LT(time_left(1.0, 0.0, 1.0), 0.0);  // nothing done yet: unknown
}
