#include "run/two_layer_run.hpp"

#include "model/sharded_two_layer.hpp"
#include "run/problem.hpp"

namespace ssldyn {

namespace {

std::unique_ptr<NetworkObjective> objective(const RunConfig& config, const Problem& problem,
                                            const Nonlinearity& units, const Placement& at,
                                            Precision precision) {
    if (at.shards)
        return std::make_unique<ShardedTwoLayerObjective>(*problem.views, loss_function(config),
                                                          units, *at.shards, precision);
    return std::make_unique<TwoLayerObjective>(*problem.views, loss_function(config), units,
                                               precision);
}

TwoLayerWeights initial_weights(const RunConfig& config, const TwoLayerRule& rule, Index d,
                                RandomStream& stream, const NetworkObjective& objective,
                                const Placement& at) {
    if (at.shards)
        return initial_sharded_two_layer_weights(
            rule, d, config.h, config.k, stream,
            static_cast<const ShardedTwoLayerObjective&>(objective));
    return initial_two_layer_weights(rule, d, config.h, config.k, stream);
}

TangentKernels kernels(const TwoLayerWeights& w, const RunConfig& config, ConstView probes,
                       bool constrained, const KernelPlacement& at) {
    return tangent_kernels(w, config.activation, probes, constrained, at);
}

}  // namespace

NetworkModel TwoLayerKind::network_model(const RunConfig& config) const {
    NetworkModel model;
    model.constrained = config.dynamics == Dynamics::orthogonal;
    model.linear_limit = true;
    model.shardable = true;
    model.objective = objective;
    model.initial_weights = initial_weights;
    model.kernels = kernels;
    return model;
}

}  // namespace ssldyn
