#include "loss/loss.hpp"

#include "core/error.hpp"
#include "linalg/blas.hpp"

namespace ssldyn {

void with_covariance_factors(const Views& views, Loss loss,
                             const std::function<void(ConstView a, ConstView b)>& use) {
    if (loss != Loss::contrastive) {
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

Matrix view_second_moment(const Views& views) {
    Matrix sigma(views.d(), views.d());
    syrk(Op::none, 1.0 / static_cast<double>(views.n()), views.anchors(), 0.0, sigma);
    return sigma;
}

namespace {

double paper_batch_loss(const Matrix& f, Index n, Loss loss) {
    const Index k = f.cols();
    double sum = 0.0;
    for (Index r = 0; r < k; ++r)
        for (Index j = 0; j < n; ++j) {
            const double negative = loss == Loss::contrastive ? f(2 * n + j, r) : 0.0;
            sum += f(j, r) * (f(n + j, r) - negative);
        }
    return -sum / static_cast<double>(n);
}

Matrix paper_batch_gradient(const Matrix& f, Index n, Loss loss) {
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

ConstView anchors_of(const Matrix& f, Index n) {
    return block(f.view(), 0, 0, n, f.cols());
}
ConstView positives_of(const Matrix& f, Index n) {
    return block(f.view(), n, 0, n, f.cols());
}

double squared_norm(const Matrix& a) {
    const double x = frobenius_norm(a);
    return x * x;
}

// gram_form of the whole batch: G = FᵀF/n and K = FᵀF⁺/n.
GramForm batch_gram_form(const Matrix& f, Index n, Loss loss) {
    const Index k = f.cols();
    const double inverse = 1.0 / static_cast<double>(n);
    Matrix gram(k, k), cross(k, k);
    syrk(Op::transpose, inverse, anchors_of(f, n), 0.0, gram);
    gemm(Op::transpose, Op::none, inverse, anchors_of(f, n), positives_of(f, n), 0.0, cross);
    return gram_form(loss, gram, cross);
}

// A of batch_loss_gradient from a gram form: (F⁺ M + F M_a; F M).
Matrix gram_form_gradient(const Matrix& f, Index n, const GramForm& form) {
    Matrix a(2 * n, f.cols());
    const View anchors = block(a.view(), 0, 0, n, f.cols());
    gemm(Op::none, Op::none, 1.0, positives_of(f, n), form.m, 0.0, anchors);
    if (form.m_anchor.rows() > 0)
        gemm(Op::none, Op::none, 1.0, anchors_of(f, n), form.m_anchor, 1.0, anchors);
    gemm(Op::none, Op::none, 1.0, anchors_of(f, n), form.m, 0.0,
         block(a.view(), n, 0, n, f.cols()));
    return a;
}

// The losses with a predictor are not functions of the features alone (loss/predictor.hpp); the
// configs that would ask for them here are refused by the config's checks.
RuntimeFailure predictor_loss_of_features(Loss loss) {
    return RuntimeFailure("loss " + std::string(name_of(loss_names, loss)) +
                          " has a predictor: no loss of the features alone");
}

}  // namespace

GramForm gram_form(Loss loss, const Matrix& gram, const Matrix& cross) {
    const Index k = gram.rows();
    if (loss == Loss::spectral_contrastive) {
        // L = −2 Tr K + ‖G‖²_F, the batch's −(2/n) Σᵢ ⟨fᵢ, fᵢ⁺⟩ + (1/n²) Σᵢⱼ ⟨fᵢ, fⱼ⟩² (THEORY
        // §6.1, the i = j pairs kept); ∂L/∂F = −(2/n) F⁺ + (4/n) F G, ∂L/∂F⁺ = −(2/n) F.
        double trace = 0.0;
        for (Index i = 0; i < k; ++i) trace += cross(i, i);
        Matrix m = Matrix::identity(k), m_anchor = gram;
        scale(2.0, m);
        scale(-4.0, m_anchor);
        return {-2.0 * trace + squared_norm(gram), std::move(m), std::move(m_anchor)};
    }
    if (loss != Loss::barlow_twins)
        throw RuntimeFailure("loss " + std::string(name_of(loss_names, loss)) +
                             " has no form through the features' k x k products");
    // E = sym(K) − I, the batch's W C Wᵀ − I, L = ‖E‖²_F (THEORY §6.2); ∂L/∂F = (2/n) F⁺ E,
    // ∂L/∂F⁺ = (2/n) F E.
    Matrix e(k, k);
    for (Index j = 0; j < k; ++j)
        for (Index i = 0; i < k; ++i) e(i, j) = 0.5 * (cross(i, j) + cross(j, i)) - (i == j);
    Matrix m = e;
    scale(-2.0, m);
    return {squared_norm(e), std::move(m), Matrix()};
}

double batch_loss(const Matrix& f, Index n, const LossFunction& loss) {
    switch (loss.loss) {
        case Loss::noncontrastive:
        case Loss::contrastive:
            break;
        case Loss::spectral_contrastive:
        case Loss::barlow_twins:
            return batch_gram_form(f, n, loss.loss).loss;
        case Loss::infonce:
            return infonce_loss(anchors_of(f, n), positives_of(f, n), loss.temperature);
        case Loss::byol:
        case Loss::simsiam:
            throw predictor_loss_of_features(loss.loss);
    }
    return paper_batch_loss(f, n, loss.loss);
}

Matrix batch_loss_gradient(const Matrix& f, Index n, const LossFunction& loss) {
    switch (loss.loss) {
        case Loss::noncontrastive:
        case Loss::contrastive:
            return paper_batch_gradient(f, n, loss.loss);
        case Loss::spectral_contrastive:
        case Loss::barlow_twins:
            return gram_form_gradient(f, n, batch_gram_form(f, n, loss.loss));
        case Loss::infonce:
            break;
        case Loss::byol:
        case Loss::simsiam:
            throw predictor_loss_of_features(loss.loss);
    }
    return infonce(anchors_of(f, n), positives_of(f, n), loss.temperature).a;
}

BatchLossGradient batch_loss_and_gradient(const Matrix& f, Index n, const LossFunction& loss) {
    if (loss.loss == Loss::infonce)
        return infonce(anchors_of(f, n), positives_of(f, n), loss.temperature);
    if (has_gram_form(loss.loss)) {
        const GramForm form = batch_gram_form(f, n, loss.loss);
        return {form.loss, gram_form_gradient(f, n, form)};
    }
    return {batch_loss(f, n, loss), batch_loss_gradient(f, n, loss)};
}

}  // namespace ssldyn
