#pragma once
// The dynamics of THEORY §4.1–4.2 and one gradient-descent step of each: the naive ones, the
// orthogonality constraint enforced by a retraction, and enforced softly by a penalty.
#include "core/names.hpp"
#include "loss/objective.hpp"
#include "optim/retraction.hpp"

namespace ssldyn {

enum class Dynamics {
    naive,       // unconstrained GD on L + λ‖W‖²_F (weight decay λ, may be 0)
    sphere,      // GD on the sphere ‖W‖_F = 1, kept by projection
    orthogonal,  // Riemannian GD on the Stiefel manifold W Wᵀ = I_k with a retraction
    penalty  // unconstrained GD on L + μ‖W Wᵀ − I‖²_F (orthogonality regularisation μ > 0)
};

// One row per dynamics: whether it has a form for the networks (model/two_layer_dynamics.hpp:
// plain GD, or both layers constrained by shape), besides the linear model's.
struct DynamicsRow {
    Dynamics value;
    std::string_view name;
    bool networks;
};

inline constexpr std::array<DynamicsRow, 4> dynamics_table{{
    {Dynamics::naive, "naive", true},
    {Dynamics::sphere, "sphere", false},
    {Dynamics::orthogonal, "orthogonal", true},
    {Dynamics::penalty, "penalty", false},
}};

inline constexpr NameTable<Dynamics, 4> dynamics_names = name_table(dynamics_table);

static_assert(in_enumeration_order(dynamics_table), "one row per value, in order");

constexpr const DynamicsRow& row_of(Dynamics d) {
    return dynamics_table[static_cast<std::size_t>(d)];
}

// Runs whose reference is the Grassmann flow and whose distance to it is ‖P − P_flow‖_F of the
// row spaces: the constrained runs and their soft (penalty) version, whose exact flow moves the
// row space exactly as the Grassmann flow does (theory/closed_form.hpp).
inline bool grassmann_reference(Dynamics d) {
    return d == Dynamics::orthogonal || d == Dynamics::penalty;
}

struct StepRule {
    Dynamics dynamics = Dynamics::orthogonal;
    Retraction retraction = Retraction::automatic;
    double eta = 0.0;                // step size; t advances by eta per step
    double weight_decay = 0.0;       // λ, naive dynamics only
    double penalty = 0.0;            // μ, penalty dynamics only
    Distribution distribution = {};  // where the retraction orthonormalises (optim/retraction.hpp)
};

// Initial weights from a Gaussian draw g (k x d, entries N(0, 1/d)) put on the dynamics'
// manifold: as is (naive), ‖W‖_F = 1 (sphere), orthonormal rows spanning the rows of g
// (orthogonal and penalty: the QR factor when the retraction resolves to qr, else the polar
// factor; the row space, and so the Grassmann flow, is the same either way).
Matrix initial_weights(const StepRule& rule, Matrix g);

// g <- the gradient the dynamics descend, from g = ∇L at w: of L + λ‖W‖² (naive), of L + μ‖WWᵀ −
// I‖² (penalty), or the Riemannian gradient of the sphere or of the Stiefel manifold (orthogonal:
// ∇L(I − WᵀW), the Riemannian gradient of every loss invariant under W → QW, Q ∈ O(k), which all
// losses here are). The flow of the dynamics is dW/dt = −g.
void riemannian_gradient(const StepRule& rule, const Matrix& w, Matrix& g);

// w <- the closest point of the dynamics' manifold (sphere: normalised; orthogonal: the polar
// factor); unchanged for the unconstrained dynamics. The reference flow's projection.
void onto_manifold(const StepRule& rule, Matrix& w);

// W <- one GD step. Returns the loss at W before the step (it comes with the gradient).
double gradient_step(const StepRule& rule, const Objective& objective, Matrix& w);

}  // namespace ssldyn
