#include "loss/loss.hpp"

#include "linalg/blas.hpp"

namespace ssldyn {

Matrix covariance(const Views& views, Loss loss) {
    const Index d = views.d(), n = views.n();
    Matrix c(d, d);
    // sym(A Bᵀ)/n = (A Bᵀ + B Aᵀ)/(2n) with samples as columns.
    const double alpha = 1.0 / (2.0 * static_cast<double>(n));
    if (loss == Loss::noncontrastive) {
        syr2k(Op::none, alpha, views.anchors(), views.positives(), 0.0, c);
    } else {
        Matrix difference = copy_of(views.positives());
        axpy(-1.0, views.negatives(), difference);
        syr2k(Op::none, alpha, views.anchors(), difference, 0.0, c);
    }
    return c;
}

}  // namespace ssldyn
