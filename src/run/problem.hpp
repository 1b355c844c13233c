#pragma once
// Everything a linear run needs before its first step: the data and its views, C, and the
// eigendecomposition of C that the theory and the metrics share.
#include <memory>
#include <optional>
#include <vector>

#include "config/run_config.hpp"
#include "linalg/distribution.hpp"
#include "linalg/lapack.hpp"
#include "loss/objective.hpp"

namespace ssldyn {

// C and its eigenvectors are either replicated (c, eigen.vectors) or, when d² exceeds the
// distribution's threshold, block-cyclic over the run group's grid (c_distributed,
// vectors_distributed); the eigenvalues are on every rank either way.
struct Problem {
    std::optional<Views> views;  // absent when C is exact or the gradient goes through C
    // Two-layer runs: the clean samples, centred as the views are (minibatches draw from them;
    // empty for full-batch runs), and the first of them, on which outputs are compared.
    Matrix samples;
    Matrix probes;
    std::vector<Index> labels;  // model = supervised: the class of each sample
    Matrix c;
    Matrix sigma;  // loss = spectral_contrastive through C: the anchor view's Σ (THEORY §6.1)
    SymmetricEigen eigen;  // of C, descending
    std::optional<DistributedMatrix> c_distributed, vectors_distributed;
    Distribution distribution;
    Index d = 0;
    GradientPath path = GradientPath::covariance;  // resolved

    double lambda_max() const { return eigen.values.front(); }
    // The objective the dynamics descend: through C or through the views.
    std::unique_ptr<Objective> objective(const LossFunction& loss) const;
    // W V: the rows of W in the eigenbasis of C (theory/closed_form.hpp), on every rank.
    Matrix coordinates(const Matrix& w) const;
};

// Loads or draws the data, checks k ≤ d, assembles C and decomposes it. With a distribution
// whose threshold d² exceeds, collective over its group: the first rank reads or draws the
// samples, C is assembled over the grid (pdsyr2k) and decomposed there (pdsyevd).
Problem build_problem(const RunConfig& config, const Distribution& where = {});

// The input dimension and the sample count of a config, from its settings or the IDX header
// (read once), checked against the file and k.
struct DataShape {
    Index d = 0, n = 0;
};
DataShape data_shape(const RunConfig& config);

// The input dimension d a config will have, from its settings or the IDX header; checks that
// the data file exists, that n does not exceed it, and that k ≤ d. For planning sweeps.
Index input_dimension(const RunConfig& config);

// The gradient path of a config: auto is through C for the linear model, the data for two-layer
// and for the losses that have no form through C.
GradientPath resolved_path(const RunConfig& config);

// The settings that determine the Problem: runs with equal keys share one.
std::string problem_key(const RunConfig& config);

}  // namespace ssldyn
