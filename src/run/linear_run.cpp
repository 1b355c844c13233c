#include "run/linear_run.hpp"

#include <cmath>
#include <optional>

#include "core/error.hpp"
#include "linalg/blas.hpp"
#include "random/stream.hpp"
#include "run/problem.hpp"
#include "theory/closed_form.hpp"
#include "theory/loss_flows.hpp"
#include "theory/objective_flow.hpp"

namespace ssldyn {

namespace {

enum StreamPurpose : std::uint64_t { initial_weights_stream = 21 };

bool finite(const Snapshot& s) {
    return std::isfinite(s.loss) && std::isfinite(s.effective_rank) && std::isfinite(s.s2_s1);
}

// The comparison summaries of RunResult (see there).
void summarise(RunResult& result, const RunConfig& config, const std::vector<double>& lambda) {
    double optimum = 0.0;
    for (Index i = 0; i < config.k; ++i) optimum -= lambda[static_cast<std::size_t>(i)];
    const Record& last = result.records.back();
    if (optimum != 0.0) {
        result.final_loss_gap = (last.simulated.loss - optimum) / std::fabs(optimum);
        result.theory_final_loss_gap = (last.theory.loss - optimum) / std::fabs(optimum);
    }
    if (config.dynamics == Dynamics::orthogonal) {
        result.optimum_effective_rank = static_cast<double>(config.k);
        result.optimum_orthogonality_error = 0.0;
    } else if (config.dynamics == Dynamics::penalty) {
        const std::vector<double> s =
            penalty_optimum_singular_values(lambda, config.k, config.penalty);
        result.optimum_effective_rank = effective_rank(s);
        double squares = 0.0;
        for (double x : s) squares += (x * x - 1.0) * (x * x - 1.0);
        result.optimum_orthogonality_error = std::sqrt(squares);
    }
}

// Whether Σ = I to round-off, where the spectral contrastive flow is exact (THEORY §6.1).
bool identity_second_moment(const Matrix& sigma) {
    Matrix excess = sigma;
    for (Index i = 0; i < excess.rows(); ++i) excess(i, i) -= 1.0;
    return max_abs(excess) <= 1e-10;
}

// The theory of a run of a loss of THEORY §6: its exact flow where there is one (the spectral
// contrastive loss with Σ = I, Barlow Twins from an aligned start; naive dynamics without weight
// decay), else the reference flow of the run's objective and dynamics (none at tolerance 0).
class LossTheory {
  public:
    LossTheory(const RunConfig& config, const Problem& problem, const StepRule& rule,
               const Objective& objective, const Matrix& w0)
        : problem_(problem) {
        const bool plain = config.dynamics == Dynamics::naive && config.weight_decay == 0.0;
        if (plain && config.loss == Loss::spectral_contrastive &&
            identity_second_moment(problem.sigma)) {
            spectral_.emplace(problem.eigen.values, problem.coordinates(w0));
        } else if (plain && config.loss == Loss::barlow_twins &&
                   config.init == Initialisation::aligned) {
            const Matrix b = problem.coordinates(w0);
            std::vector<double> s0;
            for (Index i = 0; i < b.rows(); ++i) s0.push_back(b(i, i));
            aligned_.emplace(problem.eigen.values, std::move(s0));
        } else if (config.reference_tolerance > 0) {
            reference_.emplace(objective, rule, w0, config.reference_tolerance);
        }
    }

    double conditioning() const { return spectral_ ? spectral_->conditioning() : 1.0; }

    // W(t) and its rows W V, or nothing.
    bool at(double t, Matrix& w, Matrix& rows) {
        if (reference_) {
            w = reference_->at(t);
            rows = problem_.coordinates(w);
            return true;
        }
        if (!spectral_ && !aligned_) return false;
        rows = spectral_ ? spectral_->at(t).rows : aligned_->at(t).rows;
        w = multiply(Op::none, Op::transpose, rows, problem_.eigen.vectors);
        return true;
    }

  private:
    const Problem& problem_;
    std::optional<SpectralContrastiveFlow> spectral_;
    std::optional<BarlowTwinsAlignedFlow> aligned_;
    std::optional<ObjectiveFlow> reference_;
};

class LinearRun final : public ModelRun {
  public:
    LinearRun(const RunConfig& config, const Problem& problem, RunResult& result)
        : config_(config),
          problem_(problem),
          rule_{config.dynamics,     result.retraction, result.eta,
                config.weight_decay, config.penalty,    problem.distribution},
          w_(initial_weights(rule_, initial_linear_weights(config, problem))),
          w0_(w_),
          flow_(problem.eigen.values, problem.coordinates(w_), config.dynamics,
                config.weight_decay),
          objective_(problem.objective(loss_function(config))) {
        if (!paper_loss(config.loss)) {
            loss_theory_.emplace(config, problem, rule_, *objective_, w0_);
            result.theory_conditioning = loss_theory_->conditioning();
            return;
        }
        result.theory_conditioning = flow_.conditioning();
    }

    Matrix initial_state() const override { return w0_; }

    Matrix initial_map() const override { return w0_; }

    void resume(const Checkpoint& from) override { w_ = from.w; }

    bool record(Record& r) override {
        if (loss_theory_) return record_loss(r);
        const Matrix rows = problem_.coordinates(w_);
        const FlowPoint theory = flow_.at(r.t);
        r.simulated = measure(rows, 0.0, problem_.eigen.values);
        r.theory = measure(theory.rows, theory.log_scale, problem_.eigen.values);
        r.theory_distance = grassmann_reference(config_.dynamics)
                                ? subspace_distance(rows, theory.rows)
                                : relative_distance(rows, 0.0, theory.rows, theory.log_scale);
        return finite(r.simulated);
    }

    std::string step(Index step) override {
        gradient_step(rule_, *objective_, w_);
        return all_finite(w_) ? "" : "non-finite weights at step " + std::to_string(step);
    }

    Matrix state() const override { return w_; }

    void finish(RunResult& result) const override {
        const bool healthy = result.status == RunStatus::done;
        if (loss_theory_) {
            if (healthy && grassmann_reference(config_.dynamics))
                result.final_grassmann_distance = result.records.back().theory_distance;
            return;
        }
        summarise(result, config_, problem_.eigen.values);
        if (healthy && grassmann_reference(config_.dynamics)) {
            result.final_grassmann_distance = result.records.back().theory_distance;
        } else if (healthy) {
            // The naive and sphere flows add only k x k left factors to dW/dt = 2WC, so their row
            // space follows the Grassmann flow from the same W0 too; this measures how well GD
            // kept it.
            const ClosedFormFlow grassmann(problem_.eigen.values, problem_.coordinates(w0_),
                                           Dynamics::orthogonal, 0.0);
            result.final_grassmann_distance = subspace_distance(
                problem_.coordinates(w_), grassmann.at(result.records.back().t).rows);
        }
    }

  private:
    // A record of a loss of THEORY §6: the loss is the run's own, the distance to the theory is
    // that of the Gram matrices WᵀW (the exact flows give W up to a rotation; THEORY §6.1).
    bool record_loss(Record& r) {
        const Matrix rows = problem_.coordinates(w_);
        r.simulated = measure(rows, 0.0, problem_.eigen.values);
        r.simulated.loss = objective_->loss(w_);
        Matrix w, theory_rows;
        if (loss_theory_->at(r.t, w, theory_rows)) {
            r.theory = measure(theory_rows, 0.0, problem_.eigen.values);
            r.theory.loss = objective_->loss(w);
            r.theory_distance = grassmann_reference(config_.dynamics)
                                    ? subspace_distance(rows, theory_rows)
                                    : gram_distance(rows, theory_rows);
        } else {
            r.theory = Snapshot::missing(config_.k);
            r.theory_distance = Snapshot::none;
        }
        return finite(r.simulated);
    }

    const RunConfig& config_;
    const Problem& problem_;
    StepRule rule_;
    Matrix w_, w0_;
    ClosedFormFlow flow_;
    std::unique_ptr<Objective> objective_;
    std::optional<LossTheory> loss_theory_;  // the losses of THEORY §6
};

}  // namespace

Matrix initial_linear_weights(const RunConfig& config, const Problem& problem) {
    const double sigma =
        config.init_scale > 0 ? config.init_scale : 1.0 / std::sqrt(static_cast<double>(problem.d));
    if (config.init == Initialisation::aligned) {
        if (problem.vectors_distributed)
            throw InputError("init: 'aligned' needs the eigenvectors of C on one rank");
        Matrix w0 = transpose(problem.eigen.vectors.columns(0, config.k));
        scale(sigma, w0);
        return w0;
    }
    RandomStream stream(config.seed, initial_weights_stream);
    return gaussian_matrix(stream, config.k, problem.d, sigma);
}

std::unique_ptr<ModelRun> LinearKind::start(const RunConfig& config, const Problem& problem,
                                            RunResult& result) const {
    if (config.k > problem.d)
        throw InputError("k: " + std::to_string(config.k) +
                         " exceeds the input dimension d = " + std::to_string(problem.d));
    result.retraction = resolve(config.retraction, config.k, problem.d);
    return std::make_unique<LinearRun>(config, problem, result);
}

StateLayout LinearKind::state_layout(const RunConfig& config, Index d) const {
    return {config.k, d, "k x d"};
}

RecordLayout LinearKind::record_layout(const RunConfig& config) const {
    if (!paper_loss(config.loss)) {
        const std::string theory =
            "exact flow where there is one (THEORY 6.1, Sigma = I; 6.2, aligned start), else "
            "the reference flow";
        if (grassmann_reference(config.dynamics))
            return {false, theory, "W",
                    "||P - P_theory||_F between the row-space projectors of GD and the theory",
                    "||P - P_flow||_F"};
        return {false, theory, "W",
                "||W^T W - W_theory^T W_theory||_F / ||W_theory^T W_theory||_F (THEORY 6.1)",
                "relative, in W^T W"};
    }
    if (grassmann_reference(config.dynamics))
        return {false, "closed-form flow", "W",
                "||P - P_theory||_F between the row-space projectors of GD and the flow",
                "||P - P_flow||_F"};
    return {false, "closed-form flow", "W", "||W - W_theory||_F / ||W_theory||_F",
            "relative, in W"};
}

std::string LinearKind::describe(const RunConfig&) const {
    return "";
}

std::string LinearKind::label(const RunConfig& config) const {
    return std::string(name_of(dynamics_names, config.dynamics));
}

void LinearKind::print_summary(const RunResult& r, std::FILE* out) const {
    const Record& last = r.records.back();
    std::fprintf(out, "  %-22s %14.3e\n", "||W W^T - I||_F", last.simulated.orthogonality_error);
    std::fprintf(out, "  %-22s %14.3e   (%s)\n", "distance to theory", last.theory_distance,
                 grassmann_reference(r.config.dynamics) ? "||P - P_theory||_F"
                 : paper_loss(r.config.loss)            ? "relative, in W"
                                                        : "relative, in W^T W");
}

}  // namespace ssldyn
