#pragma once
// One run of the two-layer network f(x) = W₂σ(W₁x) (THEORY §4.3–4.4): gradient descent, full
// batch or minibatch, next to its reference flow (the exact gradient flow, integrated to the
// run's reference_tolerance) and its paired linear run (the same network with σ replaced by its
// affine part at 0, trained from the same initial weights), recorded on the clock t = η·step.
//
// The weights a run stores (W0, checkpoints) are packed into one h x (d + k) matrix [W₁ | W₂ᵀ],
// followed by the pair's [W₁ | W₂ᵀ] when it is trained: h x 2(d + k).
#include "run/simulation.hpp"

namespace ssldyn {

struct Problem;

RunResult simulate_two_layer(const RunConfig& config, const Problem& problem,
                             const RunControl& control);

// Whether a run trains the paired linear model (two-layer runs with pair_linear).
bool paired(const RunConfig& config);

// Rows and columns of the packed weights of a run (the linear model's: k x d).
struct StateShape {
    Index rows = 0, cols = 0;
};
StateShape state_shape(const RunConfig& config, Index d);

}  // namespace ssldyn
