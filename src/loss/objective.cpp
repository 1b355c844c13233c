#include "loss/objective.hpp"

#include "linalg/blas.hpp"
#include "linalg/scalapack.hpp"

namespace ssldyn {

namespace {

// L = −Tr(W C Wᵀ) and ∇L = −2 W C from wc = W C.
LossGradient from_product(const Matrix& w, Matrix wc) {
    double trace = 0.0;
    for (Index j = 0; j < w.cols(); ++j)
        for (Index i = 0; i < w.rows(); ++i) trace += wc(i, j) * w(i, j);
    scale(-2.0, wc);
    return {-trace, std::move(wc)};
}

}  // namespace

LossGradient CovarianceObjective::evaluate(const Matrix& w) const {
    return from_product(w, multiply(w, c_));
}

LossGradient SpectralContrastiveObjective::evaluate(const Matrix& w) const {
    Matrix wc = multiply(w, c_);
    const Matrix ws = multiply(w, sigma_);
    const Matrix g = multiply(Op::none, Op::transpose, ws, w);  // W Σ Wᵀ
    double trace = 0.0, squares = 0.0;
    for (Index j = 0; j < w.cols(); ++j)
        for (Index i = 0; i < w.rows(); ++i) trace += wc(i, j) * w(i, j);
    for (Index j = 0; j < g.cols(); ++j)
        for (Index i = 0; i < g.rows(); ++i) squares += g(i, j) * g(i, j);
    gemm(Op::none, Op::none, 4.0, g, ws, -4.0, wc);
    return {-2.0 * trace + squares, std::move(wc)};
}

LossGradient BarlowTwinsObjective::evaluate(const Matrix& w) const {
    const Matrix wc = multiply(w, c_);
    Matrix excess = Matrix::identity(w.rows());
    syr2k(Op::none, 0.5, wc, w, -1.0, excess);  // sym(W C Wᵀ) − I
    const double norm = frobenius_norm(excess);
    Matrix gradient(w.rows(), w.cols());
    gemm(Op::none, Op::none, 4.0, excess, wc, 0.0, gradient);
    return {norm * norm, std::move(gradient)};
}

LossGradient DistributedCovarianceObjective::evaluate(const Matrix& w) const {
    // W C = (C Wᵀ)ᵀ, C symmetric.
    const DistributedMatrix& c = *c_;
    const Index b = c.block_cols();
    const DistributedMatrix wt = DistributedMatrix::scatter(c.grid(), transpose(w), b, b);
    DistributedMatrix cwt(c.grid(), c.rows(), w.rows(), c.block_rows(), b);
    pgemm(Op::none, Op::none, 1.0, c, wt, 0.0, cwt);
    return from_product(w, transpose(cwt.gather()));
}

// Features of every stacked sample as a (views·n) x k matrix, F = Sᵀ Wᵀ: the tall-skinny
// orientation, where BLAS runs near its dgemm rate (a k-row result with k ≪ n does not).
Matrix DataObjective::features(const Matrix& w) const {
    const ConstView s = views_->stacked(views_used(loss_));
    return multiply(Op::transpose, Op::none, s, transpose(w));
}

double DataObjective::loss(const Matrix& w) const {
    return batch_loss(features(w), views_->n(), loss_);
}

LossGradient DataObjective::evaluate(const Matrix& w) const {
    const Index n = views_->n(), k = w.rows();
    const Matrix f = features(w);
    // Row j of A multiplies sample j of the stack: ∂L/∂Wᵀ = −(1/n) S A (loss/loss.hpp).
    const BatchLossGradient batch = batch_loss_and_gradient(f, n, loss_);
    Matrix gradient_t(w.cols(), k);
    gemm(Op::none, Op::none, -1.0 / static_cast<double>(n), views_->stacked(views_used(loss_)),
         batch.a, 0.0, gradient_t);
    return {batch.loss, transpose(gradient_t)};
}

}  // namespace ssldyn
