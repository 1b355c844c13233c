#pragma once
// The linear limit of wide constrained two-layer networks (THEORY §4.3): the affine model
// f_lin(x) = σ(0)W₂𝟙 + σ′(0)W₂W₁x the network approaches, the deviation from it, and the power
// law of a deviation in the width h, fitted with a confidence interval.
#include <vector>

#include "model/activation.hpp"
#include "model/two_layer.hpp"

namespace ssldyn {

// f_lin on each probe (columns of probes): k x p.
Matrix linearised_outputs(const TwoLayerWeights& w, Activation activation, ConstView probes);

// ‖f − f_lin‖_F / ‖f_lin‖_F over the probes.
double linear_limit_deviation(const TwoLayerWeights& w, Activation activation, ConstView probes);

// y ≈ prefactor · x^exponent by least squares on (log x, log y); [lower, upper] the 95 %
// confidence interval of the exponent from Student's t with m − 2 degrees of freedom.
struct PowerLaw {
    double exponent = 0.0, prefactor = 0.0, lower = 0.0, upper = 0.0;
};
PowerLaw fit_power_law(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace ssldyn
