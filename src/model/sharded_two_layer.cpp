#include "model/sharded_two_layer.hpp"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "linalg/blas.hpp"

namespace ssldyn {

namespace {

Matrix from_values(Index rows, Index cols, const std::vector<double>& values) {
    Matrix m(rows, cols);
    std::copy(values.begin(), values.end(), m.data());
    return m;
}

// W ← R_W(−η grad L) for a layer with orthonormal columns, its rows sharded: the Stiefel gradient
// in column form, then the orthonormal factor of W + ξ. The layer and its gradient are released
// as soon as they are used: at large h they are the largest matrices of the step.
Matrix sharded_stiefel_step(Retraction method, const TwoLayerRule& rule,
                            const ShardedTwoLayerObjective& objective, Matrix gradient, Matrix w) {
    Matrix z = stiefel_gradient_columns(gradient, w, &objective.group());
    gradient = Matrix();
    scale(-rule.eta, z);
    axpy(1.0, w, z);
    w = Matrix();
    return orthonormal_columns(method, std::move(z), objective.grid(), rule.distribution.block);
}

// h, the units of all the ranks' shares.
Index whole_width(const TwoLayerWeights& local, const mpi::Communicator& group) {
    double units = static_cast<double>(local.w1.rows());
    group.sum(&units, 1);
    return static_cast<Index>(units);
}

}  // namespace

Shard hidden_shard(Index h, int rank, int ranks) {
    if (ranks < 1 || rank < 0 || rank >= ranks || h < ranks)
        throw InputError("hidden_shard: " + std::to_string(h) + " hidden units cannot be split " +
                         "over " + std::to_string(ranks) + " ranks (rank " + std::to_string(rank) +
                         ")");
    return balanced_share(h, rank, ranks);
}

Shard hidden_shard(Index h, const mpi::Communicator& group) {
    return hidden_shard(h, group.rank(), group.size());
}

TwoLayerWeights shard_of(const TwoLayerWeights& whole, const mpi::Communicator& group) {
    const Index h = whole.w1.rows();
    if (h <= whole.w1.cols() || whole.w2.cols() != h)
        throw InputError("shard_of: W₁ is " + std::to_string(h) + " x " +
                         std::to_string(whole.w1.cols()) +
                         "; only a wide model (h > d, W₂ k x h) is sharded");
    const Shard s = hidden_shard(h, group);
    return {rows_of(whole.w1, s.begin, s.size()), copy_of(whole.w2.columns(s.begin, s.size()))};
}

TwoLayerWeights gather_shards(const TwoLayerWeights& local, Index h,
                              const mpi::Communicator& group) {
    if (local.w1.rows() != hidden_shard(h, group).size() || local.w2.cols() != local.w1.rows())
        throw InputError("gather_shards: this rank holds " + std::to_string(local.w1.rows()) +
                         " units, not its share of " + std::to_string(h));
    // Columns are contiguous: W₂'s shares and W₁ᵀ's concatenate to the whole.
    const Matrix w1t = transpose(local.w1);
    const Index d = local.w1.cols(), k = local.w2.rows();
    return {transpose(from_values(d, h, group.all_gather(w1t.data(), w1t.size()))),
            from_values(k, h, group.all_gather(local.w2.data(), local.w2.size()))};
}

ShardedTwoLayerObjective::ShardedTwoLayerObjective(const Views& views, LossFunction loss,
                                                   const Nonlinearity& units,
                                                   const mpi::Communicator& group,
                                                   Precision precision)
    : loss_(loss),
      group_(&group),
      grid_(std::make_unique<BlacsGrid>(group, group.size(), 1)),
      layer_(units, precision) {
    use(views);
}

void ShardedTwoLayerObjective::use(const Views& views) {
    views_ = &views;
    layer_.use_data(views.stacked(views_used(loss_)));
}

// This rank's units' term of F, summed over the group: the whole model's outputs on every rank.
const Matrix& ShardedTwoLayerObjective::forward(const TwoLayerWeights& local,
                                                bool with_slope) const {
    Matrix& outputs = layer_.forward(local, with_slope);
    group_->sum(outputs.data(), outputs.size());
    return outputs;
}

double ShardedTwoLayerObjective::loss(const TwoLayerWeights& local) const {
    return batch_loss(forward(local, false), views_->n(), loss_);
}

TwoLayerGradient ShardedTwoLayerObjective::evaluate(const TwoLayerWeights& local) const {
    const Index n = views_->n();
    const Matrix& outputs = forward(local, true);
    TwoLayerGradient out;
    const BatchLossGradient batch = batch_loss_and_gradient(outputs, n, loss_);
    out.loss = batch.loss;
    layer_.backward(local, batch.a, n, out);
    return out;
}

TwoLayerWeights initial_sharded_two_layer_weights(const TwoLayerRule& rule, Index d, Index h,
                                                  Index k, RandomStream& stream,
                                                  const ShardedTwoLayerObjective& objective) {
    const Shard s = hidden_shard(h, objective.group());
    TwoLayerWeights w = gaussian_two_layer_weights(d, h, k, s.begin, s.size(), stream);
    if (rule.constrained) {
        const Index block = rule.distribution.block;
        const LayerRetractions methods = resolve_layers(rule.retraction, d, h, k);
        w.w1 = orthonormal_columns(methods.w1, w.w1, objective.grid(), block);
        w.w2 = transpose(orthonormal_columns(methods.w2, transpose(w.w2), objective.grid(), block));
    }
    return w;
}

double sharded_two_layer_step(const TwoLayerRule& rule, const ShardedTwoLayerObjective& objective,
                              TwoLayerWeights& local) {
    TwoLayerGradient g = objective.evaluate(local);
    if (rule.constrained) {
        const LayerRetractions methods =
            resolve_layers(rule.retraction, local.w1.cols(), whole_width(local, objective.group()),
                           local.w2.rows());
        // W₁ has orthonormal columns, W₂ orthonormal rows: W₂ᵀ (h x k) is tall as W₁.
        local.w1 =
            sharded_stiefel_step(methods.w1, rule, objective, std::move(g.w1), std::move(local.w1));
        local.w2 = transpose(sharded_stiefel_step(methods.w2, rule, objective, transpose(g.w2),
                                                  transpose(local.w2)));
    } else {
        naive_step(rule, g.w1, local.w1);
        naive_step(rule, g.w2, local.w2);
    }
    return g.loss;
}

}  // namespace ssldyn
