#pragma once
// The three dynamics of THEORY §4.1–4.2 and one gradient-descent step of each.
#include "core/names.hpp"
#include "loss/objective.hpp"
#include "optim/retraction.hpp"

namespace ssldyn {

enum class Dynamics {
    naive,      // unconstrained GD on L + λ‖W‖²_F (weight decay λ, may be 0)
    sphere,     // GD on the sphere ‖W‖_F = 1, kept by projection
    orthogonal  // Riemannian GD on the Stiefel manifold W Wᵀ = I_k with a retraction
};

inline constexpr NameTable<Dynamics, 3> dynamics_names{{
    {Dynamics::naive, "naive"},
    {Dynamics::sphere, "sphere"},
    {Dynamics::orthogonal, "orthogonal"},
}};

struct StepRule {
    Dynamics dynamics = Dynamics::orthogonal;
    Retraction retraction = Retraction::automatic;
    double eta = 0.0;           // step size; t advances by eta per step
    double weight_decay = 0.0;  // λ, naive dynamics only
};

// Initial weights from a Gaussian draw g (k x d, entries N(0, 1/d)) put on the dynamics'
// manifold: as is (naive), ‖W‖_F = 1 (sphere), orthonormal rows (orthogonal).
Matrix initial_weights(const StepRule& rule, Matrix g);

// W <- one GD step. Returns the loss at W before the step (it comes with the gradient).
double gradient_step(const StepRule& rule, const Objective& objective, Matrix& w);

}  // namespace ssldyn
