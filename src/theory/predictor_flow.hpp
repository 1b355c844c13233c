#pragma once
// The theory of the runs with a predictor (THEORY §6.3): the flow of the three matrices
// (W, W_p, W_a) integrated by the reference integrator (theory/reference_flow), and, under the
// paper's assumptions, its decoupled eigenmode ODEs, one (p, w, a) triple per eigen-direction.
#include <vector>

#include "loss/predictor.hpp"
#include "theory/reference_flow.hpp"

namespace ssldyn {

// dθ/dt = velocity(θ) through the views' moments, advanced forward in t from θ₀.
class PredictorFlow {
  public:
    PredictorFlow(ViewMoments moments, const PredictorRule& rule, const PredictorState& start,
                  double tolerance);
    PredictorFlow(const PredictorFlow&) = delete;  // the field refers to this object
    PredictorFlow& operator=(const PredictorFlow&) = delete;
    // θ(t) for t at or after the last one asked for.
    const PredictorState& at(double t);
    const ViewMoments& moments() const { return moments_; }
    long accepted() const { return flow_.accepted(); }
    long rejected() const { return flow_.rejected(); }

  private:
    ViewMoments moments_;
    PredictorRule rule_;
    ReferenceFlow flow_;
    FlowState packed_;
    PredictorState state_;
    double t_ = 0.0;
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
