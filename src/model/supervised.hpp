#pragma once
// The supervised baseline of the NTK contrast (THEORY §4.4): the two-layer network in the NTK
// parametrisation, f(x) = h^{-1/2} W₂ σ(d^{-1/2} W₁ x) with N(0, 1) entries, trained by plain
// gradient descent on the squared loss L = (1/2n) Σᵢ ‖f(xᵢ) − yᵢ‖² against one-hot labels.
// Under this parametrisation training becomes lazy as h grows (the weights move by O(1) in
// norm while their norm grows as √h), which the orthogonality-constrained SSL runs do not.
#include <vector>

#include "model/activation.hpp"
#include "model/two_layer.hpp"
#include "random/stream.hpp"

namespace ssldyn {

class SupervisedObjective : public NetworkObjective {
  public:
    // samples d x n; labels in [0, classes).
    SupervisedObjective(const Matrix& samples, const std::vector<Index>& labels, Index classes,
                        Activation activation);

    double loss(const TwoLayerWeights& w) const override;
    TwoLayerGradient evaluate(const TwoLayerWeights& w) const override;  // raw weights' gradients

  private:
    Matrix outputs(const TwoLayerWeights& w, Matrix* slope, Matrix* hidden) const;
    Matrix samples_t_;  // n x d, scaled by d^{-1/2}
    Matrix targets_;    // n x k one-hot
    Activation activation_;
};

// N(0, 1) entries: W₁ h x d, W₂ k x h.
TwoLayerWeights ntk_initial_weights(Index d, Index h, Index k, RandomStream& stream);

}  // namespace ssldyn
