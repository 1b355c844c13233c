#include "theory/objective_flow.hpp"

#include "core/error.hpp"

namespace ssldyn {

ObjectiveFlow::ObjectiveFlow(const Objective& objective, const StepRule& rule, Matrix w0,
                             double tolerance)
    : flow_(
          [&objective, rule](const FlowState& y) {
              Matrix g = objective.evaluate(y[0]).gradient;
              riemannian_gradient(rule, y[0], g);
              scale(-1.0, g);
              return FlowState{std::move(g)};
          },
          [rule](FlowState& y) { onto_manifold(rule, y[0]); }, tolerance),
      state_{std::move(w0)} {}

const Matrix& ObjectiveFlow::at(double t) {
    if (t < t_) throw RuntimeFailure("reference flow: asked for an earlier time");
    flow_.advance(state_, t_, t);
    t_ = t;
    return state_[0];
}

}  // namespace ssldyn
