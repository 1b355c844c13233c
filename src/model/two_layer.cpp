#include "model/two_layer.hpp"

#include "core/error.hpp"
#include "linalg/blas.hpp"

namespace ssldyn {

namespace {

void check_shapes(const TwoLayerWeights& w, Index d) {
    if (w.w1.cols() != d || w.w2.cols() != w.w1.rows())
        throw RuntimeFailure("two-layer model: W₁ must be h x d and W₂ k x h");
}

// m as a rows x cols buffer: kept when it has that shape already (its contents are about to be
// overwritten), else freed before the new one is allocated so that the two never coexist.
void reshape(Matrix& m, Index rows, Index cols) {
    if (m.rows() == rows && m.cols() == cols) return;
    m = Matrix();
    m = Matrix(rows, cols);
}

}  // namespace

// Forward, samples as rows: Uᵀ = Sᵀ W₁ᵀ into the slope buffer, Aᵀ = σ(Uᵀ) into hidden and
// σ′(Uᵀ) over Uᵀ when asked, F = Aᵀ W₂ᵀ returned.
Matrix TwoLayerObjective::forward(const TwoLayerWeights& w, bool with_slope) const {
    check_shapes(w, views_->d());
    const ConstView s = views_->stacked(views_used(loss_));
    reshape(work_.slope, s.cols, w.w1.rows());
    reshape(work_.hidden, s.cols, w.w1.rows());
    gemm(Op::transpose, Op::transpose, 1.0, s, w.w1, 0.0, work_.slope);
    Matrix* slope = with_slope ? &work_.slope : nullptr;
    if (linear_)
        activate(affine_, work_.slope, work_.hidden, slope);
    else
        activate(activation_, work_.slope, work_.hidden, slope);
    return multiply(Op::none, Op::transpose, work_.hidden, w.w2);
}

double TwoLayerObjective::loss(const TwoLayerWeights& w) const {
    return batch_loss(forward(w, false), views_->n(), loss_);
}

TwoLayerGradient TwoLayerObjective::evaluate(const TwoLayerWeights& w) const {
    const Index n = views_->n();
    const Matrix f = forward(w, true);
    TwoLayerGradient out;
    out.loss = batch_loss(f, n, loss_);
    // Backward with ∂L/∂F = −(1/n) G: ∂L/∂W₂ = (∂L/∂F)ᵀ Aᵀ, ∂L/∂Aᵀ = (∂L/∂F) W₂ (over Aᵀ, no
    // longer needed), ∂L/∂Uᵀ = ∂L/∂Aᵀ ∘ σ′(Uᵀ), ∂L/∂W₁ = (∂L/∂Uᵀ)ᵀ Sᵀ.
    const double scale_back = -1.0 / static_cast<double>(n);
    const Matrix g = batch_loss_gradient(f, n, loss_);
    out.w2 = Matrix(w.w2.rows(), w.w2.cols());
    gemm(Op::transpose, Op::none, scale_back, g, work_.hidden, 0.0, out.w2);
    Matrix& back = work_.hidden;
    gemm(Op::none, Op::none, scale_back, g, w.w2, 0.0, back);
    const Matrix& slope = work_.slope;
    double* b = back.data();
    const double* sl = slope.data();
    for (Index i = 0; i < back.size(); ++i) b[i] *= sl[i];
    out.w1 = Matrix(w.w1.rows(), w.w1.cols());
    gemm(Op::transpose, Op::transpose, 1.0, back, views_->stacked(views_used(loss_)), 0.0, out.w1);
    return out;
}

}  // namespace ssldyn
