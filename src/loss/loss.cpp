#include "loss/loss.hpp"

#include "linalg/blas.hpp"

namespace ssldyn {

void with_covariance_factors(const Views& views, Loss loss,
                             const std::function<void(ConstView a, ConstView b)>& use) {
    if (loss == Loss::noncontrastive || uses_predictor(loss)) {
        use(views.anchors(), views.positives());
        return;
    }
    Matrix difference = copy_of(views.positives());
    axpy(-1.0, views.negatives(), difference);
    use(views.anchors(), difference);
}

Matrix covariance(const Views& views, Loss loss) {
    Matrix c(views.d(), views.d());
    with_covariance_factors(views, loss, [&](ConstView a, ConstView b) {
        syr2k(Op::none, covariance_scale(views.n()), a, b, 0.0, c);
    });
    return c;
}

double batch_loss(const Matrix& f, Index n, Loss loss) {
    const Index k = f.cols();
    double sum = 0.0;
    for (Index r = 0; r < k; ++r)
        for (Index j = 0; j < n; ++j) {
            const double negative = loss == Loss::contrastive ? f(2 * n + j, r) : 0.0;
            sum += f(j, r) * (f(n + j, r) - negative);
        }
    return -sum / static_cast<double>(n);
}

Matrix batch_loss_gradient(const Matrix& f, Index n, Loss loss) {
    const Index k = f.cols();
    Matrix a(views_used(loss) * n, k);
    for (Index r = 0; r < k; ++r)
        for (Index j = 0; j < n; ++j) {
            const double anchor = f(j, r), positive = f(n + j, r);
            if (loss == Loss::contrastive) {
                a(j, r) = positive - f(2 * n + j, r);
                a(2 * n + j, r) = -anchor;
            } else {
                a(j, r) = positive;
            }
            a(n + j, r) = anchor;
        }
    return a;
}

}  // namespace ssldyn
