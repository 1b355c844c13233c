#pragma once
// What the network models (f(x) = W₂σ(W₁x), THEORY §4.3–4.4) share as runs: the weights packed
// as [W₁ | W₂ᵀ], gradient descent full batch or minibatch, the reference flow (the exact gradient
// flow, integrated to the run's reference_tolerance), the paired linear run, the kernels and the
// network records; a wide W₁ sharded over the run group. A network model (run/two_layer_run,
// run/supervised_run) says only what is its own: its objective, initial weights and kernels,
// whether it is constrained and whether it has the linear limit of THEORY §4.3.
#include <memory>

#include "model/precision.hpp"
#include "model/two_layer_dynamics.hpp"
#include "mpi/mpi.hpp"
#include "run/model_run.hpp"
#include "theory/ntk.hpp"

namespace ssldyn {

// Where a run's network lives: whole on every rank of its group, or, for a wide W₁ (h > d) above
// the distribution's threshold in a group of several ranks, its hidden units sharded over the
// group (model/sharded_two_layer.hpp). What is recorded is the whole network's: sums over the
// shards, on every rank.
struct Placement {
    const mpi::Communicator* shards = nullptr;

    double sum(double x) const;
    Matrix sum(Matrix m) const;
    TwoLayerWeights whole(const TwoLayerWeights& w, Index h) const;
    TwoLayerWeights share(const TwoLayerWeights& w) const;
    // W₁'s form: rows orthonormal (h ≤ d) or columns; a shard's shape does not tell.
    bool w1_rows(const TwoLayerWeights& w) const;
};

// The parts of a network model that are its own.
struct NetworkModel {
    bool constrained = false;  // both layers on their Stiefel manifolds (THEORY §4.3)
    // THEORY §4.3's linear limit: records the deviation from it, may train the paired linear run.
    bool linear_limit = false;
    bool shardable = false;        // a wide W₁ may be sharded over the run group
    bool follows_dynamics = true;  // trained by the run's dynamics (else by its own rule)
    std::unique_ptr<NetworkObjective> (*objective)(const RunConfig& config, const Problem& problem,
                                                   const Nonlinearity& units, const Placement& at,
                                                   Precision precision) = nullptr;
    // W₀, this rank's share of it when sharded (objective: the network's own).
    TwoLayerWeights (*initial_weights)(const RunConfig& config, const TwoLayerRule& rule, Index d,
                                       RandomStream& stream, const NetworkObjective& objective,
                                       const Placement& at) = nullptr;
    // The kernels Θ and Θ_T on the probes (collective over the placement's groups).
    TangentKernels (*kernels)(const TwoLayerWeights& w, const RunConfig& config, ConstView probes,
                              bool constrained, const KernelPlacement& at) = nullptr;
};

// The model table's rows of the network models: what they share as kinds.
class NetworkKind : public ModelKind {
  public:
    std::unique_ptr<ModelRun> start(const RunConfig& config, const Problem& problem,
                                    RunResult& result) const override;
    // [W₁ | W₂ᵀ], h x (d + k), followed by the pair's when it is trained: h x 2(d + k).
    StateLayout state_layout(const RunConfig& config, Index d) const override;
    RecordLayout record_layout(const RunConfig& config) const override;
    std::string describe(const RunConfig& config) const override;
    // "two-layer orthogonal"; a model trained whatever the dynamics, by its name alone.
    std::string label(const RunConfig& config) const override;
    void print_summary(const RunResult& result, std::FILE* out) const override;

    // Whether a run trains the paired linear model.
    bool paired(const RunConfig& config) const;

  protected:
    virtual NetworkModel network_model(const RunConfig& config) const = 0;
};

}  // namespace ssldyn
