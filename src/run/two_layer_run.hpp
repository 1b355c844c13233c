#pragma once
// The two-layer network f(x) = W₂σ(W₁x) trained by self-supervision (THEORY §4.3): both layers
// constrained by shape (dynamics = orthogonal) or naive, its hidden units sharded over the run
// group when W₁ is wide, next to its reference flow and its paired linear run (the same network
// with σ replaced by its affine part at 0, trained from the same initial weights).
#include "run/network_run.hpp"

namespace ssldyn {

class TwoLayerKind final : public NetworkKind {
  protected:
    NetworkModel network_model(const RunConfig& config) const override;
};

}  // namespace ssldyn
