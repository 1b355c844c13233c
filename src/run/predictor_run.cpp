#include "run/predictor_run.hpp"

#include <algorithm>
#include <cmath>
#include <optional>

#include "core/error.hpp"
#include "linalg/blas.hpp"
#include "model/two_layer_dynamics.hpp"
#include "model/two_layer_predictor.hpp"
#include "random/stream.hpp"
#include "run/linear_run.hpp"
#include "run/problem.hpp"
#include "theory/predictor_flow.hpp"

namespace ssldyn {

namespace {

// W₀ is the linear run's (run/linear_run.cpp draws it from the same stream) or the two-layer
// run's (network_weights, as run/network_run.cpp), W_p0 its own.
enum StreamPurpose : std::uint64_t { network_weights = 22, predictor_weights = 24 };

PredictorRule rule_of(const RunConfig& c) {
    return {c.loss == Loss::simsiam, c.predictor,   c.stop_gradient,
            c.predictor_rate,        c.target_rate, c.weight_decay};
}

// The linear encoder W: its flow through the views' moments (THEORY §6.3).
class LinearEncoder {
  public:
    using Encoder = Matrix;
    using State = PredictorState;

    LinearEncoder(const RunConfig&, const Problem& problem)
        : views_(*problem.views), moments_(ViewMoments::of(views_)) {}

    static Matrix initial(const RunConfig& config, const Problem& problem) {
        return initial_linear_weights(config, problem);
    }
    PredictorGradient gradient(const State& s) const { return data_gradient(views_, s); }
    PredictorGradient flow_gradient(const State& s) const { return moment_gradient(moments_, s); }
    static const Matrix& end_to_end(const Matrix& w) { return w; }
    double offdiagonal(const State& s) const { return predictor_offdiagonal(s, moments_); }

  private:
    const Views& views_;
    ViewMoments moments_;
};

// The two-layer encoder (W₁, W₂): its flow through the data, as the network's reference flow
// (THEORY §4.3, §6.3), in float64 whatever the run's precision.
class TwoLayerEncoder {
  public:
    using Encoder = TwoLayerWeights;
    using State = TwoLayerPredictorState;

    TwoLayerEncoder(const RunConfig& config, const Problem& problem)
        : objective_(*problem.views, Nonlinearity(config.activation), config.precision,
                     !config.stop_gradient) {
        if (config.precision != Precision::float64 && config.reference_tolerance > 0)
            float64_.emplace(*problem.views, Nonlinearity(config.activation), Precision::float64,
                             !config.stop_gradient);
    }

    static TwoLayerWeights initial(const RunConfig& config, const Problem& problem) {
        RandomStream stream(config.seed, network_weights);
        TwoLayerRule naive;
        naive.constrained = false;
        return initial_two_layer_weights(naive, problem.d, config.h, config.k, stream);
    }
    TwoLayerPredictorGradient gradient(const State& s) const { return objective_.evaluate(s); }
    TwoLayerPredictorGradient flow_gradient(const State& s) const {
        return (float64_ ? *float64_ : objective_).evaluate(s);
    }
    // W₂W₁, the linearisation up to σ′(0), measured as the linear model's W (as a network run).
    static Matrix end_to_end(const TwoLayerWeights& w) { return multiply(w.w2, w.w1); }
    double offdiagonal(const State& s) const {
        return predictor_offdiagonal(s.predictor, objective_.anchor_second_moment(s.w));
    }

  private:
    TwoLayerPredictorObjective objective_;
    std::optional<TwoLayerPredictorObjective> float64_;
};

// The state's matrices side by side, each at the top of its columns (zero below where it has
// fewer rows than the tallest): [W | W_p | W_a], k x (2d + k), for the linear model;
// [W₁ | W₂ | W_p | W₁ₐ | W₂ₐ], max(h, k) x (2d + 2h + k), for the two-layer one.
template <class State>
Matrix pack(const State& s) {
    Index rows = 0, cols = 0;
    for (const Matrix* m : matrices(s)) {
        rows = std::max(rows, m->rows());
        cols += m->cols();
    }
    Matrix out(rows, cols);
    Index at = 0;
    for (const Matrix* m : matrices(s)) {
        for (Index j = 0; j < m->cols(); ++j)
            std::copy(m->data() + j * m->rows(), m->data() + (j + 1) * m->rows(),
                      out.data() + (at + j) * rows);
        at += m->cols();
    }
    return out;
}

// The inverse of pack, into a state of the shapes of `shape`.
template <class State>
State unpack(const Matrix& packed, const State& shape) {
    State s = shape;
    Index at = 0;
    for (Matrix* m : matrices(s)) {
        for (Index j = 0; j < m->cols(); ++j)
            std::copy(packed.data() + (at + j) * packed.rows(),
                      packed.data() + (at + j) * packed.rows() + m->rows(),
                      m->data() + j * m->rows());
        at += m->cols();
    }
    return s;
}

template <class State>
double squared_norm(const State& s) {
    double sum = 0.0;
    for (const Matrix* m : matrices(s)) {
        const double norm = frobenius_norm(*m);
        sum += norm * norm;
    }
    return sum;
}

// ‖θ − θ_ref‖_F / ‖θ_ref‖_F over all the matrices.
template <class State>
double relative_distance(const State& a, const State& b) {
    State difference = a;
    const std::vector<const Matrix*> from = matrices(b);
    const std::vector<Matrix*> to = matrices(difference);
    for (std::size_t i = 0; i < to.size(); ++i) axpy(-1.0, *from[i], *to[i]);
    return std::sqrt(squared_norm(difference) / squared_norm(b));
}

template <class State>
bool finite_state(const State& s) {
    const std::vector<const Matrix*> all = matrices(s);
    return std::all_of(all.begin(), all.end(), [](const Matrix* m) { return all_finite(*m); });
}

bool finite(const Snapshot& s) {
    return std::isfinite(s.loss) && std::isfinite(s.effective_rank) && std::isfinite(s.s2_s1);
}

// A run with a predictor on the encoder of Model (LinearEncoder or TwoLayerEncoder).
template <class Model>
class PredictorRun final : public ModelRun {
  public:
    using State = typename Model::State;

    PredictorRun(const RunConfig& config, const Problem& problem, const RunResult& result)
        : config_(config),
          problem_(problem),
          model_(config, problem),
          rule_(rule_of(config)),
          eta_(result.eta),
          state_(initial(config, problem)),
          start_(state_) {
        if (config.reference_tolerance > 0)
            flow_.emplace([this](const State& s) { return model_.flow_gradient(s); }, rule_, start_,
                          config.reference_tolerance);
    }

    Matrix initial_state() const override { return pack(start_); }

    Matrix initial_map() const override { return Model::end_to_end(start_.w); }

    void resume(const Checkpoint& from) override {
        state_ = unpack(from.w, start_);
        // The flow through the same record times as the uninterrupted run, for the same steps.
        if (flow_)
            for (const Record& r : from.records) theory_at(r.t);
    }

    bool record(Record& r) override {
        r.simulated = measured(state_, model_.gradient(state_).loss);
        last_offdiagonal_ = model_.offdiagonal(state_);
        const State* theory = flow_ ? theory_at(r.t) : nullptr;
        if (theory) {
            r.theory = measured(*theory, model_.flow_gradient(*theory).loss);
            r.theory_distance = relative_distance(state_, *theory);
        } else {
            r.theory = Snapshot::missing(config_.k);
            r.theory_distance = NetworkRecord::none;
        }
        return finite(r.simulated);
    }

    std::string step(Index step) override {
        predictor_step(rule_, eta_, model_.gradient(state_), state_);
        return finite_state(state_) ? "" : "non-finite weights at step " + std::to_string(step);
    }

    Matrix state() const override { return pack(state_); }

    void finish(RunResult& result) const override {
        result.initial_predictor_offdiagonal = model_.offdiagonal(start_);
        result.final_predictor_offdiagonal = last_offdiagonal_;
        result.final_predictor_norm = frobenius_norm(state_.predictor);
        if (flow_) {
            result.reference_accepted = flow_->accepted();
            result.reference_rejected = flow_->rejected();
        }
    }

  private:
    static State initial(const RunConfig& config, const Problem& problem) {
        State s;
        s.w = Model::initial(config, problem);
        if (config.predictor == Predictor::linear) {
            RandomStream p(config.seed, predictor_weights);
            s.predictor = gaussian_matrix(p, config.k, config.k,
                                          1.0 / std::sqrt(static_cast<double>(config.k)));
        } else {
            s.predictor = Matrix::identity(config.k);
        }
        s.target = s.w;
        return s;
    }

    // The records' metrics are those of the online encoder's end-to-end map; loss is L.
    Snapshot measured(const State& s, double loss) const {
        Snapshot out =
            measure(problem_.coordinates(Model::end_to_end(s.w)), 0.0, problem_.eigen.values);
        out.loss = loss;
        return out;
    }

    // The flow at t, or none once it left the finite numbers (a diverging flow).
    const State* theory_at(double t) {
        if (flow_lost_) return nullptr;
        try {
            return &flow_->at(t);
        } catch (const RuntimeFailure&) {
            flow_lost_ = true;
            return nullptr;
        }
    }

    const RunConfig& config_;
    const Problem& problem_;
    Model model_;
    PredictorRule rule_;
    double eta_;
    State state_, start_;
    std::optional<PredictorFlowOf<typename Model::Encoder>> flow_;
    bool flow_lost_ = false;
    double last_offdiagonal_ = NetworkRecord::none;  // at the last record
};

}  // namespace

std::unique_ptr<ModelRun> PredictorKind::start(const RunConfig& config, const Problem& problem,
                                               RunResult& result) const {
    if (config.k > problem.d)
        throw InputError("k: " + std::to_string(config.k) +
                         " exceeds the input dimension d = " + std::to_string(problem.d));
    if (!problem.views)
        throw InputError("path: loss = " + std::string(name_of(loss_names, config.loss)) +
                         " goes through the data (path = auto or data)");
    result.theory_conditioning = NetworkRecord::none;
    if (config.model == Model::two_layer)
        return std::make_unique<PredictorRun<TwoLayerEncoder>>(config, problem, result);
    return std::make_unique<PredictorRun<LinearEncoder>>(config, problem, result);
}

StateLayout PredictorKind::state_layout(const RunConfig& config, Index d) const {
    if (config.model == Model::two_layer)
        return {std::max(config.h, config.k), 2 * (d + config.h) + config.k,
                "[W1 | W2 | W_p | W1_a | W2_a], max(h, k) x (d + h + k + d + h), each matrix at "
                "the top of its columns"};
    return {config.k, 2 * d + config.k, "[W | W_p | W_a], k x (d + k + d)"};
}

RecordLayout PredictorKind::record_layout(const RunConfig& config) const {
    if (config.model == Model::two_layer)
        return {false, "reference flow of (W1, W2, W_p, W1_a, W2_a)", "W2 W1 (online)",
                "||theta - theta_ref||_F / ||theta_ref||_F over (W1, W2, W_p, W1_a, W2_a), to "
                "the reference flow",
                "relative, in (W1, W2, W_p, W1_a, W2_a), to the reference flow"};
    return {false, "reference flow of (W, W_p, W_a)", "W (online)",
            "||theta - theta_ref||_F / ||theta_ref||_F over (W, W_p, W_a), to the reference flow",
            "relative, in (W, W_p, W_a), to the reference flow"};
}

std::string PredictorKind::describe(const RunConfig& config) const {
    const std::string network =
        config.model == Model::two_layer
            ? "two-layer " + std::string(name_of(activation_names, config.activation)) +
                  " network, h = " + std::to_string(config.h) + ", "
            : "";
    return network + "predictor " + std::string(name_of(predictor_names, config.predictor)) +
           (config.stop_gradient ? ", stop-gradient, " : ", no stop-gradient, ");
}

std::string PredictorKind::label(const RunConfig& config) const {
    return std::string(config.model == Model::two_layer ? "two-layer " : "") +
           std::string(name_of(loss_names, config.loss)) + " " +
           std::string(name_of(predictor_names, config.predictor)) +
           (config.stop_gradient ? "" : " no-sg");
}

void PredictorKind::print_summary(const RunResult& r, std::FILE* out) const {
    const Record& last = r.records.back();
    std::fprintf(out, "  %-22s %14.3e -> %.3e   (off-diagonal mass in F's eigenbasis)\n",
                 "predictor alignment", r.initial_predictor_offdiagonal,
                 r.final_predictor_offdiagonal);
    std::fprintf(out, "  %-22s %14.3e\n", "||W_p||_F", r.final_predictor_norm);
    if (r.config.reference_tolerance > 0)
        std::fprintf(out, "  %-22s %14.3e   (relative, in all the weights; tolerance %g)\n",
                     "distance to reference", last.theory_distance, r.config.reference_tolerance);
}

}  // namespace ssldyn
