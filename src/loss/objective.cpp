#include "loss/objective.hpp"

#include <algorithm>

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

namespace {

// Samples a block of gram_sums: 32 anchors and their 32 positives are 400 KB at d = 784, in the
// core's cache while their features and products are formed, and each product (32 x d x k,
// 4·10⁵ multiply-adds at d = 784, k = 16) is small enough for OpenBLAS's small-matrix kernels,
// which skip the packing that took half the time of the products over the whole S at k = 16
// (bench/README-losses.md).
constexpr Index gram_block = 32;

// The k x k products of gram_form, G = FᵀF/n and K = FᵀF⁺/n, and those of the d x k products of
// the gradient, P = X F⁺ + X⁺ F and Q = X F (X, X⁺ the views, samples as columns), that are
// asked for: one pass over the samples, a block at a time.
enum class Products { none, p, p_and_q };
struct GramSums {
    Matrix gram, cross, p, q;
};

GramSums gram_sums(const Views& views, const Matrix& w, Products products) {
    const Index n = views.n(), d = views.d(), k = w.rows();
    const double inverse = 1.0 / static_cast<double>(n);
    GramSums out{Matrix(k, k), Matrix(k, k), Matrix(), Matrix()};
    if (products != Products::none) out.p = Matrix(d, k);
    if (products == Products::p_and_q) out.q = Matrix(d, k);
    // The block's features as rows, Fᵀ = W X and F⁺ᵀ = W X⁺ (k x b): the products with W then
    // have k rows, which OpenBLAS's small-matrix kernels take faster than k columns.
    Matrix ft_block(k, gram_block), ft_positive_block(k, gram_block);
    for (Index first = 0; first < n; first += gram_block) {
        const Index b = std::min(gram_block, n - first);
        const ConstView x = block(views.anchors(), 0, first, d, b);
        const ConstView xp = block(views.positives(), 0, first, d, b);
        const View ft = block(ft_block.view(), 0, 0, k, b);
        const View ft_positive = block(ft_positive_block.view(), 0, 0, k, b);
        gemm(Op::none, Op::none, 1.0, w, x, 0.0, ft);
        gemm(Op::none, Op::none, 1.0, w, xp, 0.0, ft_positive);
        syrk(Op::none, inverse, ft, 1.0, out.gram);
        gemm(Op::none, Op::transpose, inverse, ft, ft_positive, 1.0, out.cross);
        if (products == Products::none) continue;
        gemm(Op::none, Op::transpose, 1.0, x, ft_positive, 1.0, out.p);
        gemm(Op::none, Op::transpose, 1.0, xp, ft, 1.0, out.p);
        if (products == Products::p_and_q) gemm(Op::none, Op::transpose, 1.0, x, ft, 1.0, out.q);
    }
    return out;
}

}  // namespace

double DataObjective::loss(const Matrix& w) const {
    if (has_gram_form(loss_.loss)) {
        const GramSums sums = gram_sums(*views_, w, Products::none);
        return gram_form(loss_.loss, sums.gram, sums.cross).loss;
    }
    return batch_loss(features(w), views_->n(), loss_);
}

LossGradient DataObjective::evaluate(const Matrix& w) const {
    const Index n = views_->n(), k = w.rows();
    const double scale_n = -1.0 / static_cast<double>(n);
    Matrix gradient_t(w.cols(), k);
    if (has_gram_form(loss_.loss)) {
        // ∂L/∂Wᵀ = −(1/n) S A = −(1/n) (X (F⁺ M + F M_a) + X⁺ F M) = −(1/n) (P M + Q M_a).
        // Q only where M_a ≠ 0 (the spectral contrastive loss).
        const GramSums sums = gram_sums(
            *views_, w, loss_.loss == Loss::spectral_contrastive ? Products::p_and_q : Products::p);
        const GramForm form = gram_form(loss_.loss, sums.gram, sums.cross);
        gemm(Op::none, Op::none, scale_n, sums.p, form.m, 0.0, gradient_t);
        if (form.m_anchor.rows() > 0)
            gemm(Op::none, Op::none, scale_n, sums.q, form.m_anchor, 1.0, gradient_t);
        return {form.loss, transpose(gradient_t)};
    }
    const Matrix f = features(w);
    // Row j of A multiplies sample j of the stack: ∂L/∂Wᵀ = −(1/n) S A (loss/loss.hpp).
    const BatchLossGradient batch = batch_loss_and_gradient(f, n, loss_);
    gemm(Op::none, Op::none, scale_n, views_->stacked(views_used(loss_)), batch.a, 0.0, gradient_t);
    return {batch.loss, transpose(gradient_t)};
}

}  // namespace ssldyn
