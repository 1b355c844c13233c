#include "run/simulation.hpp"

#include <chrono>
#include <cmath>

#include "core/error.hpp"
#include "random/stream.hpp"
#include "run/problem.hpp"
#include "theory/closed_form.hpp"

namespace ssldyn {

namespace {

enum StreamPurpose : std::uint64_t { initial_weights_stream = 21 };

bool finite(const Snapshot& s) {
    return std::isfinite(s.loss) && std::isfinite(s.effective_rank) && std::isfinite(s.s2_s1);
}

}  // namespace

Index record_count(const RunConfig& config) {
    return 1 + config.steps / config.record_every + (config.steps % config.record_every ? 1 : 0);
}

RunResult simulate(const RunConfig& config, const Progress& progress) {
    const auto start = std::chrono::steady_clock::now();
    RunResult result = simulate(config, build_problem(config), progress);
    result.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
}

RunResult simulate(const RunConfig& config, const Problem& problem, const Progress& progress) {
    const auto start = std::chrono::steady_clock::now();
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

    const StepRule rule{config.dynamics, result.retraction, result.eta, config.weight_decay};
    RandomStream init_stream(config.seed, initial_weights_stream);
    const double sigma = 1.0 / std::sqrt(static_cast<double>(problem.d));
    Matrix w = initial_weights(rule, gaussian_matrix(init_stream, config.k, problem.d, sigma));
    result.w0 = w;

    const ClosedFormFlow flow(problem.eigen, w, config.dynamics, config.weight_decay);
    result.theory_conditioning = flow.conditioning();
    const auto objective = problem.objective(config.loss);

    result.status = RunStatus::running;
    auto record = [&](Index step) {
        Record r;
        r.step = step;
        r.t = result.eta * static_cast<double>(step);
        const Matrix rows = eigen_coordinates(w, problem.eigen);
        const FlowPoint theory = flow.at(r.t);
        r.simulated = measure(rows, 0.0, problem.eigen.values);
        r.theory = measure(theory.rows, theory.log_scale, problem.eigen.values);
        r.theory_distance = config.dynamics == Dynamics::orthogonal
                                ? subspace_distance(rows, theory.rows)
                                : relative_distance(rows, 0.0, theory.rows, theory.log_scale);
        result.records.push_back(std::move(r));
        return finite(result.records.back().simulated);
    };

    bool healthy = record(0);
    for (Index step = 1; healthy && step <= config.steps; ++step) {
        gradient_step(rule, *objective, w);
        if (!all_finite(w)) {
            healthy = false;
            result.failed_step = step;
            result.failure = "non-finite weights at step " + std::to_string(step);
            break;
        }
        if (step % config.record_every == 0 || step == config.steps) {
            healthy = record(step);
            if (!healthy) {
                result.failed_step = step;
                result.failure = "non-finite loss or metrics at step " + std::to_string(step);
            }
        }
        if (progress && (step % 100 == 0 || step == config.steps)) progress(step, config.steps);
    }
    if (healthy && result.failure.empty()) {
        result.status = RunStatus::done;
    } else {
        result.status = RunStatus::failed;
        if (result.failure.empty()) {
            result.failure = "non-finite metrics at initialisation";
            result.failed_step = 0;
        }
    }
    result.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
}

}  // namespace ssldyn
