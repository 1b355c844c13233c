#include "run/two_layer_run.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <optional>

#include "core/error.hpp"
#include "linalg/blas.hpp"
#include "model/sharded_two_layer.hpp"
#include "model/supervised.hpp"
#include "model/two_layer_dynamics.hpp"
#include "optim/retraction.hpp"
#include "run/problem.hpp"
#include "run/step_loop.hpp"
#include "theory/linear_limit.hpp"
#include "theory/ntk.hpp"
#include "theory/reference_flow.hpp"

namespace ssldyn {

namespace {

// Streams of the two-layer run, apart from those of the data (problem.cpp) and of the linear
// model's initial weights (simulation.cpp): the network's weights, each step's minibatch, and
// the views of a minibatch (Views names its streams by a run id; these ids have the top bit set,
// which the data's never have).
enum StreamPurpose : std::uint64_t { network_weights = 22, minibatch = 23 };
constexpr std::uint64_t minibatch_views = std::uint64_t{1} << 63;

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// [W₁ | W₂ᵀ] of each network side by side.
Matrix pack(const TwoLayerWeights& net, const TwoLayerWeights* pair) {
    const Index h = net.w1.rows(), d = net.w1.cols(), k = net.w2.rows();
    Matrix out(h, (d + k) * (pair ? 2 : 1));
    double* at = out.data();
    for (const TwoLayerWeights* w : {&net, pair}) {
        if (!w) continue;
        const Matrix w2t = transpose(w->w2);
        at = std::copy(w->w1.data(), w->w1.data() + w->w1.size(), at);  // columns are contiguous
        at = std::copy(w2t.data(), w2t.data() + w2t.size(), at);
    }
    return out;
}

TwoLayerWeights unpack(const Matrix& packed, Index which, Index d, Index k) {
    const Index at = which * (d + k);
    return {copy_of(packed.columns(at, d)), transpose(packed.columns(at + d, k))};
}

// Where a run's network lives: whole on every rank of its group, or, for a wide W₁ (h > d) above
// the distribution's threshold in a group of several ranks, its hidden units sharded over the
// group (model/sharded_two_layer.hpp). What is recorded is the whole network's: sums over the
// shards, on every rank.
struct Placement {
    const mpi::Communicator* shards = nullptr;

    double sum(double x) const {
        if (shards) shards->sum(&x, 1);
        return x;
    }
    Matrix sum(Matrix m) const {
        if (shards) shards->sum(m.data(), m.size());
        return m;
    }
    TwoLayerWeights whole(const TwoLayerWeights& w, Index h) const {
        return shards ? gather_shards(w, h, *shards) : w;
    }
    TwoLayerWeights share(const TwoLayerWeights& w) const {
        return shards ? shard_of(w, *shards) : w;
    }
    // W₁'s form: rows orthonormal (h ≤ d) or columns; a shard's shape does not tell.
    bool w1_rows(const TwoLayerWeights& w) const { return !shards && orthonormal_rows(w.w1); }
};

double squared_norm(const TwoLayerWeights& w, const Placement& at) {
    const double a = frobenius_norm(w.w1), b = frobenius_norm(w.w2);
    return at.sum(a * a + b * b);
}

// ‖a − b‖_F / ‖b‖_F over both layers.
double relative_distance(const TwoLayerWeights& a, const TwoLayerWeights& b, const Placement& at) {
    TwoLayerWeights difference = a;
    axpy(-1.0, b.w1, difference.w1);
    axpy(-1.0, b.w2, difference.w2);
    return std::sqrt(squared_norm(difference, at) / squared_norm(b, at));
}

// On every rank alike, so that a sharded run fails on all of its ranks or on none.
bool finite(const TwoLayerWeights& w, const Placement& at) {
    return at.sum(all_finite(w.w1) && all_finite(w.w2) ? 0.0 : 1.0) == 0.0;
}

double w1_orthogonality_error(const TwoLayerWeights& w, const Placement& at) {
    return layer_orthogonality_error(w.w1, at.w1_rows(w), at.shards);
}

double w2_orthogonality_error(const TwoLayerWeights& w, const Placement& at) {
    return layer_orthogonality_error(w.w2, true, at.shards);
}

// The end-to-end map W₂W₁ (the linearisation up to σ′(0)) measured as the linear model's W, in
// the eigenbasis of C; the loss and the orthogonality error are the network's.
Snapshot measure_network(const Problem& problem, const TwoLayerWeights& w, double loss,
                         const Placement& at) {
    Snapshot s =
        measure(problem.coordinates(at.sum(multiply(w.w2, w.w1))), 0.0, problem.eigen.values);
    s.loss = loss;
    s.orthogonality_error =
        std::hypot(w1_orthogonality_error(w, at), w2_orthogonality_error(w, at));
    return s;
}

Snapshot missing_snapshot(Index k) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    Snapshot s;
    s.loss = s.orthogonality_error = s.s2_s1 = s.effective_rank = s.topk_sin_angle = nan;
    s.singular_values.assign(static_cast<std::size_t>(k), nan);
    return s;
}

// G = FᵀF, the Gram matrix of the representations of the probes.
Matrix gram(const Matrix& outputs) {
    return multiply(Op::transpose, Op::none, outputs, outputs);
}

// A minibatch of `batch` samples drawn uniformly with replacement from the stream of its step,
// with fresh views: a pure function of (seed, step), so a resumed run draws the same ones.
Views minibatch_views_at(const RunConfig& config, const Problem& problem, Index step) {
    const auto s = static_cast<std::uint64_t>(step);
    RandomStream pick(config.seed, minibatch, s);
    const Matrix& all = problem.samples;
    Matrix base(all.rows(), config.batch);
    for (Index j = 0; j < config.batch; ++j) {
        const auto from = static_cast<Index>(pick.below(static_cast<std::uint64_t>(all.cols())));
        std::copy(all.data() + from * all.rows(), all.data() + (from + 1) * all.rows(),
                  base.data() + j * base.rows());
    }
    // Already centred by the mean of all samples (Problem::samples).
    return Views(base, Augmentation{config.sigma_aug, config.keep_prob}, false, config.seed,
                 minibatch_views | s);
}

// The reference flow of the network, advanced from record to record (THEORY §4.3).
struct Reference {
    ReferenceFlow flow;
    FlowState state;
    double t = 0.0;

    bool lost = false;  // the flow left the finite numbers (a diverging naive flow)

    std::optional<TwoLayerWeights> weights() const {
        if (lost) return std::nullopt;
        return TwoLayerWeights{state[0], state[1]};
    }
    void advance_to(double to) {
        if (lost) return;
        try {
            flow.advance(state, t, to);
        } catch (const RuntimeFailure&) {
            lost = true;
        }
        t = to;
    }
};

}  // namespace

bool paired(const RunConfig& config) {
    return config.model == Model::two_layer && config.pair_linear;
}

StateShape state_shape(const RunConfig& config, Index d) {
    if (config.model == Model::linear) return {config.k, d};
    return {config.h, (d + config.k) * (paired(config) ? 2 : 1)};
}

namespace {

// Whether a run group of several ranks spreads an m x n matrix over its ranks: above the threshold.
bool spread_over_group(const Distribution& where, Index m, Index n) {
    return where.group != nullptr && where.group->size() > 1 && where.distributes(m, n);
}

// Whether a run shards its hidden units over its group: wide W₁ above the threshold, a group of
// several ranks, an SSL network (the supervised baseline stays replicated).
bool sharded(const RunConfig& config, const Problem& problem) {
    return config.model == Model::two_layer && config.h > problem.d &&
           spread_over_group(problem.distribution, config.h, problem.d);
}

// A rank's memory for the kernels (theory/ntk.hpp), in entries: 2³¹ (16 GiB) is about what one
// rank of a compute node can be given. Past it the run would be killed for memory in the middle
// of a sweep, taking its group's other runs along, so it is refused before it starts.
constexpr Index max_kernel_entries = Index{1} << 31;

// The network's objective and its step, replicated or sharded (Placement), at the run's
// precision. A float32 network followed by the reference flow also holds the objective in
// float64 for it (built only then: a sharded one makes a BLACS grid, and its buffers are the
// size of the activity).
struct Network {
    std::unique_ptr<NetworkObjective> objective;
    ShardedTwoLayerObjective* shards = nullptr;  // objective, when sharded
    std::unique_ptr<NetworkObjective> float64;   // float32 with a reference: in float64

    Network(const RunConfig& config, const Problem& problem, const Nonlinearity& units,
            const Placement& at, bool with_reference) {
        objective = make(config, problem, units, at, config.precision);
        if (at.shards) shards = static_cast<ShardedTwoLayerObjective*>(objective.get());
        if (with_reference && config.precision != Precision::float64)
            float64 = make(config, problem, units, at, Precision::float64);
    }

    // The objective to the precision of the reference flow (float64).
    const NetworkObjective& exact() const { return float64 ? *float64 : *objective; }

    static std::unique_ptr<NetworkObjective> make(const RunConfig& config, const Problem& problem,
                                                  const Nonlinearity& units, const Placement& at,
                                                  Precision precision) {
        if (config.model == Model::supervised)
            return std::make_unique<SupervisedObjective>(problem.samples, problem.labels, config.k,
                                                         config.activation);
        if (at.shards)
            return std::make_unique<ShardedTwoLayerObjective>(*problem.views, config.loss, units,
                                                              *at.shards, precision);
        return std::make_unique<TwoLayerObjective>(*problem.views, config.loss, units, precision);
    }

    // One step on the run's views, or on a minibatch's.
    void step(const TwoLayerRule& rule, const RunConfig& config, const Views* batch,
              const Views& all, const Nonlinearity& units, TwoLayerWeights& w) const {
        if (shards) {
            if (batch) shards->use(*batch);
            sharded_two_layer_step(rule, *shards, w);
            shards->use(all);
        } else if (batch) {
            two_layer_step(rule, TwoLayerObjective(*batch, config.loss, units, config.precision),
                           w);
        } else {
            two_layer_step(rule, *objective, w);
        }
    }
};

}  // namespace

RunResult simulate_two_layer(const RunConfig& config, const Problem& problem,
                             const RunControl& control) {
    const auto start = Clock::now();
    const Checkpoint* resume = control.resume_from;
    const double seconds_before = resume ? resume->seconds : 0.0;
    auto elapsed = [&] { return seconds_before + seconds_since(start); };
    const Index d = problem.d, h = config.h, k = config.k;
    if (std::max(config.probes, config.ntk_probes) > problem.probes.cols())
        throw InputError("probes: more probes than the " + std::to_string(problem.probes.cols()) +
                         " samples");
    if (config.batch > problem.samples.cols() && config.batch > 0)
        throw InputError("batch: " + std::to_string(config.batch) + " exceeds the " +
                         std::to_string(problem.samples.cols()) + " samples");
    RunResult result;
    result.config = config;
    result.spectrum = problem.eigen.values;
    result.lambda_max = problem.lambda_max();
    result.eta = config.eta > 0 ? config.eta : config.eta_rel / result.lambda_max;
    result.retraction = resolve(config.retraction, k, h);
    result.path = problem.path;
    result.theory_conditioning = std::numeric_limits<double>::quiet_NaN();

    // The supervised baseline takes plain gradient steps whatever the dynamics (THEORY §4.4), so
    // that one width sweep can hold it next to the constrained SSL runs.
    const bool supervised = config.model == Model::supervised;
    const bool constrained = config.dynamics == Dynamics::orthogonal && !supervised;
    const TwoLayerRule rule{constrained, config.retraction, result.eta, config.weight_decay,
                            problem.distribution};
    const Placement at{sharded(config, problem) ? problem.distribution.group : nullptr};
    if (at.shards && constrained)
        require_distributed_form(
            config.retraction,
            "a W₁ sharded over the run group (h = " + std::to_string(h) + " > d)",
            "raise --distribute-above");
    const Nonlinearity units(config.activation), affine(config.activation, true);
    const Network network(config, problem, units, at, config.reference_tolerance > 0);
    const NetworkObjective& objective = *network.objective;
    std::optional<Network> pair_network;
    if (paired(config)) pair_network.emplace(config, problem, affine, at, false);

    RandomStream init_stream(config.seed, network_weights);
    const TwoLayerWeights w0 =
        supervised ? ntk_initial_weights(d, h, k, init_stream)
        : network.shards
            ? initial_sharded_two_layer_weights(rule, d, h, k, init_stream, *network.shards)
            : initial_two_layer_weights(rule, d, h, k, init_stream);
    TwoLayerWeights net = w0;
    std::optional<TwoLayerWeights> pair;
    if (pair_network) pair = w0;
    const TwoLayerWeights w0_whole = at.whole(w0, h);
    result.w0 = pack(w0_whole, pair ? &w0_whole : nullptr);
    const ConstView probes = problem.probes.columns(0, config.probes);

    std::optional<Reference> reference;
    if (config.reference_tolerance > 0)
        reference.emplace(Reference{
            ReferenceFlow(
                [&](const FlowState& s) {
                    TwoLayerWeights f =
                        two_layer_flow_field(rule, network.exact(), {s[0], s[1]}, at.shards);
                    return FlowState{std::move(f.w1), std::move(f.w2)};
                },
                [&](FlowState& s) {
                    if (!constrained) return;
                    if (!network.shards) {
                        for (Matrix& layer : s) layer = nearest_on_manifold(layer);
                        return;
                    }
                    // The polar factors of the sharded layers, W₁ and W₂ᵀ as tall row
                    // shares.
                    const BlacsGrid& grid = network.shards->grid();
                    const Index block = problem.distribution.block;
                    s[0] = orthonormal_columns(Retraction::polar, s[0], grid, block);
                    s[1] = transpose(
                        orthonormal_columns(Retraction::polar, transpose(s[1]), grid, block));
                },
                config.reference_tolerance,
                [&](double x) { return at.shards ? at.shards->max(x) : x; }),
            FlowState{w0.w1, w0.w2}, 0.0});

    const ConstView ntk_probes = problem.probes.columns(0, config.ntk_probes);
    // Kernels at initialisation, for their relative change along training (THEORY §4.4); the
    // supervised baseline's are those of its NTK parametrisation, unconstrained (Θ_T = Θ). Their
    // (ntk_probes·k)² entries are spread by rows over the run group above its threshold.
    const Index order = config.ntk_probes * k;  // m: the kernels are m x m
    const KernelPlacement kernels_at{at.shards,
                                     spread_over_group(problem.distribution, order, order)
                                         ? problem.distribution.group
                                         : nullptr};
    auto kernels = [&](const TwoLayerWeights& w) {
        if (!supervised)
            return tangent_kernels(w, config.activation, ntk_probes, constrained, kernels_at);
        TangentKernels out;
        out.full = ntk_kernel(w, config.activation, ntk_probes, kernels_at.rows);
        out.tangent = out.full;
        return out;
    };
    std::optional<TangentKernels> kernels0;
    if (config.ntk_probes > 0) {
        // The largest shard's units, so that every rank of the group decides alike.
        const Index widest =
            at.shards ? (config.h + at.shards->size() - 1) / at.shards->size() : config.h;
        const Index entries =
            kernel_entries_per_rank(order, config.ntk_probes, widest, d, kernels_at.rows);
        if (entries > max_kernel_entries)
            throw InputError("ntk_probes: the kernels on " + std::to_string(config.ntk_probes) +
                             " probes would hold " + std::to_string(entries) +
                             " entries (> 2^31) on a rank; take fewer probes, or a larger run "
                             "group (--group-size), which spreads their rows");
        kernels0 = kernels(w0);
    }
    // Outputs on the probes, and those of the affine model: sums over the units.
    auto outputs = [&](const TwoLayerWeights& w) {
        return at.sum(two_layer_outputs(w, config.activation, probes));
    };
    auto linear_outputs = [&](const TwoLayerWeights& w) {
        return at.sum(linearised_outputs(w, config.activation, probes));
    };

    result.status = RunStatus::running;
    auto record = [&](Index step) {
        Record r;
        r.step = step;
        r.t = result.eta * static_cast<double>(step);
        r.simulated = measure_network(problem, net, objective.loss(net), at);
        NetworkRecord& m = r.network;
        m.w1_orthogonality_error = w1_orthogonality_error(net, at);
        m.w2_orthogonality_error = w2_orthogonality_error(net, at);
        m.weight_change = relative_distance(net, w0, at);
        // The supervised baseline's linear limit is another one (the NTK's), not THEORY §4.3's,
        // and it has no pair.
        if (!supervised) {
            const Matrix f = outputs(net);
            m.output_deviation = relative_change(f, linear_outputs(net));
            if (pair) {
                m.linear_loss = pair_network->objective->loss(*pair);
                m.loss_deviation =
                    std::fabs(r.simulated.loss - m.linear_loss) / std::fabs(m.linear_loss);
                m.gram_deviation = relative_change(gram(f), gram(linear_outputs(*pair)));
                m.projector_deviation = subspace_distance(at.sum(multiply(net.w2, net.w1)),
                                                          at.sum(multiply(pair->w2, pair->w1)));
            }
        }
        if (kernels0) {
            const TangentKernels now = kernels(net);
            m.kernel_change = relative_change(now.full, kernels0->full, kernels_at.rows);
            m.tangent_kernel_change =
                relative_change(now.tangent, kernels0->tangent, kernels_at.rows);
        }
        std::optional<TwoLayerWeights> theory;
        if (reference) {
            reference->advance_to(r.t);
            theory = reference->weights();
        }
        if (theory && finite(*theory, at)) {  // a lost flow leaves its records NaN
            r.theory = measure_network(problem, *theory, network.exact().loss(*theory), at);
            r.theory_distance = relative_distance(net, *theory, at);
        } else {
            r.theory = missing_snapshot(k);
            r.theory_distance = std::numeric_limits<double>::quiet_NaN();
        }
        const bool healthy = std::isfinite(r.simulated.loss) &&
                             std::isfinite(r.simulated.effective_rank) &&
                             (supervised || std::isfinite(m.output_deviation));
        result.records.push_back(std::move(r));
        return healthy;
    };

    Index first_step = 1;
    bool healthy = true;
    if (resume) {
        const StateShape shape = state_shape(config, d);
        if (resume->step < 0 || resume->step > config.steps || resume->w.rows() != shape.rows ||
            resume->w.cols() != shape.cols || resume->records.empty())
            throw RuntimeFailure("checkpoint at step " + std::to_string(resume->step) +
                                 " does not fit run " + run_id(config));
        net = at.share(unpack(resume->w, 0, d, k));
        if (pair) pair = at.share(unpack(resume->w, 1, d, k));
        result.records = resume->records;
        // The reference flow is a pure function of W₀ and the record times: replayed through
        // the same intervals it takes the same adaptive steps and reaches the same state.
        if (reference)
            for (const Record& r : result.records) reference->advance_to(r.t);
        first_step = resume->step + 1;
    } else {
        healthy = record(0);
    }

    StepLoop loop;
    loop.step = [&](Index step) -> std::string {
        std::optional<Views> batch;
        if (config.batch > 0) batch.emplace(minibatch_views_at(config, problem, step));
        const Views* on = batch ? &*batch : nullptr;
        network.step(rule, config, on, *problem.views, units, net);
        if (pair) pair_network->step(rule, config, on, *problem.views, affine, *pair);
        if (!finite(net, at)) return "non-finite weights at step " + std::to_string(step);
        if (pair && !finite(*pair, at))
            return "non-finite weights of the linear pair at step " + std::to_string(step);
        return "";
    };
    loop.record = record;
    // The whole weights, gathered when sharded (every rank calls this at the same steps).
    loop.state = [&] {
        const TwoLayerWeights whole = at.whole(net, h);
        if (!pair) return pack(whole, nullptr);
        const TwoLayerWeights pair_whole = at.whole(*pair, h);
        return pack(whole, &pair_whole);
    };
    run_steps(config, control, first_step, healthy, loop, elapsed, result);
    if (reference) {
        result.reference_accepted = reference->flow.accepted();
        result.reference_rejected = reference->flow.rejected();
    }
    return result;
}

}  // namespace ssldyn
