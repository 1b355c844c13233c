#pragma once
// Everything a linear run needs before its first step: the data and its views, C, and the
// eigendecomposition of C that the theory and the metrics share.
#include <memory>
#include <optional>

#include "config/run_config.hpp"
#include "linalg/lapack.hpp"
#include "loss/objective.hpp"

namespace ssldyn {

struct Problem {
    std::optional<Views> views;  // absent when C is exact
    Matrix c;
    SymmetricEigen eigen;  // of C, descending
    Index d = 0;
    GradientPath path = GradientPath::covariance;  // resolved

    double lambda_max() const { return eigen.values.front(); }
    // The objective the dynamics descend: through C or through the views.
    std::unique_ptr<Objective> objective(Loss loss) const;
};

// Loads or draws the data, checks k ≤ d, assembles C and decomposes it.
Problem build_problem(const RunConfig& config);

// The input dimension d a config will have, from its settings or the IDX header; checks that
// the data file exists, that n does not exceed it, and that k ≤ d. For planning sweeps.
Index input_dimension(const RunConfig& config);

// The settings that determine the Problem: runs with equal keys share one.
std::string problem_key(const RunConfig& config);

}  // namespace ssldyn
