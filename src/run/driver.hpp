#pragma once
// The run driver: one run of any model, gradient descent next to its theory on the clock
// t = η·step (THEORY §4–5). What every model shares lives here, once: the result's header, the
// checks of a checkpoint to resume from, the step loop with its records, progress, checkpoints
// and interruptions, timing, and the marking of failures. What a model is comes from the model
// table (run/model_table.hpp).
#include <functional>

#include "config/run_config.hpp"
#include "run/checkpoint.hpp"
#include "run/run_result.hpp"

namespace ssldyn {

// progress(step, steps) is called now and then from the step loop.
using Progress = std::function<void(Index step, Index steps)>;

// Asked after every step (so keep it cheap): go on, save the state, or save it and stop.
enum class StepAction { proceed, save, save_and_stop };

// How a caller steers a run: progress, checkpoints and interruptions. A run stopped by
// save_and_stop comes back with status `running`; continuing it from its last saved state gives
// the records and weights of an uninterrupted run, bit for bit.
struct RunControl {
    Progress progress;
    std::function<StepAction(Index step)> poll;
    std::function<void(const RunState&)> save;
    const Checkpoint* resume_from = nullptr;  // continue after resume_from->step
};

struct Problem;

// Builds the problem (data, C, its eigendecomposition), then runs.
RunResult simulate(const RunConfig& config, const Progress& progress = {});
// Runs on a problem built before (shared by the runs of a sweep with the same data).
RunResult simulate(const RunConfig& config, const Problem& problem, const RunControl& control = {});

// Records a successful run writes: step 0, every record_every steps, and the last step.
Index record_count(const RunConfig& config);

}  // namespace ssldyn
