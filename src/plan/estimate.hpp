#pragma once
// What a sweep will take before anything runs: each run's shapes, memory per rank and work
// (run/footprint.hpp), and the check that refuses a sweep (or a run) whose largest run cannot fit
// in the memory a rank has. `ssldyn sweep --dry-run` and `ssldyn run --dry-run` print it; every
// real sweep and run is guarded by the same check before it allocates.
#include <cstddef>
#include <vector>

#include "core/memory_limit.hpp"
#include "plan/plan.hpp"
#include "run/footprint.hpp"
#include "run/problem.hpp"

namespace ssldyn {

struct RunEstimate {
    DataShape shape;
    Footprint memory;
    double step_flops = 0;  // one step, on one rank of its group
    double flops = 0;       // the whole run: steps × step_flops
};

struct SweepEstimate {
    std::vector<RunEstimate> runs;
    std::size_t largest = 0;    // the run of the largest peak memory
    std::size_t costliest = 0;  // the run of the most work
    double total_flops = 0;
};

SweepEstimate estimate_sweep(const SweepPlan& plan, const RunPlacement& at);

// InputError, before anything is allocated, when the largest run's peak exceeds what a rank has:
// naming the run, the sizes that make it large, its parts and the memory available.
void check_memory(const SweepPlan& plan, const SweepEstimate& estimate, const MemoryLimit& limit);

// Runs share a problem when their problem keys are equal (run/problem.hpp).
std::size_t distinct_problems(const SweepPlan& plan);

}  // namespace ssldyn
