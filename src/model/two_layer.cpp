#include "model/two_layer.hpp"

#include "core/error.hpp"
#include "linalg/blas.hpp"

namespace ssldyn {

namespace {

void check_shapes(const TwoLayerWeights& w, Index d) {
    if (w.w1.cols() != d || w.w2.cols() != w.w1.rows())
        throw RuntimeFailure("two-layer model: W₁ must be h x d and W₂ k x h");
}

}  // namespace

// Forward, samples as rows: Uᵀ = Sᵀ W₁ᵀ, Aᵀ = σ(Uᵀ) into hidden (and σ′(Uᵀ) into slope when
// asked), F = Aᵀ W₂ᵀ returned.
Matrix TwoLayerObjective::forward(const TwoLayerWeights& w, Matrix& hidden, Matrix* slope) const {
    check_shapes(w, views_->d());
    const Matrix pre =
        multiply(Op::transpose, Op::transpose, views_->stacked(views_used(loss_)), w.w1);
    if (linear_)
        activate(affine_, pre, hidden, slope);
    else
        activate(activation_, pre, hidden, slope);
    return multiply(Op::none, Op::transpose, hidden, w.w2);
}

double TwoLayerObjective::loss(const TwoLayerWeights& w) const {
    Matrix hidden;
    return batch_loss(forward(w, hidden, nullptr), views_->n(), loss_);
}

TwoLayerGradient TwoLayerObjective::evaluate(const TwoLayerWeights& w) const {
    const Index n = views_->n();
    Matrix hidden, slope;
    const Matrix f = forward(w, hidden, &slope);
    TwoLayerGradient out;
    out.loss = batch_loss(f, n, loss_);
    // Backward with ∂L/∂F = −(1/n) G: ∂L/∂W₂ = (∂L/∂F)ᵀ Aᵀ, ∂L/∂Aᵀ = (∂L/∂F) W₂,
    // ∂L/∂Uᵀ = ∂L/∂Aᵀ ∘ σ′(Uᵀ), ∂L/∂W₁ = (∂L/∂Uᵀ)ᵀ Sᵀ.
    const double scale_back = -1.0 / static_cast<double>(n);
    const Matrix g = batch_loss_gradient(f, n, loss_);
    out.w2 = Matrix(w.w2.rows(), w.w2.cols());
    gemm(Op::transpose, Op::none, scale_back, g, hidden, 0.0, out.w2);
    Matrix back(hidden.rows(), hidden.cols());
    gemm(Op::none, Op::none, scale_back, g, w.w2, 0.0, back);
    for (Index j = 0; j < back.cols(); ++j)
        for (Index i = 0; i < back.rows(); ++i) back(i, j) *= slope(i, j);
    out.w1 = Matrix(w.w1.rows(), w.w1.cols());
    gemm(Op::transpose, Op::transpose, 1.0, back, views_->stacked(views_used(loss_)), 0.0, out.w1);
    return out;
}

}  // namespace ssldyn
