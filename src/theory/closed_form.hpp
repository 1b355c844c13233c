#pragma once
// Exact gradient flows of the linear model (THEORY §4.1–4.2), all from one symmetric
// eigendecomposition C = V Λ Vᵀ. Points are returned in eigen-coordinates (the rows of W V),
// where C is diagonal and the top-k eigenspace is spanned by the first k coordinates.
#include <vector>

#include "linalg/lapack.hpp"
#include "optim/dynamics.hpp"

namespace ssldyn {

// W(t) V = exp(log_scale) · rows. The scale is kept apart so that exponentially growing
// weights (weight decay below λ₁) do not overflow before the quantities that matter do.
struct FlowPoint {
    Matrix rows;
    double log_scale = 0.0;
};

// The flow of the dynamics' exact theory: the weight-decay flow (naive), the sphere flow, or
// the Grassmann flow (orthogonal, and penalty: the penalised flow dW/dt = 2WC − 4μ(WWᵀ − I)W is
// 2WC plus a k x k matrix times W, so W(t) = M(t) W₀e^{2Ct} with M(t) invertible and its row
// space is exactly the Grassmann flow's, for every μ; only its singular values differ).
class ClosedFormFlow {
  public:
    ClosedFormFlow(const SymmetricEigen& eigen, const Matrix& w0, Dynamics dynamics,
                   double weight_decay);
    // The same from the eigenvalues and W₀ V (Problem::coordinates, when V is distributed).
    ClosedFormFlow(std::vector<double> eigenvalues, Matrix w0_coordinates, Dynamics dynamics,
                   double weight_decay);

    FlowPoint at(double t) const;

    // Condition number of the k x k block of W₀V on the top-k eigenvectors (orthogonal flow):
    // the graph-coordinate evaluation loses about log10 of it in digits.
    double conditioning() const { return conditioning_; }

  private:
    std::vector<double> lambda_;
    Matrix b_;      // W₀ V
    Matrix graph_;  // B₁⁻¹ B₂ (orthogonal flow only)
    Dynamics dynamics_;
    double weight_decay_;
    double conditioning_ = 1.0;
};

// The minimiser of the penalised loss L(W) + μ‖W Wᵀ − I‖²_F of dynamics = penalty, L = −Tr(W C Wᵀ):
// W = Q S V_kᵀ (Q ∈ O(k) arbitrary, V_k the top-k eigenvectors of C) with
// s_i² = max(0, 1 + λ_i/(2μ)), i ≤ k (per direction, −s²λ + μ(s² − 1)² is least there; by
// Ky Fan the largest s go with the largest λ). Returns s₁ ≥ … ≥ s_k.
std::vector<double> penalty_optimum_singular_values(const std::vector<double>& eigenvalues, Index k,
                                                    double mu);

// Rows of W V for weights W and eigenvectors V.
Matrix eigen_coordinates(const Matrix& w, const SymmetricEigen& eigen);

}  // namespace ssldyn
