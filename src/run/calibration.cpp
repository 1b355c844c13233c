#include "run/calibration.hpp"

#include <chrono>

#include "run/driver.hpp"
#include "run/footprint.hpp"
#include "run/problem.hpp"

namespace ssldyn {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

}  // namespace

double build_work(Index d, Index n) {
    const auto dd = static_cast<double>(d);
    return dd * dd * dd + dd * dd * static_cast<double>(n);
}

Calibration calibrate(const RunConfig& config, double budget) {
    Calibration out;
    out.run = run_id(config);
    const DataShape shape = data_shape(config);
    const auto start = Clock::now();
    const Problem problem = build_problem(config);
    out.build_seconds = since(start);
    out.build_work = build_work(shape.d, shape.n);
    const auto stepping = Clock::now();
    RunControl control;
    control.poll = [&](Index step) {
        return step >= 3 && since(stepping) > budget ? StepAction::save_and_stop
                                                     : StepAction::proceed;
    };
    const RunResult result = simulate(config, problem, control);
    out.steps = result.steps_taken;
    out.step_seconds = result.seconds_per_step;
    const double flops = step_flops(config, shape.d, shape.n, RunPlacement{});
    out.seconds_per_flop = flops > 0 ? out.step_seconds / flops : 0;
    return out;
}

}  // namespace ssldyn
