#pragma once
// Empirical tangent kernels of the two-layer model on probe points (THEORY §4.4). J is the
// Jacobian of the p·k outputs (row i·k + a: output a at probe i) with respect to all weights,
// θ = (vec W₁, vec W₂) column-major; Θ = J Jᵀ, and for constrained training the kernel that
// drives the dynamics, Θ_T = J Π_T Jᵀ, with Π_T the orthogonal projection onto the tangent space
// of the layers' manifolds at θ (G ↦ G − sym(G Wᵀ) W per layer, on the transposes for a layer
// with orthonormal columns). Π_T is a projection, so Θ_T = (JΠ_T)(JΠ_T)ᵀ.
#include "model/activation.hpp"
#include "model/two_layer.hpp"
#include "mpi/mpi.hpp"

namespace ssldyn {

// f(x) = W₂σ(W₁x) for each probe (columns of probes, d x p): k x p.
Matrix two_layer_outputs(const TwoLayerWeights& w, Activation activation, ConstView probes);

// J, (p·k) x (h·d + k·h).
Matrix output_jacobian(const TwoLayerWeights& w, Activation activation, ConstView probes);

struct TangentKernels {
    Matrix full;     // Θ = J Jᵀ
    Matrix tangent;  // Θ_T = J Π_T Jᵀ (equal to Θ for unconstrained weights)
};
// With shards (model/sharded_two_layer.hpp), w is this rank's share of a wide network (W₁ with
// orthonormal columns): the projections take their Gram products over the group, and both
// kernels are summed over it (Θ = Σ_r J_r J_rᵀ over the ranks' columns of J), on every rank.
TangentKernels tangent_kernels(const TwoLayerWeights& w, Activation activation, ConstView probes,
                               bool constrained, const mpi::Communicator* shards = nullptr);

// ‖now − start‖_F / ‖start‖_F: laziness of weights or kernels along training.
double relative_change(const Matrix& now, const Matrix& start);

}  // namespace ssldyn
