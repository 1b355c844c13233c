#pragma once
// The cost of a step on this machine, measured: a few timed steps of one run (the costliest of a
// sweep), so that a dry run turns each run's work (run/footprint.hpp: steps × flops of a step)
// into seconds.
#include <string>

#include "config/run_config.hpp"

namespace ssldyn {

struct Calibration {
    std::string run;              // the id of the run timed
    Index steps = 0;              // steps timed
    double step_seconds = 0;      // per step, measured
    double seconds_per_flop = 0;  // step_seconds over the step's flops of the model
    double build_seconds = 0;     // building its problem (data, C, eigendecomposition)
    double build_work = 0;        // the problem's d³ + d²n, by which other problems are scaled
};

// Builds the run's problem on this rank alone and times its first steps (at least 3, for at most
// about `budget` seconds of stepping).
Calibration calibrate(const RunConfig& config, double budget = 0.5);

// The work of building a problem of d features and n samples: its eigendecomposition and C.
double build_work(Index d, Index n);

}  // namespace ssldyn
