#pragma once
// The theory of the runs with a predictor (THEORY §6.3): the flow of the three matrices
// (W, W_p, W_a) integrated by the reference integrator (theory/reference_flow), and, under the
// paper's assumptions, its decoupled eigenmode ODEs, one (p, w, a) triple per eigen-direction.
#include <functional>
#include <utility>
#include <vector>

#include "loss/predictor.hpp"
#include "theory/reference_flow.hpp"

namespace ssldyn {

// dθ/dt = velocity(θ) for the gradient given (through the moments for the linear model, through
// the data for the two-layer one), advanced forward in t from θ₀ by the reference integrator,
// without projection.
template <class Encoder>
class PredictorFlowOf {
  public:
    using State = PredictorStateOf<Encoder>;
    using Gradient = std::function<PredictorGradientOf<Encoder>(const State&)>;

    PredictorFlowOf(Gradient gradient, const PredictorRule& rule, const State& start,
                    double tolerance)
        : gradient_(std::move(gradient)),
          rule_(rule),
          flow_(
              [this](const FlowState& y) {
                  unpack(y, field_at_);
                  return pack(velocity(rule_, field_at_, gradient_(field_at_)));
              },
              [](FlowState&) {}, tolerance),
          packed_(pack(start)),
          state_(start),
          field_at_(start) {}
    PredictorFlowOf(const PredictorFlowOf&) = delete;  // the field refers to this object
    PredictorFlowOf& operator=(const PredictorFlowOf&) = delete;

    // θ(t) for t at or after the last one asked for.
    const State& at(double t) {
        if (t > t_) {
            flow_.advance(packed_, t_, t);
            t_ = t;
            unpack(packed_, state_);
        }
        return state_;
    }
    long accepted() const { return flow_.accepted(); }
    long rejected() const { return flow_.rejected(); }

  private:
    static FlowState pack(const State& s) {
        FlowState out;
        for (const Matrix* m : matrices(s)) out.push_back(*m);
        return out;
    }
    static void unpack(const FlowState& f, State& s) {
        std::size_t i = 0;
        for (Matrix* m : matrices(s)) *m = f[i++];
    }

    Gradient gradient_;
    PredictorRule rule_;
    ReferenceFlow flow_;
    FlowState packed_;
    State state_, field_at_;  // field_at_: where the field is evaluated
    double t_ = 0.0;
};

// The linear model's flow, through the views' moments (O(k d²) per evaluation).
class PredictorFlow {
  public:
    PredictorFlow(ViewMoments moments, const PredictorRule& rule, const PredictorState& start,
                  double tolerance);
    const PredictorState& at(double t) { return flow_.at(t); }
    const ViewMoments& moments() const { return moments_; }
    long accepted() const { return flow_.accepted(); }
    long rejected() const { return flow_.rejected(); }

  private:
    ViewMoments moments_;
    PredictorFlowOf<Matrix> flow_;  // its field reads moments_
};

// One eigen-direction u of the moments: S₁₁u = m11·u, S₂₁u = m21·u, S₂₂u = m22·u (the paper's
// X + X' and X, X). A state is p (eigenvalue of W_p), w and a (the online and target rows' length
// along u) per mode.
struct ModeMoments {
    double m11, m21, m22;
};
struct Modes {
    std::vector<double> p, w, a;
};

// dp/dt, dw/dt, da/dt of every mode (THEORY §6.3), written out per mode.
Modes mode_velocity(const PredictorRule& rule, const std::vector<ModeMoments>& moments,
                    const Modes& m);

// The modes at t from m0, by the reference integrator at the tolerance given.
Modes integrate_modes(const PredictorRule& rule, const std::vector<ModeMoments>& moments,
                      const Modes& m0, double t, double tolerance);

}  // namespace ssldyn
