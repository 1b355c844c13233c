#pragma once
// Gradient descent for the two-layer model, naive or with both layers constrained by shape
// (THEORY §4.3): W₂W₂ᵀ = I_k; W₁W₁ᵀ = I_h when h ≤ d, W₁ᵀW₁ = I_d when h ≥ d (the wide case,
// W₁ an isometric embedding of the input). A constrained layer steps along the Riemannian
// gradient of the Stiefel manifold, G − sym(G Wᵀ) W in row form (the loss is not invariant
// under rotations of W₁'s rows, so the Grassmann projection of the linear model would not do),
// then retracts with the retractions of optim/retraction.hpp; a layer with orthonormal columns
// is handled as its transpose.
#include "model/two_layer.hpp"
#include "optim/retraction.hpp"
#include "random/stream.hpp"

namespace ssldyn {

// The retraction of each layer; one method for both converts to it.
struct LayerRetractions {
    Retraction w1 = Retraction::automatic, w2 = Retraction::automatic;
    LayerRetractions() = default;
    LayerRetractions(Retraction both) : w1(both), w2(both) {}
    LayerRetractions(Retraction first, Retraction second) : w1(first), w2(second) {}
};

// Each layer's method with `auto` resolved by the layer's shape, as resolve (optim/retraction.hpp)
// does for its orthonormal vectors: min(h, d) of W₁ (h x d), min(k, h) of W₂ (k x h). So a wide or
// large W₁ may take QR while W₂ takes polar. The initial weights and every step use it, and it is
// what a run uses.
LayerRetractions resolve_layers(LayerRetractions methods, Index d, Index h, Index k);

struct TwoLayerRule {
    bool constrained = true;
    LayerRetractions retraction = {};  // `auto` resolved by resolve_layers
    double eta = 0.0;                  // step size
    double weight_decay = 0.0;  // λ of the naive dynamics: GD on L + λ(‖W₁‖² + ‖W₂‖²)
    Distribution distribution = {};
};

// Whether a constrained layer keeps orthonormal rows (m ≤ n) or columns (m > n).
inline bool orthonormal_rows(const Matrix& layer) {
    return layer.rows() <= layer.cols();
}

// G − sym(G Wᵀ) W for W with orthonormal rows. When W and G are a rank's columns of a layer
// spread over a group (model/sharded_two_layer.hpp), G Wᵀ, a sum over the columns, is summed over
// the group first.
Matrix stiefel_gradient_rows(const Matrix& gradient, const Matrix& w,
                             const mpi::Communicator* group = nullptr);
// The same for W with orthonormal columns, without transposing: G − W sym(Wᵀ G), with Wᵀ G summed
// over the group when W and G are a rank's rows.
Matrix stiefel_gradient_columns(const Matrix& gradient, const Matrix& w,
                                const mpi::Communicator* group = nullptr);

// The naive step of one layer, entry by entry: W ← W − η(∇L + 2λW); gradient is overwritten.
void naive_step(const TwoLayerRule& rule, Matrix& gradient, Matrix& layer);

// The Riemannian gradient of a constrained layer: G − sym(G Wᵀ) W for orthonormal rows, the same
// on the transposes for orthonormal columns.
Matrix stiefel_gradient(const Matrix& gradient, const Matrix& layer);

// The layer put back on its manifold: its polar factor (the nearest orthonormal matrix).
Matrix nearest_on_manifold(const Matrix& layer);

// −grad L of both layers (Riemannian when constrained, the plain gradient of L + λ‖W‖² otherwise):
// the vector field of the exact gradient flow the GD steps of the rule discretise. With shards, w
// is this rank's share of a wide network (model/sharded_two_layer.hpp), W₁ in column form.
TwoLayerWeights two_layer_flow_field(const TwoLayerRule& rule, const NetworkObjective& objective,
                                     const TwoLayerWeights& w,
                                     const mpi::Communicator* shards = nullptr);

// ‖W Wᵀ − I‖_F for orthonormal rows, ‖Wᵀ W − I‖_F for orthonormal columns.
double layer_orthogonality_error(const Matrix& layer);
// The same for a layer whose form is given; with a group, layer is a rank's rows (columns form)
// or columns (rows form) and the Gram matrix is summed over the group.
double layer_orthogonality_error(const Matrix& layer, bool rows, const mpi::Communicator* group);

// The Gaussian draws of initial_two_layer_weights for the hidden units [first, first + count):
// those rows of W₁ (variance 1/d) and the same columns of W₂ (variance 1/h).
TwoLayerWeights gaussian_two_layer_weights(Index d, Index h, Index k, Index first, Index count,
                                           RandomStream& stream);

// Initial weights: Gaussian with variance 1/fan-in, put on their manifolds when constrained
// (the orthonormal factor each layer's method gives, resolved by resolve_layers).
TwoLayerWeights initial_two_layer_weights(const TwoLayerRule& rule, Index d, Index h, Index k,
                                          RandomStream& stream);

// One GD step of both layers from the same gradient, each constrained layer retracted by its
// method (resolve_layers). Returns the loss before the step.
double two_layer_step(const TwoLayerRule& rule, const NetworkObjective& objective,
                      TwoLayerWeights& w);

}  // namespace ssldyn
