#pragma once
// The two-layer model f(x) = W₂σ(W₁x) (THEORY §2), W₁ h x d, W₂ k x h, under the losses of
// THEORY §3 through the data, full batch: the loss and both layers' gradients by
// back-propagation, every product BLAS-3 (in blocks of units where that is faster) with the
// stacked samples as rows (the tall-skinny orientation in which BLAS runs near its dgemm rate,
// as the linear data path).
#include "data/views.hpp"
#include "loss/loss.hpp"
#include "model/activation.hpp"
#include "model/precision.hpp"

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

// The activity of a set of hidden units on the stacked samples, in double or float.
template <class T>
struct HiddenActivity {
    BasicMatrix<T> outputs;  // the set's term of F: one row per stacked sample, k columns
    BasicMatrix<T> hidden;  // Aᵀ = σ(Uᵀ), Uᵀ = Sᵀ W₁ᵀ: one row per stacked sample, one per unit
    BasicMatrix<T> slope;  // σ′(Uᵀ) when σ′ is not a function of σ (slope_from_value), else ∂L/∂Uᵀ
};

// The model on a set of hidden units: rows of W₁ with the same columns of W₂, all of them or one
// rank's share (model/sharded_two_layer.hpp). The outputs F = σ(Sᵀ W₁ᵀ) W₂ᵀ are a sum over the
// hidden units, so a set gives its term of F; given ∂L/∂F, its gradient blocks need nothing from
// the other units. The buffers are kept from one evaluation to the next: fresh ones cost a page
// fault per page each step, a third of the step's time at n = 20000, h = 2048. In float32 the
// samples are copied to floats at the first forward after use_data and kept (a sharded SGD run
// switches to each minibatch and back: the whole views are copied again only when evaluated).
class HiddenLayer {
  public:
    HiddenLayer(const Nonlinearity& units, Precision precision)
        : units_(units), precision_(precision) {}

    // The samples of the next evaluations: d rows, one column per stacked sample; the view must
    // stay valid while they are used.
    void use_data(ConstView stacked);

    // The set's term of F (one row per stacked sample) at the units w holds; σ′ or σ is kept
    // for backward when with_slope.
    Matrix& forward(const TwoLayerWeights& w, bool with_slope);

    // ∂L/∂W₁ and ∂L/∂W₂ of the units after forward(w, true), given A with ∂L/∂F = −(1/n) A
    // (loss/loss.hpp); out.loss left as is.
    void backward(const TwoLayerWeights& w, const Matrix& a, Index n, TwoLayerGradient& out);

  private:
    Nonlinearity units_;
    Precision precision_;
    ConstView stacked_{nullptr, 0, 0, 0};
    bool floats_current_ = false;  // stacked32_ holds stacked_
    HiddenActivity<double> work_;
    // float32: the samples, the weights, A and the gradients as floats, and F in double.
    HiddenActivity<float> work32_;
    FloatMatrix stacked32_, w1_, w2_, a_, g1_, g2_;
    Matrix outputs_;
};

// One objective is not to be evaluated from two threads at once (it keeps its buffers).
class TwoLayerObjective : public NetworkObjective {
  public:
    // units: σ, or its affine part for the paired linear model of THEORY §4.3.
    TwoLayerObjective(const Views& views, LossFunction loss, const Nonlinearity& units,
                      Precision precision = Precision::float64);

    double loss(const TwoLayerWeights& w) const override;
    TwoLayerGradient evaluate(const TwoLayerWeights& w) const override;

  private:
    const Views* views_;
    LossFunction loss_;
    mutable HiddenLayer layer_;
};

}  // namespace ssldyn
