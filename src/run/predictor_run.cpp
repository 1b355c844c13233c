#include "run/predictor_run.hpp"

#include <algorithm>
#include <cmath>
#include <optional>

#include "core/error.hpp"
#include "linalg/blas.hpp"
#include "random/stream.hpp"
#include "run/linear_run.hpp"
#include "run/problem.hpp"
#include "theory/predictor_flow.hpp"

namespace ssldyn {

namespace {

// W₀ is the linear run's (run/linear_run.cpp draws it from the same stream), W_p0 its own.
enum StreamPurpose : std::uint64_t { predictor_weights = 24 };

PredictorRule rule_of(const RunConfig& c) {
    return {c.loss == Loss::simsiam, c.predictor,   c.stop_gradient,
            c.predictor_rate,        c.target_rate, c.weight_decay};
}

// [W | W_p | W_a], k x (d + k + d).
Matrix pack(const PredictorState& s) {
    const Index k = s.w.rows(), d = s.w.cols();
    Matrix out(k, 2 * d + k);
    double* at = out.data();  // columns are contiguous
    for (const Matrix* m : {&s.w, &s.predictor, &s.target})
        at = std::copy(m->data(), m->data() + m->size(), at);
    return out;
}

PredictorState unpack(const Matrix& packed, Index d) {
    const Index k = packed.rows();
    return {copy_of(packed.columns(0, d)), copy_of(packed.columns(d, k)),
            copy_of(packed.columns(d + k, d))};
}

double squared_norm(const PredictorState& s) {
    double sum = 0.0;
    for (const Matrix* m : {&s.w, &s.predictor, &s.target}) {
        const double norm = frobenius_norm(*m);
        sum += norm * norm;
    }
    return sum;
}

// ‖θ − θ_ref‖_F / ‖θ_ref‖_F over the three matrices.
double relative_distance(const PredictorState& a, const PredictorState& b) {
    PredictorState difference = a;
    axpy(-1.0, b.w, difference.w);
    axpy(-1.0, b.predictor, difference.predictor);
    axpy(-1.0, b.target, difference.target);
    return std::sqrt(squared_norm(difference) / squared_norm(b));
}

bool finite(const Snapshot& s) {
    return std::isfinite(s.loss) && std::isfinite(s.effective_rank) && std::isfinite(s.s2_s1);
}

class PredictorRun final : public ModelRun {
  public:
    PredictorRun(const RunConfig& config, const Problem& problem, const RunResult& result)
        : config_(config),
          problem_(problem),
          views_(*problem.views),
          rule_(rule_of(config)),
          eta_(result.eta),
          state_(initial(config, problem)),
          start_(state_),
          moments_(ViewMoments::of(views_)) {
        if (config.reference_tolerance > 0)
            flow_.emplace(moments_, rule_, start_, config.reference_tolerance);
    }

    Matrix initial_state() const override { return pack(start_); }

    void resume(const Checkpoint& from) override {
        state_ = unpack(from.w, problem_.d);
        // The flow through the same record times as the uninterrupted run, for the same steps.
        if (flow_)
            for (const Record& r : from.records) theory_at(r.t);
    }

    bool record(Record& r) override {
        const PredictorGradient now = data_gradient(views_, state_);
        r.simulated = measure(problem_.coordinates(state_.w), 0.0, problem_.eigen.values);
        r.simulated.loss = now.loss;
        last_offdiagonal_ = predictor_offdiagonal(state_, moments_);
        const PredictorState* theory = flow_ ? theory_at(r.t) : nullptr;
        if (theory) {
            r.theory = measure(problem_.coordinates(theory->w), 0.0, problem_.eigen.values);
            r.theory.loss = moment_gradient(moments_, *theory).loss;
            r.theory_distance = relative_distance(state_, *theory);
        } else {
            r.theory = Snapshot::missing(config_.k);
            r.theory_distance = NetworkRecord::none;
        }
        return finite(r.simulated);
    }

    std::string step(Index step) override {
        predictor_step(rule_, eta_, data_gradient(views_, state_), state_);
        const bool ok =
            all_finite(state_.w) && all_finite(state_.predictor) && all_finite(state_.target);
        return ok ? "" : "non-finite weights at step " + std::to_string(step);
    }

    Matrix state() const override { return pack(state_); }

    void finish(RunResult& result) const override {
        result.initial_predictor_offdiagonal = predictor_offdiagonal(start_, moments_);
        result.final_predictor_offdiagonal = last_offdiagonal_;
        result.final_predictor_norm = frobenius_norm(state_.predictor);
        if (flow_) {
            result.reference_accepted = flow_->accepted();
            result.reference_rejected = flow_->rejected();
        }
    }

  private:
    static PredictorState initial(const RunConfig& config, const Problem& problem) {
        PredictorState s;
        s.w = initial_linear_weights(config, problem);
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

    // The flow at t, or none once it left the finite numbers (a diverging flow).
    const PredictorState* theory_at(double t) {
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
    const Views& views_;
    PredictorRule rule_;
    double eta_;
    PredictorState state_, start_;
    ViewMoments moments_;
    std::optional<PredictorFlow> flow_;
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
    return std::make_unique<PredictorRun>(config, problem, result);
}

StateLayout PredictorKind::state_layout(const RunConfig& config, Index d) const {
    return {config.k, 2 * d + config.k, "[W | W_p | W_a], k x (d + k + d)"};
}

RecordLayout PredictorKind::record_layout(const RunConfig&) const {
    return {false, "reference flow of (W, W_p, W_a)", "W (online)",
            "||theta - theta_ref||_F / ||theta_ref||_F over (W, W_p, W_a), to the reference flow",
            "relative, in (W, W_p, W_a), to the reference flow"};
}

std::string PredictorKind::describe(const RunConfig& config) const {
    return "predictor " + std::string(name_of(predictor_names, config.predictor)) +
           (config.stop_gradient ? ", stop-gradient, " : ", no stop-gradient, ");
}

std::string PredictorKind::label(const RunConfig& config) const {
    return std::string(name_of(loss_names, config.loss)) + " " +
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
        std::fprintf(out, "  %-22s %14.3e   (relative, in (W, W_p, W_a); tolerance %g)\n",
                     "distance to reference", last.theory_distance, r.config.reference_tolerance);
}

}  // namespace ssldyn
