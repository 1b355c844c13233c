#pragma once
// The two-layer model of THEORY §2 with its hidden units sharded over the ranks of a run group,
// for the wide case of THEORY §4.3 (h > d: W₁ h x d with orthonormal columns, hd entries, the
// memory that stops a width sweep). Rank r of g holds the units [h_r, h_{r+1}): those rows of W₁
// and the same columns of W₂ (a TwoLayerWeights with w1 h_r x d and w2 k x h_r), and their hidden
// activities, so memory per rank is O(hd/g + nh/g) besides the views (O(nd), on every rank,
// as in a replicated run). The outputs are a sum over the units: one
// sum of n x k partial outputs over the group, then the loss and ∂L/∂F on every rank alike; the
// backward pass is local. The constrained step needs d x d and k x k Gram sums and the group's
// distributed orthonormalisation. For h ≤ d W₁ has at most d² entries and stays replicated
// (TwoLayerObjective, two_layer_step): nothing here is for that case.
#include <memory>

#include "linalg/blacs.hpp"
#include "linalg/distribution.hpp"
#include "model/two_layer_dynamics.hpp"
#include "mpi/mpi.hpp"

namespace ssldyn {

// The hidden units [begin, end) of one rank: a balanced split of h (balanced_share), the first
// h mod g ranks one unit more. Throws when some rank would hold none (h < g).
using Shard = Share;
Shard hidden_shard(Index h, int rank, int ranks);
Shard hidden_shard(Index h, const mpi::Communicator& group);

// This rank's share of whole weights (h > d), and the whole weights from every rank's share, on
// every rank (for records and tests: it holds all of W₁).
TwoLayerWeights shard_of(const TwoLayerWeights& whole, const mpi::Communicator& group);
TwoLayerWeights gather_shards(const TwoLayerWeights& local, Index h,
                              const mpi::Communicator& group);

// TwoLayerObjective with each rank holding its share: the loss of the whole model, and this
// rank's blocks of the gradient. Collective over the group, which must outlive it (as the views);
// the group's P x 1 grid, built here, serves the constrained steps.
class ShardedTwoLayerObjective : public NetworkObjective {
  public:
    ShardedTwoLayerObjective(const Views& views, LossFunction loss, const Nonlinearity& units,
                             const mpi::Communicator& group,
                             Precision precision = Precision::float64);

    // Evaluate on other views from now on (a minibatch), keeping the grid and the buffers.
    void use(const Views& views);

    double loss(const TwoLayerWeights& local) const override;
    // loss: the whole model's; w1, w2: ∂L/∂W₁ and ∂L/∂W₂ at this rank's units.
    TwoLayerGradient evaluate(const TwoLayerWeights& local) const override;

    const mpi::Communicator& group() const { return *group_; }
    const BlacsGrid& grid() const { return *grid_; }

  private:
    // The whole model's outputs F, on every rank.
    const Matrix& forward(const TwoLayerWeights& local, bool with_slope) const;
    const Views* views_;
    LossFunction loss_;
    const mpi::Communicator* group_;
    std::unique_ptr<BlacsGrid> grid_;
    mutable HiddenLayer layer_;
};

// initial_two_layer_weights' weights, this rank's share, drawn and put on the manifolds without
// any rank holding more than its share (the orthonormal factors by the group's distributed
// orthonormalisation). Equal to shard_of(initial_two_layer_weights(...)) to round-off.
TwoLayerWeights initial_sharded_two_layer_weights(const TwoLayerRule& rule, Index d, Index h,
                                                  Index k, RandomStream& stream,
                                                  const ShardedTwoLayerObjective& objective);

// two_layer_step on this rank's share: the same step to round-off (the sums run in another order).
// Constrained: both layers in row form with their columns sharded (W₁ᵀ and W₂), the Stiefel
// gradient with its Gram product summed over the group, then (W + ξ)ᵀ, tall and row-sharded,
// orthonormalised by the distributed form of each layer's method (resolve_layers, as in
// two_layer_step; in square blocks of rule.distribution.block). Naive: local. Returns the loss
// before the step.
double sharded_two_layer_step(const TwoLayerRule& rule, const ShardedTwoLayerObjective& objective,
                              TwoLayerWeights& local);

}  // namespace ssldyn
