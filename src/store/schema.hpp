#pragma once
// The store's layout (README "The HDF5 store"), in one place. The writer, the readers and the
// Python analysis use these names.
#include <string>
#include <vector>

#include "run/run_result.hpp"

namespace ssldyn::schema {

inline constexpr long long version = 2;

inline std::string sweep_path(const std::string& sweep) {
    return "/sweeps/" + sweep;
}

// The dimensions of a sweep (netCDF-4 dimension scales, each a dataset of its name): the runs in
// plan order, the records, the singular values. `k` is a setting, hence `component`.
inline constexpr const char* run_dimension = "run";
inline constexpr const char* record_dimension = "record";
inline constexpr const char* component_dimension = "component";
inline constexpr std::size_t run_id_length = 16;

// status (run): an HDF5 enum, names in code order (RunStatus).
inline const std::vector<std::string>& status_names() {
    static const std::vector<std::string> names{"pending", "running", "done", "failed"};
    return names;
}
inline const std::vector<std::string>& boolean_names() {
    static const std::vector<std::string> names{"FALSE", "TRUE"};  // h5py reads numpy bool
    return names;
}
inline constexpr const char* status = "status";
// Per-record datasets (run, record) that are not a metric.
inline constexpr const char* step = "step";
inline constexpr const char* time = "t";
// Per-run blocks: weights by shape, spectra by problem (sweep_layout.hpp).
inline constexpr const char* weights_group = "weights";
inline constexpr const char* spectrum_group = "spectrum";
inline constexpr const char* checkpoint_step = "checkpoint_step";

// The recorded metrics: a Snapshot's (metrics/metrics.hpp) in trajectory/ and theory/, a network
// record's (run/record.hpp) in network/. Each table sits beside the values it names.
using Metric = SnapshotMetric;
inline const std::vector<Metric>& metrics() {
    return snapshot_metrics();
}
using ssldyn::NetworkMetric;
inline const std::vector<NetworkMetric>& network_metrics() {
    return ssldyn::network_metrics();
}

// Units of a time of day (UTC), as netCDF's CF conventions write them: xarray reads such a
// column as datetime64.
inline constexpr const char* time_units = "seconds since 1970-01-01 00:00:00 UTC";

// Per-run results known only after the run: columns of /sweeps/<name>/<column>.
enum class ColumnType { number, integer, text };
struct Column {
    std::string name;
    ColumnType type;
    std::size_t length;  // text only (data_source: as long as the plan's longest)
    std::string description;
    const char* units = "1";
};

inline const std::vector<Column>& result_columns() {
    static const std::vector<Column> table = [] {
        std::vector<Column> t{
            {"final_step", ColumnType::integer, 0, "step of the last record (-1: not run)"},
            {"final_t", ColumnType::number, 0, "t of the last record"},
            {"final_theory_distance", ColumnType::number, 0,
             "distance to the closed-form flow at the last record (see "
             "trajectory/theory_distance)"},
            {"max_theory_distance", ColumnType::number, 0,
             "largest distance to the closed-form flow over the records"},
        };
        for (const auto& m : metrics()) {
            t.push_back({std::string("final_") + m.name, ColumnType::number, 0,
                         std::string("gradient descent at the last record: ") + m.description});
            t.push_back({std::string("theory_final_") + m.name, ColumnType::number, 0,
                         std::string("closed-form flow at the last record: ") + m.description});
        }
        for (const auto& m : network_metrics()) {
            t.push_back({std::string("initial_") + m.name, ColumnType::number, 0,
                         std::string("two-layer, at step 0: ") + m.description});
            t.push_back({std::string("final_") + m.name, ColumnType::number, 0,
                         std::string("two-layer, at the last record: ") + m.description});
        }
        t.insert(t.end(),
                 {
                     {"reference_accepted", ColumnType::integer, 0,
                      "two-layer, byol, simsiam: steps of the reference flow accepted (-1: no "
                      "reference)"},
                     {"reference_rejected", ColumnType::integer, 0,
                      "two-layer, byol, simsiam: steps of the reference flow rejected by its error "
                      "control"},
                     {"eta_used", ColumnType::number, 0, "step size eta"},
                     {"eta_lambda_max", ColumnType::number, 0, "eta * lambda_max(C)"},
                     {"lambda_max", ColumnType::number, 0, "largest eigenvalue of C"},
                     {"theory_conditioning", ColumnType::number, 0,
                      "condition number of W0 V on the top-k eigenvectors (orthogonal flow)"},
                     {"seconds", ColumnType::number, 0, "wall time of the run", "s"},
                     {"seconds_per_step", ColumnType::number, 0,
                      "mean wall time of one gradient step (gradient and retraction or "
                      "penalty; records and theory excluded; two-layer: with the paired "
                      "linear run's step)",
                      "s"},
                     {"final_loss_gap", ColumnType::number, 0,
                      "(L - L*)/|L*| at the last record, L* = -(lambda_1 + ... + lambda_k) the "
                      "optimum under W W^T = I; large for a stalled run, below 0 for penalty "
                      "runs (W not orthonormal)"},
                     {"final_grassmann_distance", ColumnType::number, 0,
                      "||P - P_flow||_F at the last record to the Grassmann flow from the same "
                      "W0, for every dynamics (all their exact flows move the row space alike)"},
                     {"theory_final_loss_gap", ColumnType::number, 0,
                      "(L - L*)/|L*| of the closed-form flow at the last record"},
                     {"min_effective_rank", ColumnType::number, 0,
                      "least effective rank of W over the records (a transient collapse)"},
                     {"optimum_effective_rank", ColumnType::number, 0,
                      "effective rank of the minimiser the dynamics tend to: k (orthogonal), "
                      "s_i^2 = 1 + lambda_i/(2 mu) (penalty), NaN (naive, sphere)"},
                     {"optimum_orthogonality_error", ColumnType::number, 0,
                      "||W W^T - I||_F of that minimiser: 0 (orthogonal), "
                      "sqrt(sum (lambda_i/(2 mu))^2) (penalty), NaN (naive, sphere)"},
                     {"initial_predictor_offdiagonal", ColumnType::number, 0,
                      "byol, simsiam: ||offdiag(Q^T W_p Q)||_F / ||W_p||_F at step 0, Q the "
                      "eigenvectors of F = W X W^T (THEORY 6.3); NaN for runs without a "
                      "predictor"},
                     {"final_predictor_offdiagonal", ColumnType::number, 0,
                      "the same at the last record (0: W_p aligned with F's eigenvectors)"},
                     {"final_predictor_norm", ColumnType::number, 0,
                      "byol, simsiam: ||W_p||_F after the last step"},
                     {"failed_step", ColumnType::integer, 0, "step at which a failed run stopped"},
                     {"failure", ColumnType::text, 200, "why a failed run stopped"},
                     {"retraction_used", ColumnType::text, 16,
                      "retraction after resolving auto (two-layer: W1's/W2's when they differ)"},
                     {"retraction_w1", ColumnType::text, 16,
                      "two-layer: retraction of W1 after resolving auto for its shape"},
                     {"retraction_w2", ColumnType::text, 16,
                      "two-layer: retraction of W2 after resolving auto for its shape"},
                     {"gradient_path_used", ColumnType::text, 16, "covariance or data"},
                     {"host", ColumnType::text, 64, "host that ran it"},
                     {"started", ColumnType::number, 0,
                      "when it started (UTC; a run continued from a saved state: when it "
                      "continued)",
                      time_units},
                     {"ended", ColumnType::number, 0, "when it ended or saved its state (UTC)",
                      time_units},
                     {"event", ColumnType::integer, 0,
                      "the event (events/) of the job that ran it (-1: not run)"},
                     {"data_source", ColumnType::text, 0,
                      "the data it read: the spiked covariance's parameters, or the images "
                      "file as found on its host"},
                 });
        return t;
    }();
    return table;
}

// Per-run results with one value per eigen-direction (run, component), THEORY §6.5.
struct ComponentColumn {
    const char* name;
    const char* description;
};
inline const std::vector<ComponentColumn>& component_columns() {
    static const std::vector<ComponentColumn> table{
        {"rise_time",
         "per eigen-direction v_i of C: first t at which ||W v_i||^2 of gradient descent reaches "
         "half its value at the last record, linear between records (NaN: never)"},
        {"rise_time_predicted",
         "its prediction from eps = |r_ii|, R of the QR factorisation of W0 V_k = [W0 v_1 | ... "
         "| W0 v_k] (the part of W0 v_i orthogonal to W0 v_1 .. W0 v_{i-1}; ||W0 v_i|| for an "
         "aligned start): ln(lambda_i/eps^2)/(8 lambda_i) (spectral contrastive, THEORY 6.1), "
         "ln(1/(lambda_i eps^2))/(8 lambda_i) (barlow_twins, 6.2); NaN for other losses and "
         "lambda_i <= 0"},
    };
    return table;
}

// The value of status[run].
inline long long status_code(RunStatus s) {
    return static_cast<long long>(s);
}

}  // namespace ssldyn::schema
