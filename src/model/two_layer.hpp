#pragma once
// The two-layer model f(x) = W₂σ(W₁x) (THEORY §2), W₁ h x d, W₂ k x h, under the losses of
// THEORY §3 through the data, full batch: the loss and both layers' gradients by
// back-propagation, every product one BLAS-3 call with the stacked samples as rows (the
// tall-skinny orientation in which BLAS runs near its dgemm rate, as the linear data path).
#include "data/views.hpp"
#include "loss/loss.hpp"
#include "model/activation.hpp"

namespace ssldyn {

struct TwoLayerWeights {
    Matrix w1;  // h x d
    Matrix w2;  // k x h
};

struct TwoLayerGradient {
    double loss = 0.0;
    Matrix w1;  // ∂L/∂W₁, h x d
    Matrix w2;  // ∂L/∂W₂, k x h
};

// What gradient descent and the reference flow need of a two-layer network's objective: the SSL
// losses below, or the supervised baseline (model/supervised.hpp).
class NetworkObjective {
  public:
    virtual ~NetworkObjective() = default;
    virtual double loss(const TwoLayerWeights& w) const = 0;
    virtual TwoLayerGradient evaluate(const TwoLayerWeights& w) const = 0;
};

class TwoLayerObjective : public NetworkObjective {
  public:
    TwoLayerObjective(const Views& views, Loss loss, Activation activation)
        : views_(&views), loss_(loss), activation_(activation) {}
    // The paired linear model of THEORY §4.3: σ replaced by its affine part at 0.
    TwoLayerObjective(const Views& views, Loss loss, const Linearisation& affine)
        : views_(&views), loss_(loss), affine_(affine), linear_(true) {}

    double loss(const TwoLayerWeights& w) const override;
    TwoLayerGradient evaluate(const TwoLayerWeights& w) const override;

  private:
    // F from the weights, leaving σ(Uᵀ) in work_.hidden and, when with_slope, σ′(Uᵀ) in
    // work_.slope (which holds Uᵀ first).
    Matrix forward(const TwoLayerWeights& w, bool with_slope) const;
    const Views* views_;
    Loss loss_;
    Activation activation_ = Activation::identity;
    Linearisation affine_ = {};
    bool linear_ = false;
    // The two (views·n) x h buffers of back-propagation, kept from one evaluation to the next:
    // fresh ones cost a page fault per page each step, a third of the step's time at n = 20000,
    // h = 2048. So one objective is not to be evaluated from two threads at once.
    struct Workspace {
        Matrix hidden, slope;
    };
    mutable Workspace work_;
};

}  // namespace ssldyn
