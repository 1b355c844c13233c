#pragma once
// One point of a run's trajectory: gradient descent and its closed-form flow on the same clock
// t = η·step (THEORY §4–5).
#include "metrics/metrics.hpp"

namespace ssldyn {

struct Record {
    Index step = 0;
    double t = 0.0;
    Snapshot simulated;
    Snapshot theory;
    // Orthogonal and penalty: ‖P − P_theory‖_F (the Grassmann flow). Naive and sphere:
    // ‖W − W_theory‖_F / ‖W_theory‖_F.
    double theory_distance = 0.0;
};

}  // namespace ssldyn
