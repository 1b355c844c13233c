#include "model/two_layer.hpp"

#include "core/error.hpp"
#include "linalg/blas.hpp"

namespace ssldyn {

namespace {

// m as a rows x cols buffer: kept when it has that shape already (its contents are about to be
// overwritten), else freed before the new one is allocated so that the two never coexist.
void reshape(Matrix& m, Index rows, Index cols) {
    if (m.rows() == rows && m.cols() == cols) return;
    m = Matrix();
    m = Matrix(rows, cols);
}

}  // namespace

// Forward, samples as rows: Uᵀ = Sᵀ W₁ᵀ into the slope buffer, Aᵀ = σ(Uᵀ) into hidden and
// σ′(Uᵀ) over Uᵀ when asked, F = Aᵀ W₂ᵀ.
void forward_hidden(ConstView stacked, const Nonlinearity& units, const TwoLayerWeights& w,
                    bool with_slope, HiddenActivity& activity) {
    if (w.w1.cols() != stacked.rows || w.w2.cols() != w.w1.rows())
        throw RuntimeFailure("two-layer model: W₁ must be h x d and W₂ k x h");
    reshape(activity.slope, stacked.cols, w.w1.rows());
    reshape(activity.hidden, stacked.cols, w.w1.rows());
    gemm(Op::transpose, Op::transpose, 1.0, stacked, w.w1, 0.0, activity.slope);
    activate(units, activity.slope, activity.hidden, with_slope ? &activity.slope : nullptr);
    reshape(activity.outputs, stacked.cols, w.w2.rows());
    gemm(Op::none, Op::transpose, 1.0, activity.hidden, w.w2, 0.0, activity.outputs);
}

// Backward with ∂L/∂F = −(1/n) A: ∂L/∂W₂ = (∂L/∂F)ᵀ Aᵀ, ∂L/∂Aᵀ = (∂L/∂F) W₂ (over Aᵀ, no
// longer needed), ∂L/∂Uᵀ = ∂L/∂Aᵀ ∘ σ′(Uᵀ), ∂L/∂W₁ = (∂L/∂Uᵀ)ᵀ Sᵀ.
void backward_hidden(ConstView stacked, const TwoLayerWeights& w, HiddenActivity& activity,
                     const Matrix& a, Index n, TwoLayerGradient& out) {
    const double scale_back = -1.0 / static_cast<double>(n);
    out.w2 = Matrix(w.w2.rows(), w.w2.cols());
    gemm(Op::transpose, Op::none, scale_back, a, activity.hidden, 0.0, out.w2);
    Matrix& back = activity.hidden;
    gemm(Op::none, Op::none, scale_back, a, w.w2, 0.0, back);
    double* b = back.data();
    const double* slope = activity.slope.data();
    for (Index i = 0; i < back.size(); ++i) b[i] *= slope[i];
    out.w1 = Matrix(w.w1.rows(), w.w1.cols());
    gemm(Op::transpose, Op::transpose, 1.0, back, stacked, 0.0, out.w1);
}

double TwoLayerObjective::loss(const TwoLayerWeights& w) const {
    forward_hidden(views_->stacked(views_used(loss_)), units_, w, false, work_);
    return batch_loss(work_.outputs, views_->n(), loss_);
}

TwoLayerGradient TwoLayerObjective::evaluate(const TwoLayerWeights& w) const {
    const Index n = views_->n();
    const ConstView stacked = views_->stacked(views_used(loss_));
    forward_hidden(stacked, units_, w, true, work_);
    TwoLayerGradient out;
    out.loss = batch_loss(work_.outputs, n, loss_);
    backward_hidden(stacked, w, work_, batch_loss_gradient(work_.outputs, n, loss_), n, out);
    return out;
}

}  // namespace ssldyn
