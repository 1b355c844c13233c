#include "run/network_run.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "core/error.hpp"
#include "linalg/blas.hpp"
#include "model/sharded_two_layer.hpp"
#include "optim/retraction.hpp"
#include "run/problem.hpp"
#include "theory/linear_limit.hpp"
#include "theory/reference_flow.hpp"

namespace ssldyn {

namespace {

// Streams of the two-layer run, apart from those of the data (problem.cpp) and of the linear
// model's initial weights (linear_run.cpp): the network's weights, each step's minibatch, and
// the views of a minibatch (Views names its streams by a run id; these ids have the top bit set,
// which the data's never have).
enum StreamPurpose : std::uint64_t { network_weights = 22, minibatch = 23 };
constexpr std::uint64_t minibatch_views = std::uint64_t{1} << 63;

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

// Whether a run group of several ranks spreads an m x n matrix over its ranks: above the threshold.
bool spread_over_group(const Distribution& where, Index m, Index n) {
    return where.group != nullptr && where.group->size() > 1 && where.distributes(m, n);
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

    Network(const NetworkModel& model, const RunConfig& config, const Problem& problem,
            const Nonlinearity& units, const Placement& at, bool with_reference) {
        objective = model.objective(config, problem, units, at, config.precision);
        if (at.shards) shards = static_cast<ShardedTwoLayerObjective*>(objective.get());
        if (with_reference && config.precision != Precision::float64)
            float64 = model.objective(config, problem, units, at, Precision::float64);
    }

    // The objective to the precision of the reference flow (float64).
    const NetworkObjective& exact() const { return float64 ? *float64 : *objective; }

    // One step on the run's views, or on a minibatch's.
    void step(const TwoLayerRule& rule, const RunConfig& config, const Views* batch,
              const Views& all, const Nonlinearity& units, TwoLayerWeights& w) const {
        if (shards) {
            if (batch) shards->use(*batch);
            sharded_two_layer_step(rule, *shards, w);
            shards->use(all);
        } else if (batch) {
            two_layer_step(
                rule, TwoLayerObjective(*batch, loss_function(config), units, config.precision), w);
        } else {
            two_layer_step(rule, *objective, w);
        }
    }
};

class NetworkRun final : public ModelRun {
  public:
    NetworkRun(const NetworkModel& model, bool paired, const RunConfig& config,
               const Problem& problem, RunResult& result)
        : config_(config),
          problem_(problem),
          model_(model),
          rule_{model.constrained, config.retraction, result.eta, config.weight_decay,
                problem.distribution},
          at_{model.shardable && config.h > problem.d &&
                      spread_over_group(problem.distribution, config.h, problem.d)
                  ? problem.distribution.group
                  : nullptr},
          units_(config.activation),
          affine_(config.activation, true),
          probes_(problem.probes.columns(0, config.probes)),
          ntk_probes_(problem.probes.columns(0, config.ntk_probes)) {
        if (at_.shards && model.constrained)
            require_distributed_form(
                config.retraction,
                "a W₁ sharded over the run group (h = " + std::to_string(config.h) + " > d)",
                "raise --distribute-above");
        network_.emplace(model, config, problem, units_, at_, config.reference_tolerance > 0);
        if (paired) pair_network_.emplace(model, config, problem, affine_, at_, false);

        RandomStream init_stream(config.seed, network_weights);
        w0_ =
            model.initial_weights(config, rule_, problem.d, init_stream, *network_->objective, at_);
        net_ = w0_;
        if (pair_network_) pair_ = w0_;
        const TwoLayerWeights w0_whole = at_.whole(w0_, config.h);
        packed_w0_ = pack(w0_whole, pair_ ? &w0_whole : nullptr);

        if (config.reference_tolerance > 0) start_reference();
        start_kernels();
    }

    Matrix initial_state() const override { return packed_w0_; }

    Matrix initial_map() const override { return at_.sum(multiply(w0_.w2, w0_.w1)); }

    void resume(const Checkpoint& from) override {
        const Index d = problem_.d, k = config_.k;
        net_ = at_.share(unpack(from.w, 0, d, k));
        if (pair_) pair_ = at_.share(unpack(from.w, 1, d, k));
        // The reference flow is a pure function of W₀ and the record times: replayed through
        // the same intervals it takes the same adaptive steps and reaches the same state.
        if (reference_)
            for (const Record& r : from.records) reference_->advance_to(r.t);
    }

    bool record(Record& r) override {
        r.simulated = measure_network(problem_, net_, network_->objective->loss(net_), at_);
        NetworkRecord& m = r.network;
        m.w1_orthogonality_error = w1_orthogonality_error(net_, at_);
        m.w2_orthogonality_error = w2_orthogonality_error(net_, at_);
        m.weight_change = relative_distance(net_, w0_, at_);
        if (model_.linear_limit) {
            const Matrix f = outputs(net_);
            m.output_deviation = relative_change(f, linear_outputs(net_));
            if (pair_) {
                m.linear_loss = pair_network_->objective->loss(*pair_);
                m.loss_deviation =
                    std::fabs(r.simulated.loss - m.linear_loss) / std::fabs(m.linear_loss);
                m.gram_deviation = relative_change(gram(f), gram(linear_outputs(*pair_)));
                m.projector_deviation = subspace_distance(at_.sum(multiply(net_.w2, net_.w1)),
                                                          at_.sum(multiply(pair_->w2, pair_->w1)));
            }
        }
        if (kernels0_) {
            const TangentKernels now = kernels(net_);
            m.kernel_change = relative_change(now.full, kernels0_->full, kernels_at_.rows);
            m.tangent_kernel_change =
                relative_change(now.tangent, kernels0_->tangent, kernels_at_.rows);
        }
        std::optional<TwoLayerWeights> theory;
        if (reference_) {
            reference_->advance_to(r.t);
            theory = reference_->weights();
        }
        if (theory && finite(*theory, at_)) {  // a lost flow leaves its records NaN
            r.theory = measure_network(problem_, *theory, network_->exact().loss(*theory), at_);
            r.theory_distance = relative_distance(net_, *theory, at_);
        } else {
            r.theory = Snapshot::missing(config_.k);
            r.theory_distance = std::numeric_limits<double>::quiet_NaN();
        }
        return std::isfinite(r.simulated.loss) && std::isfinite(r.simulated.effective_rank) &&
               (!model_.linear_limit || std::isfinite(m.output_deviation));
    }

    std::string step(Index step) override {
        std::optional<Views> batch;
        if (config_.batch > 0) batch.emplace(minibatch_views_at(config_, problem_, step));
        const Views* on = batch ? &*batch : nullptr;
        network_->step(rule_, config_, on, *problem_.views, units_, net_);
        if (pair_) pair_network_->step(rule_, config_, on, *problem_.views, affine_, *pair_);
        if (!finite(net_, at_)) return "non-finite weights at step " + std::to_string(step);
        if (pair_ && !finite(*pair_, at_))
            return "non-finite weights of the linear pair at step " + std::to_string(step);
        return "";
    }

    // The whole weights, gathered when sharded (every rank calls this at the same steps).
    Matrix state() const override {
        const TwoLayerWeights whole = at_.whole(net_, config_.h);
        if (!pair_) return pack(whole, nullptr);
        const TwoLayerWeights pair_whole = at_.whole(*pair_, config_.h);
        return pack(whole, &pair_whole);
    }

    void finish(RunResult& result) const override {
        if (!reference_) return;
        result.reference_accepted = reference_->flow.accepted();
        result.reference_rejected = reference_->flow.rejected();
    }

  private:
    // The exact gradient flow from W₀ (THEORY §4.3), projected back onto the manifolds after
    // each step when constrained.
    void start_reference() {
        auto field = [this](const FlowState& s) {
            TwoLayerWeights f =
                two_layer_flow_field(rule_, network_->exact(), {s[0], s[1]}, at_.shards);
            return FlowState{std::move(f.w1), std::move(f.w2)};
        };
        auto project = [this](FlowState& s) {
            if (!model_.constrained) return;
            if (!network_->shards) {
                for (Matrix& layer : s) layer = nearest_on_manifold(layer);
                return;
            }
            // The polar factors of the sharded layers, W₁ and W₂ᵀ as tall row shares.
            const BlacsGrid& grid = network_->shards->grid();
            const Index block = problem_.distribution.block;
            s[0] = orthonormal_columns(Retraction::polar, s[0], grid, block);
            s[1] = transpose(orthonormal_columns(Retraction::polar, transpose(s[1]), grid, block));
        };
        auto largest = [this](double x) { return at_.shards ? at_.shards->max(x) : x; };
        reference_.emplace(
            Reference{ReferenceFlow(field, project, config_.reference_tolerance, largest),
                      FlowState{w0_.w1, w0_.w2}, 0.0});
    }

    // Kernels at initialisation, for their relative change along training (THEORY §4.4). Their
    // (ntk_probes·k)² entries are spread by rows over the run group above its threshold.
    void start_kernels() {
        if (config_.ntk_probes == 0) return;
        const Index order = config_.ntk_probes * config_.k;  // m: the kernels are m x m
        kernels_at_ = {at_.shards, spread_over_group(problem_.distribution, order, order)
                                       ? problem_.distribution.group
                                       : nullptr};
        // The largest shard's units, so that every rank of the group decides alike.
        const Index widest =
            at_.shards ? (config_.h + at_.shards->size() - 1) / at_.shards->size() : config_.h;
        const Index entries = kernel_entries_per_rank(order, config_.ntk_probes, widest, problem_.d,
                                                      kernels_at_.rows);
        if (entries > max_kernel_entries)
            throw InputError("ntk_probes: the kernels on " + std::to_string(config_.ntk_probes) +
                             " probes would hold " + std::to_string(entries) +
                             " entries (> 2^31) on a rank; take fewer probes, or a larger run "
                             "group (--group-size), which spreads their rows");
        kernels0_ = kernels(w0_);
    }

    TangentKernels kernels(const TwoLayerWeights& w) const {
        return model_.kernels(w, config_, ntk_probes_, model_.constrained, kernels_at_);
    }

    // Outputs on the probes, and those of the affine model: sums over the units.
    Matrix outputs(const TwoLayerWeights& w) const {
        return at_.sum(two_layer_outputs(w, config_.activation, probes_));
    }
    Matrix linear_outputs(const TwoLayerWeights& w) const {
        return at_.sum(linearised_outputs(w, config_.activation, probes_));
    }

    const RunConfig& config_;
    const Problem& problem_;
    NetworkModel model_;
    TwoLayerRule rule_;
    Placement at_;
    Nonlinearity units_, affine_;
    ConstView probes_, ntk_probes_;
    std::optional<Network> network_, pair_network_;
    TwoLayerWeights w0_, net_;
    std::optional<TwoLayerWeights> pair_;
    Matrix packed_w0_;
    std::optional<Reference> reference_;
    KernelPlacement kernels_at_;
    std::optional<TangentKernels> kernels0_;
};

}  // namespace

double Placement::sum(double x) const {
    if (shards) shards->sum(&x, 1);
    return x;
}

Matrix Placement::sum(Matrix m) const {
    if (shards) shards->sum(m.data(), m.size());
    return m;
}

TwoLayerWeights Placement::whole(const TwoLayerWeights& w, Index h) const {
    return shards ? gather_shards(w, h, *shards) : w;
}

TwoLayerWeights Placement::share(const TwoLayerWeights& w) const {
    return shards ? shard_of(w, *shards) : w;
}

bool Placement::w1_rows(const TwoLayerWeights& w) const {
    return !shards && orthonormal_rows(w.w1);
}

bool NetworkKind::paired(const RunConfig& config) const {
    return network_model(config).linear_limit && config.pair_linear;
}

std::unique_ptr<ModelRun> NetworkKind::start(const RunConfig& config, const Problem& problem,
                                             RunResult& result) const {
    if (std::max(config.probes, config.ntk_probes) > problem.probes.cols())
        throw InputError("probes: more probes than the " + std::to_string(problem.probes.cols()) +
                         " samples");
    if (config.batch > problem.samples.cols() && config.batch > 0)
        throw InputError("batch: " + std::to_string(config.batch) + " exceeds the " +
                         std::to_string(problem.samples.cols()) + " samples");
    const LayerRetractions layers =
        resolve_layers(config.retraction, problem.d, config.h, config.k);
    result.layer_retractions = {layers.w1, layers.w2};
    result.retraction = layers.w2;
    result.theory_conditioning = std::numeric_limits<double>::quiet_NaN();
    return std::make_unique<NetworkRun>(network_model(config), paired(config), config, problem,
                                        result);
}

StateLayout NetworkKind::state_layout(const RunConfig& config, Index d) const {
    const bool pair = paired(config);
    return {
        config.h, (d + config.k) * (pair ? 2 : 1),
        std::string("[W1 | W2^T], h x (d + k)") + (pair ? ", then the paired linear run's" : "")};
}

RecordLayout NetworkKind::record_layout(const RunConfig&) const {
    return {true, "reference flow", "W2 W1",
            "||theta - theta_ref||_F / ||theta_ref||_F over both layers, to the reference flow",
            "relative, in both layers, to the reference flow"};
}

std::string NetworkKind::label(const RunConfig& config) const {
    const std::string model(name_of(model_names, config.model));
    if (!network_model(config).follows_dynamics) return model;
    return model + " " + std::string(name_of(dynamics_names, config.dynamics));
}

std::string NetworkKind::describe(const RunConfig& config) const {
    return "two-layer " + std::string(name_of(activation_names, config.activation)) +
           " network, h = " + std::to_string(config.h) + ", ";
}

// The network's own lines: its layers, its pair and its laziness (THEORY §4.3–4.4).
void NetworkKind::print_summary(const RunResult& r, std::FILE* out) const {
    const RunConfig& c = r.config;
    const NetworkRecord& first = r.records.front().network;
    const NetworkRecord& last = r.records.back().network;
    std::fprintf(out, "  %-22s %14.3e %14.3e   (W1, W2)\n", "orthogonality error",
                 last.w1_orthogonality_error, last.w2_orthogonality_error);
    if (network_model(c).linear_limit)
        std::fprintf(out, "  %-22s %14.3e -> %.3e   (||f - f_lin|| / ||f_lin|| on %lld probes)\n",
                     "linear-limit deviation", first.output_deviation, last.output_deviation,
                     static_cast<long long>(c.probes));
    if (paired(c))
        std::fprintf(out, "  %-22s %14.3e %14.3e   (loss, Gram of representations)\n",
                     "vs paired linear run", last.loss_deviation, last.gram_deviation);
    std::fprintf(out, "  %-22s %14.3e", "relative weight change", last.weight_change);
    if (c.ntk_probes > 0)
        std::fprintf(out, "   kernel change %.3e, tangent kernel %.3e", last.kernel_change,
                     last.tangent_kernel_change);
    std::fprintf(out, "\n");
    if (c.reference_tolerance > 0)
        std::fprintf(out, "  %-22s %14.3e   (relative, in both layers; tolerance %g, %ld steps)\n",
                     "distance to reference", r.records.back().theory_distance,
                     c.reference_tolerance, r.reference_accepted);
}

}  // namespace ssldyn
