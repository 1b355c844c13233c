#include "model/two_layer_dynamics.hpp"

#include <algorithm>
#include <cmath>

#include "linalg/blas.hpp"

namespace ssldyn {

namespace {

// G − sym(G Wᵀ) W in row form, G − W sym(Wᵀ G) in column form (the same on the transposes).
Matrix stiefel_gradient_in(bool rows, const Matrix& gradient, const Matrix& w,
                           const mpi::Communicator* group) {
    Matrix gram = rows ? multiply(Op::none, Op::transpose, gradient, w)
                       : multiply(Op::transpose, Op::none, gradient, w);
    if (group != nullptr) group->sum(gram.data(), gram.size());
    for (Index j = 0; j < gram.cols(); ++j)
        for (Index i = 0; i < j; ++i) gram(i, j) = gram(j, i) = 0.5 * (gram(i, j) + gram(j, i));
    Matrix out = gradient;
    if (rows)
        gemm(Op::none, Op::none, -1.0, gram, w, 1.0, out);
    else
        gemm(Op::none, Op::none, -1.0, w, gram, 1.0, out);
    return out;
}

// W <- R_W(−η grad L) (optim/retraction.hpp), rows or columns orthonormal; a layer with
// orthonormal columns is retracted in column form (no transposes for replicated QR).
void constrained_step(Retraction method, const TwoLayerRule& rule, const Matrix& gradient,
                      Matrix& layer) {
    const bool rows = orthonormal_rows(layer);
    Matrix step = stiefel_gradient_in(rows, gradient, layer, nullptr);
    scale(-rule.eta, step);
    layer = rows ? retract(method, layer, step, rule.distribution)
                 : retract_columns(method, layer, step, rule.distribution);
}

Matrix on_manifold(Retraction method, const Matrix& layer) {
    if (orthonormal_rows(layer)) return orthonormalise_rows(method, layer);
    return transpose(orthonormalise_rows(method, transpose(layer)));
}

// The method of a layer m x n: `auto` resolved for its min(m, n) orthonormal vectors.
Retraction resolve_layer(Retraction method, Index m, Index n) {
    return resolve(method, std::min(m, n), std::max(m, n));
}

}  // namespace

LayerRetractions resolve_layers(LayerRetractions methods, Index d, Index h, Index k) {
    return {resolve_layer(methods.w1, h, d), resolve_layer(methods.w2, k, h)};
}

Matrix stiefel_gradient_rows(const Matrix& gradient, const Matrix& w,
                             const mpi::Communicator* group) {
    return stiefel_gradient_in(true, gradient, w, group);
}

Matrix stiefel_gradient_columns(const Matrix& gradient, const Matrix& w,
                                const mpi::Communicator* group) {
    return stiefel_gradient_in(false, gradient, w, group);
}

namespace {

// gradient <- ∇(L + λ‖W‖²) = ∇L + 2λW, the naive dynamics' gradient of one layer.
void add_weight_decay(const TwoLayerRule& rule, const Matrix& layer, Matrix& gradient) {
    axpy(2.0 * rule.weight_decay, layer, gradient);
}

}  // namespace

void naive_step(const TwoLayerRule& rule, Matrix& gradient, Matrix& layer) {
    add_weight_decay(rule, layer, gradient);
    axpy(-rule.eta, gradient, layer);
}

Matrix stiefel_gradient(const Matrix& gradient, const Matrix& layer) {
    return stiefel_gradient_in(orthonormal_rows(layer), gradient, layer, nullptr);
}

Matrix nearest_on_manifold(const Matrix& layer) {
    return on_manifold(Retraction::polar, layer);
}

TwoLayerWeights two_layer_flow_field(const TwoLayerRule& rule, const NetworkObjective& objective,
                                     const TwoLayerWeights& w, const mpi::Communicator* shards) {
    TwoLayerGradient g = objective.evaluate(w);
    TwoLayerWeights field;
    if (rule.constrained) {
        const bool w1_rows = shards == nullptr && orthonormal_rows(w.w1);
        field = {stiefel_gradient_in(w1_rows, g.w1, w.w1, shards),
                 stiefel_gradient_in(true, g.w2, w.w2, shards)};
    } else {
        field = {std::move(g.w1), std::move(g.w2)};
        add_weight_decay(rule, w.w1, field.w1);
        add_weight_decay(rule, w.w2, field.w2);
    }
    scale(-1.0, field.w1);
    scale(-1.0, field.w2);
    return field;
}

double layer_orthogonality_error(const Matrix& layer) {
    return layer_orthogonality_error(layer, orthonormal_rows(layer), nullptr);
}

double layer_orthogonality_error(const Matrix& layer, bool rows, const mpi::Communicator* group) {
    Matrix gram = rows ? multiply(Op::none, Op::transpose, layer, layer)
                       : multiply(Op::transpose, Op::none, layer, layer);
    if (group != nullptr) group->sum(gram.data(), gram.size());
    for (Index i = 0; i < gram.rows(); ++i) gram(i, i) -= 1.0;
    return frobenius_norm(gram);
}

TwoLayerWeights gaussian_two_layer_weights(Index d, Index h, Index k, Index first, Index count,
                                           RandomStream& stream) {
    TwoLayerWeights w;
    w.w1 =
        gaussian_block(stream, h, d, {first, count, 0, d}, 1.0 / std::sqrt(static_cast<double>(d)));
    w.w2 =
        gaussian_block(stream, k, h, {0, k, first, count}, 1.0 / std::sqrt(static_cast<double>(h)));
    return w;
}

TwoLayerWeights initial_two_layer_weights(const TwoLayerRule& rule, Index d, Index h, Index k,
                                          RandomStream& stream) {
    TwoLayerWeights w = gaussian_two_layer_weights(d, h, k, 0, h, stream);
    if (rule.constrained) {
        const LayerRetractions methods = resolve_layers(rule.retraction, d, h, k);
        w.w1 = on_manifold(methods.w1, w.w1);
        w.w2 = on_manifold(methods.w2, w.w2);
    }
    return w;
}

double two_layer_step(const TwoLayerRule& rule, const NetworkObjective& objective,
                      TwoLayerWeights& w) {
    TwoLayerGradient g = objective.evaluate(w);
    if (rule.constrained) {
        const LayerRetractions methods =
            resolve_layers(rule.retraction, w.w1.cols(), w.w1.rows(), w.w2.rows());
        constrained_step(methods.w1, rule, g.w1, w.w1);
        constrained_step(methods.w2, rule, g.w2, w.w2);
    } else {
        naive_step(rule, g.w1, w.w1);
        naive_step(rule, g.w2, w.w2);
    }
    return g.loss;
}

}  // namespace ssldyn
