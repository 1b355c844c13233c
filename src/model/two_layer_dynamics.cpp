#include "model/two_layer_dynamics.hpp"

#include <cmath>

#include "linalg/blas.hpp"

namespace ssldyn {

namespace {

// G − sym(G Wᵀ) W for W with orthonormal rows.
Matrix stiefel_gradient_rows(const Matrix& gradient, const Matrix& w) {
    Matrix gwt = multiply(Op::none, Op::transpose, gradient, w);
    for (Index j = 0; j < gwt.cols(); ++j)
        for (Index i = 0; i < j; ++i) gwt(i, j) = gwt(j, i) = 0.5 * (gwt(i, j) + gwt(j, i));
    Matrix out = gradient;
    gemm(Op::none, Op::none, -1.0, gwt, w, 1.0, out);
    return out;
}

// G − W sym(WᵀG) for W with orthonormal columns: the row form on the transposes, without them.
Matrix stiefel_gradient_columns(const Matrix& gradient, const Matrix& w) {
    Matrix wtg = multiply(Op::transpose, Op::none, w, gradient);
    for (Index j = 0; j < wtg.cols(); ++j)
        for (Index i = 0; i < j; ++i) wtg(i, j) = wtg(j, i) = 0.5 * (wtg(i, j) + wtg(j, i));
    Matrix out = gradient;
    gemm(Op::none, Op::none, -1.0, w, wtg, 1.0, out);
    return out;
}

// W <- R_W(−η grad L) (optim/retraction.hpp), rows or columns orthonormal.
void constrained_step(const TwoLayerRule& rule, const Matrix& gradient, Matrix& layer) {
    const bool rows = orthonormal_rows(layer);
    Matrix step =
        rows ? stiefel_gradient_rows(gradient, layer) : stiefel_gradient_columns(gradient, layer);
    scale(-rule.eta, step);
    layer = rows ? retract(rule.retraction, layer, step, rule.distribution)
                 : retract_columns(rule.retraction, layer, step, rule.distribution);
}

Matrix on_manifold(Retraction method, const Matrix& layer) {
    if (orthonormal_rows(layer)) return orthonormalise_rows(method, layer);
    return transpose(orthonormalise_rows(method, transpose(layer)));
}

}  // namespace

Matrix stiefel_gradient(const Matrix& gradient, const Matrix& layer) {
    if (orthonormal_rows(layer)) return stiefel_gradient_rows(gradient, layer);
    return stiefel_gradient_columns(gradient, layer);
}

Matrix nearest_on_manifold(const Matrix& layer) {
    return on_manifold(Retraction::polar, layer);
}

TwoLayerWeights two_layer_flow_field(const TwoLayerRule& rule, const NetworkObjective& objective,
                                     const TwoLayerWeights& w) {
    TwoLayerGradient g = objective.evaluate(w);
    TwoLayerWeights field;
    if (rule.constrained) {
        field = {stiefel_gradient(g.w1, w.w1), stiefel_gradient(g.w2, w.w2)};
    } else {
        field = {std::move(g.w1), std::move(g.w2)};
        axpy(2.0 * rule.weight_decay, w.w1, field.w1);
        axpy(2.0 * rule.weight_decay, w.w2, field.w2);
    }
    scale(-1.0, field.w1);
    scale(-1.0, field.w2);
    return field;
}

double layer_orthogonality_error(const Matrix& layer) {
    Matrix gram = orthonormal_rows(layer) ? multiply(Op::none, Op::transpose, layer, layer)
                                          : multiply(Op::transpose, Op::none, layer, layer);
    for (Index i = 0; i < gram.rows(); ++i) gram(i, i) -= 1.0;
    return frobenius_norm(gram);
}

TwoLayerWeights initial_two_layer_weights(const TwoLayerRule& rule, Index d, Index h, Index k,
                                          RandomStream& stream) {
    TwoLayerWeights w{gaussian_matrix(stream, h, d, 1.0 / std::sqrt(static_cast<double>(d))),
                      gaussian_matrix(stream, k, h, 1.0 / std::sqrt(static_cast<double>(h)))};
    if (rule.constrained) {
        w.w1 = on_manifold(rule.retraction, w.w1);
        w.w2 = on_manifold(rule.retraction, w.w2);
    }
    return w;
}

double two_layer_step(const TwoLayerRule& rule, const NetworkObjective& objective,
                      TwoLayerWeights& w) {
    TwoLayerGradient g = objective.evaluate(w);
    if (rule.constrained) {
        constrained_step(rule, g.w1, w.w1);
        constrained_step(rule, g.w2, w.w2);
    } else {
        // ∇(L + λ‖W‖²) = ∇L + 2λW, each layer.
        axpy(2.0 * rule.weight_decay, w.w1, g.w1);
        axpy(2.0 * rule.weight_decay, w.w2, g.w2);
        axpy(-rule.eta, g.w1, w.w1);
        axpy(-rule.eta, g.w2, w.w2);
    }
    return g.loss;
}

}  // namespace ssldyn
