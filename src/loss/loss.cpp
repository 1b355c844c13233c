#include "loss/loss.hpp"

#include "linalg/blas.hpp"

namespace ssldyn {

void with_covariance_factors(const Views& views, Loss loss,
                             const std::function<void(ConstView a, ConstView b)>& use) {
    if (loss == Loss::noncontrastive) {
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

}  // namespace ssldyn
