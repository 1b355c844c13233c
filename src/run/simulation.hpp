#pragma once
// One run of the linear model: gradient descent next to its closed-form flow, recorded on
// the same clock t = η·step (THEORY §4–5).
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "config/run_config.hpp"
#include "metrics/metrics.hpp"
#include "run/checkpoint.hpp"
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
    Matrix w0;                     // initial weights, k x d
    Matrix w;                      // weights after the last step taken
    Index steps_taken = 0;         // including those before a resume
    std::vector<double> spectrum;  // eigenvalues of C, descending
    double eta = 0.0, lambda_max = 0.0;
    Retraction retraction = Retraction::qr;  // resolved
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
    // Two-layer runs: steps of the reference flow accepted and rejected (-1: none).
    long reference_accepted = -1, reference_rejected = -1;

    std::string config_id() const { return run_id(config); }
};

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
