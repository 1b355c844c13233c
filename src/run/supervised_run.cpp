#include "run/supervised_run.hpp"

#include "model/supervised.hpp"
#include "run/problem.hpp"

namespace ssldyn {

namespace {

std::unique_ptr<NetworkObjective> objective(const RunConfig& config, const Problem& problem,
                                            const Nonlinearity&, const Placement&, Precision) {
    return std::make_unique<SupervisedObjective>(problem.samples, problem.labels, config.k,
                                                 config.activation);
}

TwoLayerWeights initial_weights(const RunConfig& config, const TwoLayerRule&, Index d,
                                RandomStream& stream, const NetworkObjective&, const Placement&) {
    return ntk_initial_weights(d, config.h, config.k, stream);
}

TangentKernels kernels(const TwoLayerWeights& w, const RunConfig& config, ConstView probes, bool,
                       const KernelPlacement& at) {
    TangentKernels out;
    out.full = ntk_kernel(w, config.activation, probes, at.rows);
    out.tangent = out.full;
    return out;
}

}  // namespace

NetworkModel SupervisedKind::network_model(const RunConfig&) const {
    NetworkModel model;
    model.follows_dynamics = false;  // plain gradient descent, whatever the dynamics
    model.objective = objective;
    model.initial_weights = initial_weights;
    model.kernels = kernels;
    return model;
}

}  // namespace ssldyn
