#include "plan/estimate.hpp"

#include <map>
#include <unordered_set>

#include "config/data_files.hpp"
#include "core/error.hpp"
#include "run/driver.hpp"

namespace ssldyn {

namespace {

// The settings that make a footprint's largest part large, for the message that refuses it.
std::string largest_part(const RunConfig& c, const RunEstimate& e) {
    const Footprint& f = e.memory;
    const std::string d = std::to_string(e.shape.d), n = std::to_string(e.shape.n);
    if (f.records >= f.build && f.records >= f.weights && f.records >= f.resident())
        return "its " + std::to_string(record_count(c)) +
               " records (steps = " + std::to_string(c.steps) +
               ", record_every = " + std::to_string(c.record_every) + ") take " +
               bytes_text(f.records);
    if (f.weights >= f.build && f.weights >= f.resident())
        return is_network(c.model)
                   ? "its weights and activities (h = " + std::to_string(c.h) + ", d = " + d +
                         ", n = " + n + ") take " + bytes_text(f.weights)
                   : "its weights (k = " + std::to_string(c.k) + ", d = " + d + ") take " +
                         bytes_text(f.weights);
    const std::string file = c.data == DataSource::spiked ? "" : images_file(c) + ": ";
    return "its data and C (" + file + "d = " + d + ", n = " + n +
           ": C is d x d, the views d x 3n) take " + bytes_text(std::max(f.build, f.resident()));
}

}  // namespace

SweepEstimate estimate_sweep(const SweepPlan& plan, const RunPlacement& at) {
    SweepEstimate out;
    out.runs.reserve(plan.runs.size());
    // The samples a file holds, read once per file (n = 0: all of them).
    std::map<std::string, DataShape> files;
    for (std::size_t i = 0; i < plan.runs.size(); ++i) {
        const RunConfig& c = plan.runs[i];
        RunEstimate e;
        e.shape = {i < plan.dimensions.size() ? plan.dimensions[i] : c.d, c.n};
        if (c.data != DataSource::spiked) {
            const std::string key = images_file(c) + "#" + std::to_string(c.n);
            auto found = files.find(key);
            if (found == files.end()) found = files.emplace(key, data_shape(c)).first;
            e.shape = found->second;
        }
        e.memory = run_footprint(c, e.shape.d, e.shape.n, at);
        e.step_flops = step_flops(c, e.shape.d, e.shape.n, at);
        e.flops = e.step_flops * static_cast<double>(c.steps);
        out.total_flops += e.flops;
        if (out.runs.empty() || e.memory.peak() > out.runs[out.largest].memory.peak())
            out.largest = i;
        if (out.runs.empty() || e.flops > out.runs[out.costliest].flops) out.costliest = i;
        out.runs.push_back(std::move(e));
    }
    return out;
}

void check_memory(const SweepPlan& plan, const SweepEstimate& estimate, const MemoryLimit& limit) {
    if (estimate.runs.empty()) return;
    const RunEstimate& e = estimate.runs[estimate.largest];
    if (e.memory.peak() <= limit.bytes) return;
    const RunConfig& c = plan.runs[estimate.largest];
    const std::string which = plan.runs.size() > 1
                                  ? "run " + std::to_string(estimate.largest) + " (" +
                                        run_id_text(plan.ids[estimate.largest]) + ")"
                                  : "the run";
    throw InputError(which + " needs about " + bytes_text(e.memory.peak()) +
                     " per rank: " + largest_part(c, e) + "; " + bytes_text(limit.bytes) +
                     " are available per rank (" + limit.source +
                     "). By part: " + e.memory.parts());
}

std::size_t distinct_problems(const SweepPlan& plan) {
    std::unordered_set<std::string> keys;
    for (const RunConfig& c : plan.runs) keys.insert(problem_key(c));
    return keys.size();
}

}  // namespace ssldyn
