#pragma once
// The supervised baseline of the NTK contrast (THEORY §4.4, model/supervised.hpp): the network in
// the NTK parametrisation, trained by plain gradient descent whatever the dynamics, so that one
// width sweep can hold it next to the constrained SSL runs. Its kernels are those of its
// parametrisation (Θ_T = Θ); its linear limit is the NTK's, not THEORY §4.3's, so it has no pair.
#include "run/network_run.hpp"

namespace ssldyn {

class SupervisedKind final : public NetworkKind {
  protected:
    NetworkModel network_model(const RunConfig& config) const override;
};

}  // namespace ssldyn
