#pragma once
// The step loop every model shares: steps, a record every record_every steps and at the last,
// progress, and the caller's checkpoints and interruptions (RunControl). What a step and a
// record are is the model's.
#include <functional>
#include <string>

#include "run/simulation.hpp"

namespace ssldyn {

struct StepLoop {
    // One gradient step: empty, or why the weights went bad.
    std::function<std::string(Index step)> step;
    // Appends the record of a step to result.records: false when a value is not finite.
    std::function<bool(Index step)> record;
    // The weights a checkpoint saves.
    std::function<Matrix()> state;
};

// Runs steps first_step..config.steps (or until a failure or an interruption), then fills
// result's status, failure, steps_taken, seconds_per_step, seconds and min_effective_rank.
// `healthy` is false when the record before first_step already failed. Returns false when the
// run was interrupted (status stays running, to be continued from the state just saved).
bool run_steps(const RunConfig& config, const RunControl& control, Index first_step, bool healthy,
               const StepLoop& loop, const std::function<double()>& elapsed, RunResult& result);

}  // namespace ssldyn
