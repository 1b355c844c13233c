#pragma once
// The reference flow (THEORY §4.3) of the linear model under any loss and dynamics:
// dW/dt = −grad L(W), the gradient of the dynamics (optim/dynamics.hpp) at the loss's Euclidean
// gradient, put back on the dynamics' manifold after each step. The theory of every run without
// an exact flow (THEORY §6: InfoNCE, non-aligned starts, Σ ≠ I).
#include "optim/dynamics.hpp"
#include "theory/reference_flow.hpp"

namespace ssldyn {

class ObjectiveFlow {
  public:
    // objective: outlives the flow.
    ObjectiveFlow(const Objective& objective, const StepRule& rule, Matrix w0, double tolerance);
    // W(t), t not before the last one asked for (the flow advances, it never goes back).
    const Matrix& at(double t);
    const ReferenceFlow& integrator() const { return flow_; }

  private:
    ReferenceFlow flow_;
    FlowState state_;
    double t_ = 0.0;
};

}  // namespace ssldyn
