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

class ClosedFormFlow {
  public:
    ClosedFormFlow(const SymmetricEigen& eigen, const Matrix& w0, Dynamics dynamics,
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

// Rows of W V for weights W and eigenvectors V.
Matrix eigen_coordinates(const Matrix& w, const SymmetricEigen& eigen);

}  // namespace ssldyn
