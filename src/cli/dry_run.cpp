#include "cli/dry_run.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <optional>

#include "core/error.hpp"
#include "core/progress.hpp"
#include "query/table.hpp"
#include "run/calibration.hpp"
#include "run/driver.hpp"
#include "store/sweep_layout.hpp"
#include "store/sweep_store.hpp"

namespace ssldyn::cli {

namespace {

constexpr double none = std::numeric_limits<double>::quiet_NaN();

// The problems a sweep's cache keeps at once besides the one being run (run/problem_cache.hpp).
constexpr std::size_t cached_problems = 3;

std::string joined(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
    return out;
}

struct Times {
    std::optional<Calibration> calibration;
    std::string skipped;      // why there is none
    std::vector<double> run;  // seconds of each run's steps, on its group
    double problems = 0;      // building the distinct problems, once each per group
    double total = 0;         // rank-group seconds of the whole sweep
    double wall = 0;          // on the job's groups
};

Times estimate_times(const SweepPlan& plan, const SweepEstimate& estimate,
                     const DryRunSetting& setting, const MemoryLimit& limit) {
    Times t;
    const std::size_t costliest = estimate.costliest;
    const RunEstimate& e = estimate.runs[costliest];
    // Timed on this rank alone, replicated: a run that only fits spread over its group is not.
    const Footprint alone = run_footprint(plan.runs[costliest], e.shape.d, e.shape.n, {});
    if (alone.peak() > limit.bytes) {
        t.skipped = "the costliest run does not fit in this rank's memory alone";
        return t;
    }
    t.calibration = calibrate(plan.runs[costliest]);
    const Calibration& c = *t.calibration;
    std::map<std::string, double> problems;
    for (std::size_t i = 0; i < plan.runs.size(); ++i) {
        const RunEstimate& r = estimate.runs[i];
        t.run.push_back(r.flops * c.seconds_per_flop);
        t.total += t.run.back();
        problems.emplace(problem_key(plan.runs[i]),
                         c.build_work > 0
                             ? c.build_seconds * build_work(r.shape.d, r.shape.n) / c.build_work
                             : 0.0);
    }
    for (const auto& [key, seconds] : problems) t.problems += seconds;
    t.total += t.problems;
    // Groups take runs as they come: the work shared out, but never less than the longest run.
    const double groups = std::max(1, setting.ranks / setting.placement.group_size);
    t.wall = std::max(t.total / groups, *std::max_element(t.run.begin(), t.run.end()));
    return t;
}

Table runs_table(const SweepPlan& plan, const SweepEstimate& estimate, const Times& times) {
    Table table;
    table.columns = {"row",
                     "run_id",
                     "model",
                     "d",
                     "n",
                     "k",
                     "h",
                     "steps",
                     "records",
                     "memory_peak",
                     "memory_data",
                     "memory_problem",
                     "memory_build",
                     "memory_weights",
                     "memory_records",
                     "spread",
                     "step_flops",
                     "seconds"};
    for (std::size_t i = 0; i < plan.runs.size(); ++i) {
        const RunConfig& c = plan.runs[i];
        const RunEstimate& e = estimate.runs[i];
        const Footprint& f = e.memory;
        const bool network = is_network(c.model);
        table.rows.push_back({static_cast<double>(plan.rows[i]), run_id_text(plan.ids[i]),
                              std::string(name_of(model_names, c.model)),
                              static_cast<double>(e.shape.d), static_cast<double>(e.shape.n),
                              static_cast<double>(c.k), network ? static_cast<double>(c.h) : none,
                              static_cast<double>(c.steps), static_cast<double>(record_count(c)),
                              std::round(f.peak()), std::round(f.data), std::round(f.problem),
                              std::round(f.build), std::round(f.weights), std::round(f.records),
                              std::string(f.sharded  ? "sharded"
                                          : f.spread ? "C"
                                                     : "no"),
                              e.step_flops, times.calibration ? times.run[i] : none});
    }
    return table;
}

}  // namespace

void dry_run(const SweepPlan& plan, const DryRunSetting& setting, const MemoryLimit& limit) {
    const SweepEstimate estimate = estimate_sweep(plan, setting.placement);
    const std::size_t problems = distinct_problems(plan);
    const RunEstimate& largest = estimate.runs[estimate.largest];
    // Per rank with the cache: the largest run and the largest of the other problems kept.
    std::vector<double> resident;
    for (const RunEstimate& e : estimate.runs) resident.push_back(e.memory.resident());
    std::sort(resident.rbegin(), resident.rend());
    double with_cache = largest.memory.peak();
    for (std::size_t i = 1; i < std::min(problems, cached_problems + 1) && i < resident.size(); ++i)
        with_cache += resident[i];
    const bool fits = largest.memory.peak() <= limit.bytes;
    const double store = static_cast<double>(sweep_bytes(plan, sweep_layout(plan)));
    Times times;
    if (!fits)
        times.skipped = "the largest run does not fit";
    else if (!setting.calibrate)
        times.skipped = "--no-calibration";
    else
        times = estimate_times(plan, estimate, setting, limit);

    Table summary;
    summary.columns = {"name",
                       "runs",
                       "axes",
                       "problems",
                       "group_size",
                       "ranks",
                       "memory_per_rank",
                       "memory_with_cache",
                       "memory_available",
                       "memory_source",
                       "fits",
                       "largest_run",
                       "store_bytes",
                       "seconds",
                       "wall_seconds",
                       "calibrated_run",
                       "calibration_steps",
                       "seconds_per_step"};
    const Calibration* c = times.calibration ? &*times.calibration : nullptr;
    summary.rows.push_back(
        {plan.name, static_cast<double>(plan.runs.size()), joined(plan.axes),
         static_cast<double>(problems), static_cast<double>(setting.placement.group_size),
         static_cast<double>(setting.ranks), std::round(largest.memory.peak()),
         std::round(with_cache), std::isfinite(limit.bytes) ? std::round(limit.bytes) : none,
         limit.source, std::string(fits ? "yes" : "no"),
         static_cast<double>(plan.rows[estimate.largest]), store, c ? times.total : none,
         c ? times.wall : none, c ? c->run : std::string(),
         c ? static_cast<double>(c->steps) : none, c ? c->step_seconds : none});
    const Table runs = runs_table(plan, estimate, times);
    if (setting.format == DryRunFormat::json) {
        std::printf("{\"sweep\": %s,\n \"runs\": %s}\n", json_object(summary, 0).c_str(),
                    render(runs, TableFormat::json).c_str());
    } else {
        std::printf(
            "sweep %s: %zu runs%s%s, %zu distinct problem%s (data, C and its "
            "eigendecomposition)\n",
            plan.name.c_str(), plan.runs.size(), plan.axes.empty() ? "" : ", axes ",
            joined(plan.axes).c_str(), problems, problems == 1 ? "" : "s");
        const RunConfig& big = plan.runs[estimate.largest];
        std::printf(
            "largest run: row %lld (%s), d = %lld, n = %lld, k = %lld%s: %s per rank\n  %s\n",
            static_cast<long long>(plan.rows[estimate.largest]),
            run_id_text(plan.ids[estimate.largest]).c_str(),
            static_cast<long long>(largest.shape.d), static_cast<long long>(largest.shape.n),
            static_cast<long long>(big.k),
            is_network(big.model) ? (", h = " + std::to_string(big.h)).c_str() : "",
            bytes_text(largest.memory.peak()).c_str(), largest.memory.parts().c_str());
        std::printf(
            "memory per rank: %s (%s with the problems a run group keeps cached); "
            "available %s (%s): %s\n",
            bytes_text(largest.memory.peak()).c_str(), bytes_text(with_cache).c_str(),
            std::isfinite(limit.bytes) ? bytes_text(limit.bytes).c_str() : "unlimited",
            limit.source.c_str(), fits ? "fits" : "DOES NOT FIT");
        std::printf("store: at most %s (the room the sweep takes in it)\n",
                    bytes_text(store).c_str());
        if (c)
            std::printf(
                "time: about %s of run-group time (problems %s), %s on %d rank%s in "
                "groups of %d\n  calibrated on run %s: %lld steps of %.3g s\n",
                format_duration(times.total).c_str(), format_duration(times.problems).c_str(),
                format_duration(times.wall).c_str(), setting.ranks, setting.ranks == 1 ? "" : "s",
                setting.placement.group_size, c->run.c_str(), static_cast<long long>(c->steps),
                c->step_seconds);
        else
            std::printf("time: not estimated (%s)\n", times.skipped.c_str());
        if (plan.runs.size() <= 50) std::fputs(render(runs, TableFormat::table).c_str(), stdout);
    }
    std::fflush(stdout);
    check_memory(plan, estimate, limit);
}

}  // namespace ssldyn::cli
