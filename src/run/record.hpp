#pragma once
// One point of a run's trajectory: gradient descent and its theory on the same clock t = η·step
// (THEORY §4–5): the closed-form flow for the linear model, the reference flow for two-layer.
#include <limits>

#include "metrics/metrics.hpp"

namespace ssldyn {

// What a two-layer record adds (THEORY §4.3–4.4, §5); NaN where not measured.
struct NetworkRecord {
    static constexpr double none = std::numeric_limits<double>::quiet_NaN();
    double w1_orthogonality_error = none;  // ‖W₁W₁ᵀ − I‖_F, or ‖W₁ᵀW₁ − I‖_F when h > d
    double w2_orthogonality_error = none;  // ‖W₂W₂ᵀ − I‖_F
    double output_deviation = none;  // ‖f − f_lin‖_F/‖f_lin‖_F on the probes, same weights
    double linear_loss = none;       // loss of the paired linear run
    double loss_deviation = none;    // |L − L_lin| / |L_lin|
    double gram_deviation = none;  // ‖G − G_lin‖_F/‖G_lin‖_F, G = FᵀF of the probes' outputs
    double projector_deviation = none;  // ‖P − P_lin‖_F, row spaces of W₂W₁ and its pair's
    double weight_change = none;        // ‖θ − θ₀‖_F/‖θ₀‖_F
    double kernel_change = none;        // ‖Θ − Θ₀‖_F/‖Θ₀‖_F
    double tangent_kernel_change = none;  // the same for Θ_T
};

struct Record {
    Index step = 0;
    double t = 0.0;
    Snapshot simulated;
    Snapshot theory;
    // Linear orthogonal and penalty: ‖P − P_theory‖_F (the Grassmann flow). Naive and sphere:
    // ‖W − W_theory‖_F / ‖W_theory‖_F. Two-layer: ‖θ − θ_ref‖_F / ‖θ_ref‖_F.
    double theory_distance = 0.0;
    NetworkRecord network = {};
};

}  // namespace ssldyn
