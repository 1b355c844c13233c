#pragma once
// The η → 0 reference of gradient descent (THEORY §4.3): the exact gradient flow dθ/dt = F(θ)
// of any model, integrated to high accuracy by the embedded Dormand–Prince 5(4) pair with
// adaptive steps, and put back on the constraint manifold after each accepted step (the
// projection moves θ by the step's local error, within the tolerance). The state is a list of
// matrices (the layers), the field and the projection come from the model.
#include <functional>
#include <vector>

#include "linalg/matrix.hpp"

namespace ssldyn {

using FlowState = std::vector<Matrix>;

class ReferenceFlow {
  public:
    using Field = std::function<FlowState(const FlowState&)>;
    using Projection = std::function<void(FlowState&)>;

    // The largest of a value over every process that holds a part of the state (identity when
    // one process holds it all): the step control must decide alike on all of them.
    using Largest = std::function<double(double)>;

    // tolerance: the local error of each step, per entry, against tolerance·(1 + |θ|).
    ReferenceFlow(Field field, Projection project, double tolerance, Largest largest = {});

    // θ(t_to) from θ(t_from), in place.
    void advance(FlowState& state, double t_from, double t_to);

    double tolerance() const { return tolerance_; }
    long accepted() const { return accepted_; }
    long rejected() const { return rejected_; }

  private:
    Field field_;
    Projection project_;
    double tolerance_;
    Largest largest_;
    double step_ = 0.0;  // the last step size that passed, the next one's start
    long accepted_ = 0, rejected_ = 0;
};

}  // namespace ssldyn
