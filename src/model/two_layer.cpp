#include "model/two_layer.hpp"

#include "core/error.hpp"
#include "linalg/blas.hpp"

namespace ssldyn {

// Forward, samples as rows: Uᵀ = Sᵀ W₁ᵀ, Aᵀ = σ(Uᵀ) (and σ′(Uᵀ) when asked), F = Aᵀ W₂ᵀ.
HiddenActivity forward_hidden(ConstView stacked, Activation activation, const TwoLayerWeights& w,
                              bool with_slope) {
    if (w.w1.cols() != stacked.rows || w.w2.cols() != w.w1.rows())
        throw RuntimeFailure("two-layer model: W₁ must be h x d and W₂ k x h");
    HiddenActivity out;
    const Matrix pre = multiply(Op::transpose, Op::transpose, stacked, w.w1);
    activate(activation, pre, out.hidden, with_slope ? &out.slope : nullptr);
    out.outputs = multiply(Op::none, Op::transpose, out.hidden, w.w2);
    return out;
}

// Backward with ∂L/∂F = −(1/n) A: ∂L/∂W₂ = (∂L/∂F)ᵀ Aᵀ, ∂L/∂Aᵀ = (∂L/∂F) W₂,
// ∂L/∂Uᵀ = ∂L/∂Aᵀ ∘ σ′(Uᵀ), ∂L/∂W₁ = (∂L/∂Uᵀ)ᵀ Sᵀ.
void backward_hidden(ConstView stacked, const TwoLayerWeights& w, const HiddenActivity& activity,
                     const Matrix& a, Index n, TwoLayerGradient& out) {
    const double scale_back = -1.0 / static_cast<double>(n);
    out.w2 = Matrix(w.w2.rows(), w.w2.cols());
    gemm(Op::transpose, Op::none, scale_back, a, activity.hidden, 0.0, out.w2);
    Matrix back(activity.hidden.rows(), activity.hidden.cols());
    gemm(Op::none, Op::none, scale_back, a, w.w2, 0.0, back);
    for (Index j = 0; j < back.cols(); ++j)
        for (Index i = 0; i < back.rows(); ++i) back(i, j) *= activity.slope(i, j);
    out.w1 = Matrix(w.w1.rows(), w.w1.cols());
    gemm(Op::transpose, Op::transpose, 1.0, back, stacked, 0.0, out.w1);
}

double TwoLayerObjective::loss(const TwoLayerWeights& w) const {
    const ConstView stacked = views_->stacked(views_used(loss_));
    return batch_loss(forward_hidden(stacked, activation_, w, false).outputs, views_->n(), loss_);
}

TwoLayerGradient TwoLayerObjective::evaluate(const TwoLayerWeights& w) const {
    const Index n = views_->n();
    const ConstView stacked = views_->stacked(views_used(loss_));
    const HiddenActivity activity = forward_hidden(stacked, activation_, w, true);
    TwoLayerGradient out;
    out.loss = batch_loss(activity.outputs, n, loss_);
    backward_hidden(stacked, w, activity, batch_loss_gradient(activity.outputs, n, loss_), n, out);
    return out;
}

}  // namespace ssldyn
