#pragma once
// BYOL and SimSiam on the two-layer model (THEORY §6.3): the online encoder f = W₂σ(W₁·) on the
// augmented view, the predictor W_p on its output, the target encoder f_a = W₂ₐσ(W₁ₐ·) (BYOL's the
// moving average of both layers, SimSiam's the online one) on the anchors:
// L = ½ (1/n) Σᵢ ‖W_p f(x₁ᵢ) − sg(f_a(x₂ᵢ))‖², its gradients through the data by
// back-propagation through each branch. The velocity and the step are loss/predictor.hpp's, layer
// by layer.
#include "loss/predictor.hpp"
#include "model/two_layer.hpp"

namespace ssldyn {

inline std::vector<const Matrix*> layers(const TwoLayerWeights& w) {
    return {&w.w1, &w.w2};
}
inline std::vector<Matrix*> layers(TwoLayerWeights& w) {
    return {&w.w1, &w.w2};
}

using TwoLayerPredictorState = PredictorStateOf<TwoLayerWeights>;
using TwoLayerPredictorGradient = PredictorGradientOf<TwoLayerWeights>;

// One objective is not to be evaluated from two threads at once (it keeps its buffers).
class TwoLayerPredictorObjective {
  public:
    // target_gradient = false (the stop-gradient's runs, whose velocity does not use it) skips
    // the target branch's back-propagation, a third of the step.
    TwoLayerPredictorObjective(const Views& views, const Nonlinearity& units,
                               Precision precision = Precision::float64,
                               bool target_gradient = true);

    // L, ∂L/∂(W₁, W₂) through the online branch, ∂L/∂W_p, and ∂L/∂(W₁ₐ, W₂ₐ) through the target
    // branch (what the stop-gradient removes; empty without target_gradient).
    TwoLayerPredictorGradient evaluate(const TwoLayerPredictorState& s) const;

    // F = f(X₂)ᵀ f(X₂)/n at the encoder w, k x k: the second moment of its representations of
    // the anchors, in whose eigenbasis the predictor's alignment is measured.
    Matrix anchor_second_moment(const TwoLayerWeights& w) const;

  private:
    Index n_;
    bool target_gradient_;
    mutable HiddenLayer online_, target_;  // on X₁ = X⁺ and X₂ = X
};

}  // namespace ssldyn
