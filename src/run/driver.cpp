#include "run/driver.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <memory>
#include <string>

#include "core/error.hpp"
#include "run/model_table.hpp"
#include "run/problem.hpp"

namespace ssldyn {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// What every model's result starts with.
RunResult header(const RunConfig& config, const Problem& problem) {
    RunResult result;
    result.config = config;
    result.spectrum = problem.eigen.values;
    result.lambda_max = problem.lambda_max();
    result.eta = config.eta > 0 ? config.eta : config.eta_rel / result.lambda_max;
    result.path = problem.path;
    return result;
}

void check_fits(const Checkpoint& from, const RunConfig& config, const StateLayout& layout) {
    if (from.step < 0 || from.step > config.steps || from.w.rows() != layout.rows ||
        from.w.cols() != layout.cols || from.records.empty())
        throw RuntimeFailure("checkpoint at step " + std::to_string(from.step) +
                             " does not fit run " + run_id(config));
}

// What `part` of a step returns (its failure, or none), or the RuntimeFailure it raised: a
// factorisation that refused non-finite weights (linalg/lapack.cpp), say, fails the run with its
// reason and its records so far, as when the step itself saw them.
std::string failure_of(Index step, const std::function<std::string()>& part) {
    try {
        return part();
    } catch (const RuntimeFailure& e) {
        return std::string(e.what()) + " at step " + std::to_string(step);
    }
}

// Steps first_step..config.steps (or until a failure or an interruption), then the result's
// status, failure, steps_taken, seconds_per_step, seconds and min_effective_rank. `healthy` is
// false when the record before first_step already failed. Returns false when the run was
// interrupted (status stays running, to be continued from the state just saved).
bool run_steps(ModelRun& run, const RunConfig& config, const RunControl& control, Index first_step,
               bool healthy, const std::function<bool(Index)>& record,
               const std::function<double()>& elapsed, RunResult& result) {
    double step_seconds = 0.0;
    Index steps_taken = 0;
    bool interrupted = false;
    for (Index step = first_step; healthy && step <= config.steps; ++step) {
        const auto step_start = Clock::now();
        std::string failure = failure_of(step, [&] { return run.step(step); });
        step_seconds += seconds_since(step_start);
        ++steps_taken;
        if (failure.empty() && (step % config.record_every == 0 || step == config.steps))
            failure = failure_of(step, [&] {
                return record(step) ? std::string()
                                    : "non-finite loss or metrics at step " + std::to_string(step);
            });
        if (!failure.empty()) {
            healthy = false;
            result.failed_step = step;
            result.failure = std::move(failure);
            break;
        }
        if (control.progress && (step % 100 == 0 || step == config.steps))
            control.progress(step, config.steps);
        const StepAction action = control.poll ? control.poll(step) : StepAction::proceed;
        if (action != StepAction::proceed && control.save && step < config.steps)
            control.save(RunState{step, run.state(), result.records, elapsed()});
        if (action == StepAction::save_and_stop && step < config.steps) {
            interrupted = true;
            break;
        }
    }
    result.w = run.state();
    result.steps_taken = first_step - 1 + steps_taken;
    if (steps_taken > 0) result.seconds_per_step = step_seconds / static_cast<double>(steps_taken);
    result.seconds = elapsed();
    if (interrupted) return false;
    for (const Record& r : result.records)  // finite records only (a failed run's last is not)
        if (std::isfinite(r.simulated.effective_rank) &&
            !(r.simulated.effective_rank >= result.min_effective_rank))
            result.min_effective_rank = r.simulated.effective_rank;
    if (healthy && result.failure.empty()) {
        result.status = RunStatus::done;
    } else {
        result.status = RunStatus::failed;
        if (result.failure.empty()) {
            result.failure = "non-finite metrics at initialisation";
            result.failed_step = 0;
        }
    }
    return true;
}

}  // namespace

Index record_count(const RunConfig& config) {
    return 1 + config.steps / config.record_every + (config.steps % config.record_every ? 1 : 0);
}

RunResult simulate(const RunConfig& config, const Progress& progress) {
    const auto start = Clock::now();
    RunControl control;
    control.progress = progress;
    RunResult result = simulate(config, build_problem(config), control);
    result.seconds = seconds_since(start);
    return result;
}

RunResult simulate(const RunConfig& config, const Problem& problem, const RunControl& control) {
    const auto start = Clock::now();
    const Checkpoint* resume = control.resume_from;
    const double seconds_before = resume ? resume->seconds : 0.0;
    auto elapsed = [&] { return seconds_before + seconds_since(start); };
    const ModelKind& kind = model_kind(config);
    RunResult result = header(config, problem);
    const std::unique_ptr<ModelRun> run = kind.start(config, problem, result);
    result.w0 = run->initial_state();
    const Matrix initial_rows = problem.coordinates(run->initial_map());
    result.initial_top_coordinates =
        copy_of(initial_rows.columns(0, std::min(initial_rows.rows(), initial_rows.cols())));

    result.status = RunStatus::running;
    auto record = [&](Index step) {
        Record r;
        r.step = step;
        r.t = result.eta * static_cast<double>(step);
        const bool healthy = run->record(r);
        result.records.push_back(std::move(r));
        return healthy;
    };

    Index first_step = 1;
    bool healthy = true;
    if (resume) {
        check_fits(*resume, config, kind.state_layout(config, problem.d));
        run->resume(*resume);
        result.records = resume->records;
        first_step = resume->step + 1;
    } else {
        healthy = record(0);
    }
    if (run_steps(*run, config, control, first_step, healthy, record, elapsed, result))
        run->finish(result);
    return result;
}

}  // namespace ssldyn
