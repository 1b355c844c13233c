// The store's arrays (store/sweep_layout, store/sweep_arrays): how a plan's runs map onto them,
// checked against counts made here, and a writer's runs read back exactly as they were given,
// whatever the order and batching of the writes.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>

#include "plan/plan.hpp"
#include "run/driver.hpp"
#include "run/model_table.hpp"
#include "run/problem.hpp"
#include "store/run_series.hpp"
#include "store/sweep_reader.hpp"
#include "store/sweep_store.hpp"
#include "store/sweep_writer.hpp"
#include "test_files.hpp"

namespace ssldyn {
namespace {

// Linear and two-layer runs of two lengths and two output dimensions.
SweepPlan mixed_plan() {
    return parse_sweep_plan(
        "[sweep]\nname = mixed\n[fixed]\ndata = spiked\nd = 6\nspikes = 3,2\nn = 40\nh = 5\n"
        "record_every = 5\n[axes]\nmodel = linear, two-layer\nk = 2, 3\nsteps = 20, 35\n"
        "seed = 1, 2\n",
        "test");
}

TEST(SweepLayout, CountsRecordsComponentsShapesAndProblemsOfThePlan) {
    const SweepPlan plan = mixed_plan();
    const SweepLayout layout = sweep_layout(plan);
    Index records = 0, components = 0;
    std::set<std::string> problems;
    std::set<std::pair<std::string, std::pair<Index, Index>>> shapes;
    for (const auto& run : plan.runs) {
        records = std::max(records, record_count(run));
        components = std::max(components, run.k);
        problems.insert(problem_key(run));
        shapes.insert({std::string(name_of(model_names, run.model)), {run.k, 0}});
    }
    EXPECT_EQ(layout.records, static_cast<hsize_t>(records));  // 1 + 35/5 = 8
    EXPECT_EQ(layout.records, 8u);
    EXPECT_EQ(layout.components, static_cast<hsize_t>(components));
    EXPECT_TRUE(layout.network);
    EXPECT_EQ(layout.weights.blocks.size(), shapes.size());  // a shape per model and k
    hsize_t slots = 0;
    for (const auto& b : layout.weights.blocks) slots += b.slots;
    EXPECT_EQ(slots, plan.runs.size());  // a slot per run
    hsize_t distinct = 0;
    for (const auto& b : layout.spectra.blocks) distinct += b.slots;
    EXPECT_EQ(distinct, problems.size());  // a slot per problem
    // Runs of one problem share their spectrum's slot, and only they do.
    for (std::size_t i = 0; i < plan.runs.size(); ++i)
        for (std::size_t j = 0; j < plan.runs.size(); ++j)
            EXPECT_EQ(problem_key(plan.runs[i]) == problem_key(plan.runs[j]),
                      layout.spectra.block[i] == layout.spectra.block[j] &&
                          layout.spectra.slot[i] == layout.spectra.slot[j]);
}

TEST(SweepLayout, DescribesEveryDistanceItsRunsMeasure) {
    // Linear runs measure their distance to the flow by dynamics (projectors or W itself), a
    // network to its reference flow: the one dataset names each.
    const SweepPlan plan = parse_sweep_plan(
        "[sweep]\nname = distances\n[fixed]\ndata = spiked\nd = 6\nspikes = 3,2\nn = 40\n"
        "h = 5\nk = 2\nsteps = 10\nrecord_every = 5\n[axes]\nmodel = linear, two-layer\n"
        "dynamics = naive, orthogonal\n",
        "test");
    const SweepLayout layout = sweep_layout(plan);
    std::set<std::string> meanings;
    for (const auto& run : plan.runs)
        meanings.insert(model_kind(run.model).record_layout(run).theory_distance);
    EXPECT_EQ(meanings.size(), 3u);
    for (const auto& m : meanings)
        EXPECT_NE(layout.theory_distance.find(m), std::string::npos) << m;
}

// A finished run of distinct numbers everywhere: row r's values can be told from any other's.
StoredRun synthetic_run(const SweepPlan& plan, const SweepLayout& layout, Index row) {
    const RunConfig& config = plan.runs[static_cast<std::size_t>(row)];
    StoredRun run;
    run.row = row;
    run.status = row % 3 == 2 ? RunStatus::failed : RunStatus::done;
    const Index count = row % 3 == 2 ? 2 : record_count(config);
    const double base = 1000.0 * static_cast<double>(row);
    for (Index i = 0; i < count; ++i) {
        Record r;
        r.step = i * config.record_every;
        r.t = base + 0.5 * static_cast<double>(i);
        double v = base + 10.0 * static_cast<double>(i);
        for (const auto& s : recorded_series())
            if (s.recorded_by(config.model)) s.set(r, v += 0.125);
        for (Index j = 0; j < config.k; ++j) {
            r.simulated.singular_values.push_back(v + 0.25 * static_cast<double>(j));
            r.theory.singular_values.push_back(-v - static_cast<double>(j));
            r.simulated.modes.push_back(v + 0.0625 * static_cast<double>(j));
            r.theory.modes.push_back(-v - 0.5 * static_cast<double>(j));
        }
        run.records.push_back(r);
    }
    for (std::size_t c = 0; c < run.components.size(); ++c)
        for (Index j = 0; j < config.k; ++j)
            run.components[c].push_back(base + 0.375 * static_cast<double>(c) +
                                        0.03125 * static_cast<double>(j));
    const Block& w = layout.weights.blocks[static_cast<std::size_t>(layout.weights.block[row])];
    run.w0 = Matrix(static_cast<Index>(w.rows), static_cast<Index>(w.cols));
    for (Index j = 0; j < run.w0.cols(); ++j)
        for (Index i = 0; i < run.w0.rows(); ++i)
            run.w0(i, j) = base + static_cast<double>(i) + 0.001 * static_cast<double>(j);
    if (run.status == RunStatus::done) {
        run.w = run.w0;
        run.w(0, 0) = -base;
        run.checkpoint_step = config.steps;
    }
    const Index d = plan.dimensions[static_cast<std::size_t>(row)];
    // The spectrum is the problem's: equal for the runs that share it.
    const auto slot = static_cast<double>(layout.spectra.slot[row]);
    for (Index i = 0; i < d; ++i) run.spectrum.push_back(slot + 1.0 / static_cast<double>(i + 1));
    run.set("final_loss_gap", base + 0.75);
    run.set("failed_step", static_cast<long long>(row));
    run.set("failure", "row " + std::to_string(row));
    return run;
}

void expect_same(const StoredRun& a, const StoredRun& b, std::size_t k) {
    ASSERT_EQ(a.records.size(), b.records.size()) << "row " << a.row;
    for (std::size_t i = 0; i < a.records.size(); ++i) {
        EXPECT_EQ(a.records[i].step, b.records[i].step);
        EXPECT_EQ(a.records[i].t, b.records[i].t);
        for (const auto& s : recorded_series()) {
            const double x = s.of(a.records[i]), y = s.of(b.records[i]);
            EXPECT_TRUE(x == y || (std::isnan(x) && std::isnan(y))) << s.dataset;
        }
        EXPECT_EQ(a.records[i].simulated.singular_values.size(), k);
        EXPECT_EQ(a.records[i].simulated.singular_values, b.records[i].simulated.singular_values);
        EXPECT_EQ(a.records[i].theory.singular_values, b.records[i].theory.singular_values);
        EXPECT_EQ(a.records[i].simulated.modes.size(), k);
        EXPECT_EQ(a.records[i].simulated.modes, b.records[i].simulated.modes);
        EXPECT_EQ(a.records[i].theory.modes, b.records[i].theory.modes);
    }
    EXPECT_EQ(a.components, b.components);
    EXPECT_EQ(a.status, b.status);
    EXPECT_EQ(a.checkpoint_step, b.checkpoint_step);
    EXPECT_EQ(a.w0.rows(), b.w0.rows());
    for (Index j = 0; j < a.w0.cols(); ++j)
        for (Index i = 0; i < a.w0.rows(); ++i) EXPECT_EQ(a.w0(i, j), b.w0(i, j));
    if (a.checkpoint_step >= 0) {
        EXPECT_EQ(a.w(0, 0), b.w(0, 0));
    }
    EXPECT_EQ(a.spectrum, b.spectrum);
    for (std::size_t c = 0; c < a.numbers.size(); ++c) {
        EXPECT_TRUE(a.numbers[c] == b.numbers[c] ||
                    (std::isnan(a.numbers[c]) && std::isnan(b.numbers[c])));
        EXPECT_EQ(a.integers[c], b.integers[c]);
        EXPECT_EQ(a.texts[c], b.texts[c]);
    }
}

TEST(SweepArrays, RunsReadBackAsWrittenInAnyOrderAndBatching) {
    const test::TempFolder folder("ssldyn-arrays");
    const std::string path = folder.path("s.h5");
    const SweepPlan plan = mixed_plan();
    const SweepLayout layout = sweep_layout(plan);
    const Index runs = static_cast<Index>(plan.runs.size());
    std::vector<StoredRun> written;
    for (Index r = 0; r < runs; ++r) written.push_back(synthetic_run(plan, layout, r));
    create_atomically(path, sweep_bytes(plan, layout), [&](const h5::File& file) {
        create_sweep(file, plan, layout, Provenance{});
        SweepWriter writer(file, plan.name);
        // Backwards, in batches of three, leaving row 1 pending; row 4 saves a state first.
        const std::vector<Record> first(written[4].records.begin(), written[4].records.begin() + 2);
        writer.write_checkpoint(4, plan.runs[4], RunState{5, written[4].w0, first, 1.5});
        for (Index r = runs - 1, n = 0; r >= 0; --r) {
            if (r == 1) continue;
            writer.add(written[static_cast<std::size_t>(r)]);
            if (++n % 3 == 0) writer.flush();
        }
        writer.flush();
    });
    const h5::File file = open_store(path);
    const auto status = read_statuses(file, plan.name);
    EXPECT_EQ(status[1], RunStatus::pending);
    const SweepReader reader(file, plan.name);
    for (Index r = 0; r < runs; ++r) {
        if (r == 1) continue;
        const auto& w = written[static_cast<std::size_t>(r)];
        expect_same(w, reader.run(r), static_cast<std::size_t>(plan.runs[r].k));
        const auto checkpoint = read_checkpoint(file, plan.name, plan.runs[r], r);
        ASSERT_EQ(checkpoint.has_value(), w.status == RunStatus::done);
        if (checkpoint) {
            EXPECT_EQ(checkpoint->records.size(), w.records.size());
        }
    }
    // The pending row holds nothing: no records, NaN weights, no saved state.
    const StoredRun pending = reader.run(1);
    EXPECT_TRUE(pending.records.empty());
    EXPECT_TRUE(std::isnan(pending.w0(0, 0)));
    EXPECT_EQ(pending.checkpoint_step, -1);
    EXPECT_EQ(stored_signature(file, plan.name), plan.signature());
}

TEST(SweepArrays, SavedStateReadsBackUpToItsStep) {
    const test::TempFolder folder("ssldyn-arrays");
    const std::string path = folder.path("s.h5");
    const SweepPlan plan = mixed_plan();
    const SweepLayout layout = sweep_layout(plan);
    const StoredRun full = synthetic_run(plan, layout, 0);
    create_atomically(path, sweep_bytes(plan, layout), [&](const h5::File& file) {
        create_sweep(file, plan, layout, Provenance{});
        SweepWriter writer(file, plan.name);
        writer.write_checkpoint(0, plan.runs[0], RunState{10, full.w0, full.records, 2.5});
    });
    const h5::File file = open_store(path);
    const auto saved = read_checkpoint(file, plan.name, plan.runs[0], 0);
    ASSERT_TRUE(saved.has_value());
    EXPECT_EQ(saved->step, 10);
    EXPECT_EQ(saved->seconds, 2.5);
    // Records up to step 10 of record_every = 5: steps 0, 5, 10.
    ASSERT_EQ(saved->records.size(), 3u);
    EXPECT_EQ(saved->records[2].step, 10);
    EXPECT_EQ(saved->records[2].simulated.loss, full.records[2].simulated.loss);
    EXPECT_EQ(saved->w(1, 2), full.w0(1, 2));
    EXPECT_EQ(read_statuses(file, plan.name)[0], RunStatus::running);
}

}  // namespace
}  // namespace ssldyn
