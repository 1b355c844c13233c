#include "loss/objective.hpp"

#include "linalg/blas.hpp"

namespace ssldyn {

LossGradient CovarianceObjective::evaluate(const Matrix& w) const {
    Matrix wc = multiply(w, c_);
    double trace = 0.0;
    for (Index j = 0; j < w.cols(); ++j)
        for (Index i = 0; i < w.rows(); ++i) trace += wc(i, j) * w(i, j);
    scale(-2.0, wc);
    return {-trace, std::move(wc)};
}

Matrix DataObjective::features(const Matrix& w) const {
    return multiply(w, views_->stacked(views_used(loss_)));  // k x (views * n)
}

double DataObjective::loss_of(const Matrix& f) const {
    const Index n = views_->n(), k = f.rows();
    double sum = 0.0;
    for (Index j = 0; j < n; ++j)
        for (Index r = 0; r < k; ++r) {
            const double positive = f(r, n + j);
            const double negative = loss_ == Loss::contrastive ? f(r, 2 * n + j) : 0.0;
            sum += f(r, j) * (positive - negative);
        }
    return -sum / static_cast<double>(n);
}

double DataObjective::loss(const Matrix& w) const {
    return loss_of(features(w));
}

LossGradient DataObjective::evaluate(const Matrix& w) const {
    const Index n = views_->n(), k = w.rows();
    const Index used = views_used(loss_);
    Matrix f = features(w);
    const double value = loss_of(f);
    // Column j of A multiplies sample j of the stack: ∂L/∂W = −(1/n) A Sᵀ with
    // A = [F⁺ − F⁻ | F | −F] (contrastive) or [F⁺ | F] (non-contrastive).
    Matrix a(k, used * n);
    for (Index j = 0; j < n; ++j)
        for (Index r = 0; r < k; ++r) {
            const double anchor = f(r, j), positive = f(r, n + j);
            if (loss_ == Loss::contrastive) {
                a(r, j) = positive - f(r, 2 * n + j);
                a(r, 2 * n + j) = -anchor;
            } else {
                a(r, j) = positive;
            }
            a(r, n + j) = anchor;
        }
    Matrix gradient(k, w.cols());
    gemm(Op::none, Op::transpose, -1.0 / static_cast<double>(n), a, views_->stacked(used), 0.0,
         gradient);
    return {value, std::move(gradient)};
}

}  // namespace ssldyn
