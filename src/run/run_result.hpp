#pragma once
// What a run leaves behind, whatever its model: the records of gradient descent next to its
// theory on the clock t = η·step (THEORY §4–5), its weights, and the summaries the store's index
// holds.
#include <array>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "config/run_config.hpp"
#include "metrics/metrics.hpp"
#include "run/record.hpp"

namespace ssldyn {

enum class RunStatus { pending, running, done, failed };
inline constexpr NameTable<RunStatus, 4> run_status_names{{
    {RunStatus::pending, "pending"},
    {RunStatus::running, "running"},
    {RunStatus::done, "done"},
    {RunStatus::failed, "failed"},
}};

struct RunResult {
    RunConfig config;
    RunStatus status = RunStatus::pending;
    std::string failure;  // why a failed run stopped
    Index failed_step = -1;
    std::vector<Record> records;
    Matrix w0;  // initial weights, packed as the model's StateLayout says
    Matrix w;   // weights after the last step taken, packed alike
    // W₀V_k: the initial map's coordinates in the top-k eigenvectors of C (k x k, column i =
    // W₀vᵢ), from which the rise times are predicted (THEORY §6.5).
    Matrix initial_top_coordinates;
    Index steps_taken = 0;         // including those before a resume
    std::vector<double> spectrum;  // eigenvalues of C, descending
    double eta = 0.0, lambda_max = 0.0;
    Retraction retraction = Retraction::qr;  // resolved
    // Network runs: the retraction of W₁ and of W₂, each resolved for its own shape.
    std::optional<std::array<Retraction, 2>> layer_retractions;
    GradientPath path = GradientPath::covariance;
    double theory_conditioning = 1.0;
    double seconds = 0.0;
    // Mean wall time of one gradient step (gradient and retraction or penalty; records and
    // theory excluded).
    double seconds_per_step = std::numeric_limits<double>::quiet_NaN();
    // Summaries for comparing the ways to enforce orthogonality (THEORY §4.2):
    // (L − L*)/|L*| at the last record, L* = −Σ_{i≤k} λ_i the optimum under W Wᵀ = I, for
    // gradient descent and the flow (a stalled run keeps a large gap; penalty runs may go below
    // L*, their W not being orthonormal), the least effective rank over the records, and the
    // effective rank and ‖W Wᵀ − I‖_F of the minimiser the dynamics tend to (orthogonal: k and 0;
    // penalty: s_i² = 1 + λ_i/(2μ); NaN for naive and sphere).
    double final_loss_gap = std::numeric_limits<double>::quiet_NaN();
    // ‖P − P_flow‖_F at the last record to the Grassmann flow from the same W0, for every dynamics
    // (the exact flows of all of them move the row space alike, THEORY §4.2; for orthogonal and
    // penalty runs it is the last theory_distance). NaN for failed runs.
    double final_grassmann_distance = std::numeric_limits<double>::quiet_NaN();
    double theory_final_loss_gap = std::numeric_limits<double>::quiet_NaN();
    double min_effective_rank = std::numeric_limits<double>::quiet_NaN();
    double optimum_effective_rank = std::numeric_limits<double>::quiet_NaN();
    double optimum_orthogonality_error = std::numeric_limits<double>::quiet_NaN();
    // Runs with a predictor (THEORY §6.3): the off-diagonal mass of W_p in the eigenbasis of
    // F = W X Wᵀ at the first and the last record, and ‖W_p‖_F after the last step.
    double initial_predictor_offdiagonal = std::numeric_limits<double>::quiet_NaN();
    double final_predictor_offdiagonal = std::numeric_limits<double>::quiet_NaN();
    double final_predictor_norm = std::numeric_limits<double>::quiet_NaN();
    // Two-layer runs and runs with a predictor: steps of the reference flow accepted and
    // rejected (-1: none).
    long reference_accepted = -1, reference_rejected = -1;

    std::string config_id() const { return run_id(config); }
};

// The retraction a run used, `auto` resolved: its name, or a network's "W₁'s/W₂'s" when its
// layers' differ.
inline std::string retraction_text(const RunResult& r) {
    const std::string name(name_of(retraction_names, r.retraction));
    if (!r.layer_retractions || (*r.layer_retractions)[0] == (*r.layer_retractions)[1]) return name;
    return std::string(name_of(retraction_names, (*r.layer_retractions)[0])) + "/" +
           std::string(name_of(retraction_names, (*r.layer_retractions)[1]));
}

}  // namespace ssldyn
