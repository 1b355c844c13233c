#pragma once
// What every trajectory records (THEORY §5), computed in eigen-coordinates of C for the
// simulated and the theoretical weights alike.
#include <vector>

#include "linalg/matrix.hpp"

namespace ssldyn {

struct Snapshot {
    double loss = 0.0;                    // −Tr(W C Wᵀ)
    double orthogonality_error = 0.0;     // ‖W Wᵀ − I‖_F
    std::vector<double> singular_values;  // of W, descending
    double s2_s1 = 0.0;                   // s₂/s₁ (0 when k = 1)
    double effective_rank = 0.0;          // exp(−Σ pᵢ log pᵢ), pᵢ = sᵢ/Σ s
    // Sine of the largest principal angle between span(v₁…v_k) and the numerical row space of W
    // (directions with s_i > 1e-8·s₁; a collapsed W has a row space of lower dimension).
    double topk_sin_angle = 0.0;
};

double effective_rank(const std::vector<double>& singular_values);

// rows: W V scaled by exp(log_scale); eigenvalues: λ₁ ≥ … ≥ λ_d of C.
Snapshot measure(const Matrix& rows, double log_scale, const std::vector<double>& eigenvalues);

// ‖P_a − P_b‖_F for the projectors onto the row spaces of a and b (same rank), computed as
// √2‖sin Θ‖₂ from the principal angles, accurate for nearby subspaces.
double subspace_distance(const Matrix& a, const Matrix& b);

// ‖A e^{sa} − B e^{sb}‖_F / ‖B e^{sb}‖_F without forming the scales.
double relative_distance(const Matrix& a, double log_scale_a, const Matrix& b, double log_scale_b);

}  // namespace ssldyn
