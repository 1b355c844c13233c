#pragma once
// What every trajectory records (THEORY §5), computed in eigen-coordinates of C for the
// simulated and the theoretical weights alike.
#include <limits>
#include <vector>

#include "linalg/matrix.hpp"

namespace ssldyn {

// NaN where nothing was measured: measure() sets every value.
struct Snapshot {
    static constexpr double none = std::numeric_limits<double>::quiet_NaN();
    double loss = none;                   // −Tr(W C Wᵀ)
    double orthogonality_error = none;    // ‖W Wᵀ − I‖_F
    std::vector<double> singular_values;  // of W, descending
    // ‖W vᵢ‖, i = 1..k, vᵢ the eigenvectors of C by descending eigenvalue (THEORY §6.5): the
    // columns of W V, so that stepwise learning shows one curve per eigen-direction.
    std::vector<double> modes;
    double s2_s1 = none;           // s₂/s₁ (0 when k = 1)
    double effective_rank = none;  // exp(−Σ pᵢ log pᵢ), pᵢ = sᵢ/Σ s
    // Sine of the largest principal angle between span(v₁…v_k) and the numerical row space of W
    // (directions with s_i > 1e-8·s₁; a collapsed W has a row space of lower dimension).
    double topk_sin_angle = none;

    // A record of k singular values with nothing measured (a theory not followed).
    static Snapshot missing(Index k) {
        Snapshot s;
        s.singular_values.assign(static_cast<std::size_t>(k), none);
        s.modes.assign(static_cast<std::size_t>(k), none);
        return s;
    }
};

// One recorded scalar of a Snapshot: its name in the store, units, meaning and field. A metric
// added to Snapshot gets its row here and its value in measure(): the store, query and the
// Python reader take it from this table.
struct SnapshotMetric {
    const char* name;
    const char* units;
    const char* description;
    double Snapshot::*field;
};

inline const std::vector<SnapshotMetric>& snapshot_metrics() {
    static const std::vector<SnapshotMetric> table{
        {"loss", "1", "L = -Tr(W C W^T), THEORY 3", &Snapshot::loss},
        {"orthogonality_error", "1", "||W W^T - I||_F", &Snapshot::orthogonality_error},
        {"s2_s1", "1", "ratio of the two largest singular values of W", &Snapshot::s2_s1},
        {"effective_rank", "1", "exp(-sum p_i log p_i), p_i = s_i / sum_j s_j (THEORY 4.1)",
         &Snapshot::effective_rank},
        {"topk_sin_angle", "1",
         "sine of the largest principal angle between the numerical row space of W and the "
         "top-k eigenspace of C",
         &Snapshot::topk_sin_angle},
    };
    return table;
}

double effective_rank(const std::vector<double>& singular_values);

// rows: W V scaled by exp(log_scale); eigenvalues: λ₁ ≥ … ≥ λ_d of C.
Snapshot measure(const Matrix& rows, double log_scale, const std::vector<double>& eigenvalues);

// Per eigen-direction i = 1..modes[i].size(): the first t at which modes[i]² reaches half its
// value at the last record, linear in ‖W vᵢ‖² between records (THEORY §6.5); NaN where the last
// value is not finite or no record reaches it.
std::vector<double> rise_times(const std::vector<double>& t,
                               const std::vector<std::vector<double>>& modes);

// ‖P_a − P_b‖_F for the projectors onto the row spaces of a and b (same rank), computed as
// √2‖sin Θ‖₂ from the principal angles, accurate for nearby subspaces.
double subspace_distance(const Matrix& a, const Matrix& b);

// ‖AᵀA − BᵀB‖_F / ‖BᵀB‖_F (d x d, O(k d²)): the distance of weights known up to a rotation
// W → QW (THEORY §6.1).
double gram_distance(const Matrix& a, const Matrix& b);

// ‖A e^{sa} − B e^{sb}‖_F / ‖B e^{sb}‖_F without forming the scales.
double relative_distance(const Matrix& a, double log_scale_a, const Matrix& b, double log_scale_b);

}  // namespace ssldyn
