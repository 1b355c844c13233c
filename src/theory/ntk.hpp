#pragma once
// Empirical tangent kernels of the two-layer model f(x) = W₂σ(W₁x) on p probe points (THEORY
// §4.4). J is the Jacobian of the m = p·k outputs (row i·k + a: output a at probe i) with respect
// to all weights, θ = (vec W₁, vec W₂) column-major; Θ = J Jᵀ, and for constrained training the
// kernel that drives the dynamics, Θ_T = J Π_T Jᵀ, with Π_T the orthogonal projection onto the
// tangent space of the layers' manifolds at θ (G ↦ G − sym(G Wᵀ) W per layer, on the transposes
// for a layer with orthonormal columns).
//
// J has m(d + k)h entries, far more than the kernels' m², so they are built from its structure
// instead: with U = W₁X (X the probes, d x p), H = σ(U), F = W₂H (the outputs) and B (m x h),
// B[(i,a), c] = W₂[a,c] σ′(U[c,i]), row (i,a) of J is b_ia x_iᵀ in W₁ and e_a H_iᵀ in W₂, so
//   Θ[(i,a),(j,b)] = (x_i·x_j)(b_ia·b_jb) + δ_ab (H_i·H_j),
// and ⟨ΠG, ΠG′⟩ = ⟨G, G′⟩ − ⟨sym(GWᵀ), G′Wᵀ⟩ per layer gives Θ_T = Θ minus
//   W₁, orthonormal rows (h ≤ d):    ½[(b_ia·b_jb)(u_i·u_j) + (u_i·b_jb)(b_ia·u_j)],
//   W₁, orthonormal columns (h > d): ½[(v_ia·v_jb)(x_i·x_j) + (x_i·v_jb)(v_ia·x_j)], V = BW₁,
//   W₂ (orthonormal rows):           ½[δ_ab (f_i·f_j) + f_i[b] f_j[a]],
// (u_i·b_jb = x_i·v_jb: both are Q = BU = VX). Cost O(m²h), memory O(mh), instead of the
// Jacobian's O(m²(d + k)h) and O(m(d + k)h). Every product over the hidden units (BBᵀ, HᵀH, Q,
// V, F, UᵀU) is a sum over the units, so with the units sharded over a run group each is a sum
// over the group.
#include "model/activation.hpp"
#include "model/two_layer.hpp"
#include "mpi/mpi.hpp"

namespace ssldyn {

// f(x) = W₂σ(W₁x) for each probe (columns of probes, d x p): k x p.
Matrix two_layer_outputs(const TwoLayerWeights& w, Activation activation, ConstView probes);

// The explicit forms, the independent computation the structured kernels are checked against:
// J, (p·k) x (h·d + k·h), and J Π_T (each row projected as the layers' gradients are).
Matrix output_jacobian(const TwoLayerWeights& w, Activation activation, ConstView probes);
Matrix project_jacobian(const TwoLayerWeights& w, Matrix jacobian);

// Rows [first, first + rows.rows()) of an m x m kernel: all of it, or one rank's share of a
// kernel whose rows are spread over a run group.
struct KernelRows {
    Index first = 0;
    Matrix rows;  // rows.rows() x m
    Index m = 0;
};

// Where the kernels' pieces live. shards: the group over which the hidden units are sharded
// (model/sharded_two_layer.hpp: w is this rank's share of a wide network, W₁ with orthonormal
// columns), whose sums over the units are sums over it. rows: the group over which the kernels'
// rows are spread, each rank its balanced share (linalg/distribution.hpp), so that a kernel of
// (p·k)² entries costs a rank (p·k)²/g; nullptr: the whole kernel on every rank. When both are
// set they are the same group.
struct KernelPlacement {
    const mpi::Communicator* shards = nullptr;
    const mpi::Communicator* rows = nullptr;
};

// The layers' factors of a parametrisation f(θ) = g(aW₁, bW₂) of the plain network g: its kernel
// is a² J₁J₁ᵀ + b² J₂J₂ᵀ with J_l g's Jacobian in layer l at the scaled weights. 1, 1 for the SSL
// network; d⁻¹, h⁻¹ for the NTK parametrisation, which is trained unconstrained: Θ_T would need
// the projection at the unscaled weights, so other factors are refused for constrained kernels.
struct LayerFactors {
    double w1 = 1.0, w2 = 1.0;
};

struct TangentKernels {
    KernelRows full;     // Θ = J Jᵀ
    KernelRows tangent;  // Θ_T = J Π_T Jᵀ (equal to Θ for unconstrained weights)
};
// Collective over the placement's groups.
TangentKernels tangent_kernels(const TwoLayerWeights& w, Activation activation, ConstView probes,
                               bool constrained, const KernelPlacement& at = {},
                               LayerFactors factors = {});

// The empirical NTK Θ = J Jᵀ of the supervised baseline (model/supervised.hpp) on probes
// (columns, d x p), J the Jacobian of the outputs with respect to the raw weights: in the NTK
// parametrisation f(W₁, W₂) = g(d^{-1/2}W₁, h^{-1/2}W₂) with g the plain network, so Θ is g's with
// its layers' terms scaled by d⁻¹ and h⁻¹. The whole kernel, or this rank's share of its rows
// spread over `rows`.
KernelRows ntk_kernel(const TwoLayerWeights& w, Activation activation, ConstView probes,
                      const mpi::Communicator* rows = nullptr);

// The entries a rank holds for the kernels of a run on p probes (for its memory cap): its rows of
// Θ and Θ_T now and at initialisation, one block of them in the making, B (m x units, the rank's
// hidden units), V (m x d), Q (m x p) and U, σ(U), σ′(U) (units x p).
Index kernel_entries_per_rank(Index m, Index p, Index units, Index d,
                              const mpi::Communicator* rows);

// ‖now − start‖_F / ‖start‖_F: laziness of weights or kernels along training.
double relative_change(const Matrix& now, const Matrix& start);
// The same for kernels held as rows spread over `rows` (nullptr: whole on every rank): the squared
// norms summed over the group.
double relative_change(const KernelRows& now, const KernelRows& start,
                       const mpi::Communicator* rows);

}  // namespace ssldyn
