#include "model/two_layer_dynamics.hpp"

#include <cmath>

#include "linalg/blas.hpp"

namespace ssldyn {

namespace {

// W <- R_W(−η(G − sym(G Wᵀ) W)) for W with orthonormal rows (THEORY §4.2 for the retractions).
void stiefel_step(const TwoLayerRule& rule, const Matrix& gradient, Matrix& w) {
    Matrix gwt = multiply(Op::none, Op::transpose, gradient, w);
    const Index m = gwt.rows();
    for (Index j = 0; j < m; ++j)
        for (Index i = 0; i < j; ++i) gwt(i, j) = gwt(j, i) = 0.5 * (gwt(i, j) + gwt(j, i));
    Matrix step = gradient;
    gemm(Op::none, Op::none, -1.0, gwt, w, 1.0, step);
    scale(-rule.eta, step);
    w = retract(rule.retraction, w, step, rule.distribution);
}

void constrained_step(const TwoLayerRule& rule, const Matrix& gradient, Matrix& layer) {
    if (orthonormal_rows(layer)) {
        stiefel_step(rule, gradient, layer);
        return;
    }
    Matrix rows = transpose(layer);
    stiefel_step(rule, transpose(gradient), rows);
    layer = transpose(rows);
}

Matrix on_manifold(const TwoLayerRule& rule, const Matrix& layer) {
    if (orthonormal_rows(layer)) return orthonormalise_rows(rule.retraction, layer);
    return transpose(orthonormalise_rows(rule.retraction, transpose(layer)));
}

}  // namespace

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
        w.w1 = on_manifold(rule, w.w1);
        w.w2 = on_manifold(rule, w.w2);
    }
    return w;
}

double two_layer_step(const TwoLayerRule& rule, const TwoLayerObjective& objective,
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
