#pragma once
// One point of a run's trajectory: gradient descent and its theory on the same clock t = η·step
// (THEORY §4–5): the closed-form flow for the linear model, the reference flow for two-layer.
#include <limits>
#include <vector>

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

// One recorded value of a network record, in the store's network/ series: its name, meaning and
// field. A value added to NetworkRecord gets its row here and is measured in run/network_run.cpp.
struct NetworkMetric {
    const char* name;
    const char* description;
    double NetworkRecord::*field;
};

inline const std::vector<NetworkMetric>& network_metrics() {
    static const std::vector<NetworkMetric> table{
        {"w1_orthogonality_error", "||W1 W1^T - I||_F (h <= d) or ||W1^T W1 - I||_F (h > d)",
         &NetworkRecord::w1_orthogonality_error},
        {"w2_orthogonality_error", "||W2 W2^T - I||_F", &NetworkRecord::w2_orthogonality_error},
        {"output_deviation",
         "||f - f_lin||_F / ||f_lin||_F on the probes at the same weights, f_lin = sigma(0) W2 1 + "
         "sigma'(0) W2 W1 x (THEORY 4.3)",
         &NetworkRecord::output_deviation},
        {"linear_loss",
         "loss of the paired linear run (same W0, sigma replaced by its affine part)",
         &NetworkRecord::linear_loss},
        {"loss_deviation", "|L - L_lin| / |L_lin| against the paired linear run",
         &NetworkRecord::loss_deviation},
        {"gram_deviation",
         "||G - G_lin||_F / ||G_lin||_F, G = F^T F the Gram matrix of the probes' representations, "
         "against the paired linear run",
         &NetworkRecord::gram_deviation},
        {"projector_deviation",
         "||P - P_lin||_F between the row spaces of W2 W1 and of the paired linear run's",
         &NetworkRecord::projector_deviation},
        {"weight_change", "||theta - theta_0||_F / ||theta_0||_F over both layers (THEORY 4.4)",
         &NetworkRecord::weight_change},
        {"kernel_change", "||Theta - Theta_0||_F / ||Theta_0||_F, empirical NTK on the ntk probes",
         &NetworkRecord::kernel_change},
        {"tangent_kernel_change",
         "the same for the tangent kernel J Pi_T J^T of the constraint manifold",
         &NetworkRecord::tangent_kernel_change},
    };
    return table;
}

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
