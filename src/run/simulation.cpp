#include "run/simulation.hpp"

#include <chrono>
#include <cmath>

#include "core/error.hpp"
#include "random/stream.hpp"
#include "run/problem.hpp"
#include "run/step_loop.hpp"
#include "run/two_layer_run.hpp"
#include "theory/closed_form.hpp"

namespace ssldyn {

namespace {

enum StreamPurpose : std::uint64_t { initial_weights_stream = 21 };

bool finite(const Snapshot& s) {
    return std::isfinite(s.loss) && std::isfinite(s.effective_rank) && std::isfinite(s.s2_s1);
}

// The comparison summaries of RunResult (see there).
void summarise(RunResult& result, const RunConfig& config, const std::vector<double>& lambda) {
    double optimum = 0.0;
    for (Index i = 0; i < config.k; ++i) optimum -= lambda[static_cast<std::size_t>(i)];
    const Record& last = result.records.back();
    if (optimum != 0.0) {
        result.final_loss_gap = (last.simulated.loss - optimum) / std::fabs(optimum);
        result.theory_final_loss_gap = (last.theory.loss - optimum) / std::fabs(optimum);
    }
    if (config.dynamics == Dynamics::orthogonal) {
        result.optimum_effective_rank = static_cast<double>(config.k);
        result.optimum_orthogonality_error = 0.0;
    } else if (config.dynamics == Dynamics::penalty) {
        const std::vector<double> s =
            penalty_optimum_singular_values(lambda, config.k, config.penalty);
        result.optimum_effective_rank = effective_rank(s);
        double squares = 0.0;
        for (double x : s) squares += (x * x - 1.0) * (x * x - 1.0);
        result.optimum_orthogonality_error = std::sqrt(squares);
    }
}

}  // namespace

Index record_count(const RunConfig& config) {
    return 1 + config.steps / config.record_every + (config.steps % config.record_every ? 1 : 0);
}

RunResult simulate(const RunConfig& config, const Progress& progress) {
    const auto start = std::chrono::steady_clock::now();
    RunControl control;
    control.progress = progress;
    RunResult result = simulate(config, build_problem(config), control);
    result.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
}

RunResult simulate(const RunConfig& config, const Problem& problem, const RunControl& control) {
    if (is_network(config.model)) return simulate_two_layer(config, problem, control);
    const auto start = std::chrono::steady_clock::now();
    const Checkpoint* resume = control.resume_from;
    const double seconds_before = resume ? resume->seconds : 0.0;
    auto elapsed = [&] {
        return seconds_before +
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    if (config.k > problem.d)
        throw InputError("k: " + std::to_string(config.k) +
                         " exceeds the input dimension d = " + std::to_string(problem.d));
    RunResult result;
    result.config = config;
    result.spectrum = problem.eigen.values;
    result.lambda_max = problem.lambda_max();
    result.eta = config.eta > 0 ? config.eta : config.eta_rel / result.lambda_max;
    result.retraction = resolve(config.retraction, config.k, problem.d);
    result.path = problem.path;

    const StepRule rule{config.dynamics,     result.retraction, result.eta,
                        config.weight_decay, config.penalty,    problem.distribution};
    RandomStream init_stream(config.seed, initial_weights_stream);
    const double sigma = 1.0 / std::sqrt(static_cast<double>(problem.d));
    Matrix w = initial_weights(rule, gaussian_matrix(init_stream, config.k, problem.d, sigma));
    result.w0 = w;

    const ClosedFormFlow flow(problem.eigen.values, problem.coordinates(w), config.dynamics,
                              config.weight_decay);
    result.theory_conditioning = flow.conditioning();
    const auto objective = problem.objective(config.loss);

    result.status = RunStatus::running;
    auto record = [&](Index step) {
        Record r;
        r.step = step;
        r.t = result.eta * static_cast<double>(step);
        const Matrix rows = problem.coordinates(w);
        const FlowPoint theory = flow.at(r.t);
        r.simulated = measure(rows, 0.0, problem.eigen.values);
        r.theory = measure(theory.rows, theory.log_scale, problem.eigen.values);
        r.theory_distance = grassmann_reference(config.dynamics)
                                ? subspace_distance(rows, theory.rows)
                                : relative_distance(rows, 0.0, theory.rows, theory.log_scale);
        result.records.push_back(std::move(r));
        return finite(result.records.back().simulated);
    };

    Index first_step = 1;
    bool healthy = true;
    if (resume) {
        if (resume->step < 0 || resume->step > config.steps || resume->w.rows() != config.k ||
            resume->w.cols() != problem.d || resume->records.empty())
            throw RuntimeFailure("checkpoint at step " + std::to_string(resume->step) +
                                 " does not fit run " + run_id(config));
        w = resume->w;
        result.records = resume->records;
        first_step = resume->step + 1;
    } else {
        healthy = record(0);
    }
    StepLoop loop;
    loop.step = [&](Index step) -> std::string {
        gradient_step(rule, *objective, w);
        return all_finite(w) ? "" : "non-finite weights at step " + std::to_string(step);
    };
    loop.record = record;
    loop.state = [&] { return w; };
    if (!run_steps(config, control, first_step, healthy, loop, elapsed, result)) return result;
    healthy = result.status == RunStatus::done;
    summarise(result, config, problem.eigen.values);
    if (healthy && grassmann_reference(config.dynamics)) {
        result.final_grassmann_distance = result.records.back().theory_distance;
    } else if (healthy) {
        // The naive and sphere flows add only k x k left factors to dW/dt = 2WC, so their row
        // space follows the Grassmann flow from the same W0 too; this measures how well GD kept it.
        const ClosedFormFlow grassmann(problem.eigen.values, problem.coordinates(result.w0),
                                       Dynamics::orthogonal, 0.0);
        result.final_grassmann_distance =
            subspace_distance(problem.coordinates(w), grassmann.at(result.records.back().t).rows);
    }
    return result;
}

bool run_steps(const RunConfig& config, const RunControl& control, Index first_step, bool healthy,
               const StepLoop& loop, const std::function<double()>& elapsed, RunResult& result) {
    double step_seconds = 0.0;
    Index steps_taken = 0;
    bool interrupted = false;
    for (Index step = first_step; healthy && step <= config.steps; ++step) {
        const auto step_start = std::chrono::steady_clock::now();
        std::string failure = loop.step(step);
        step_seconds +=
            std::chrono::duration<double>(std::chrono::steady_clock::now() - step_start).count();
        ++steps_taken;
        if (failure.empty() && (step % config.record_every == 0 || step == config.steps) &&
            !loop.record(step))
            failure = "non-finite loss or metrics at step " + std::to_string(step);
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
            control.save(RunState{step, loop.state(), result.records, elapsed()});
        if (action == StepAction::save_and_stop && step < config.steps) {
            interrupted = true;
            break;
        }
    }
    result.w = loop.state();
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

}  // namespace ssldyn
