#pragma once
// What a run will cost before it starts, from its shapes alone: the memory a rank holds at its
// peak, and the floating-point work of a step (for estimates of time and for progress weighted
// by cost). The memory follows where the code allocates: the data, the three views, C, its
// eigendecomposition (with LAPACK's or ScaLAPACK's workspace), the weights, a network's
// activities and the records kept in memory until the run is written; it is a model, checked
// against the measured peak resident memory (tests/python/test_dry_run.py), not a bound.
#include <string>

#include "config/run_config.hpp"

namespace ssldyn {

// Where a run's matrices will live: the run group's size and the threshold above which a matrix
// is spread over it (linalg/distribution.hpp). One rank: everything replicated.
struct RunPlacement {
    int group_size = 1;
    Index distribute_above = Index{1} << 22;
};

// Bytes on one rank (the busiest of its group), by part.
struct Footprint {
    double data = 0;      // samples, views, probes and labels kept while the run steps
    double problem = 0;   // C and its eigenvectors kept while the run steps
    double build = 0;     // the peak while the problem is built (data, views, C, eigensolver)
    double weights = 0;   // weights, gradients, a network's activities, the reference flow, kernels
    double records = 0;   // the records held in memory until the run is written
    bool spread = false;  // C spread over the group (ScaLAPACK)
    bool sharded = false;  // a wide network's hidden units shared out over the group

    // The problem as the sweep's cache keeps it between runs.
    double resident() const { return data + problem; }
    // The peak of the run: building its problem, or stepping with its records grown.
    double peak() const;
    // The parts, for a message: "C and its eigenvectors 28.8 GB, …".
    std::string parts() const;
};

// d: the input dimension, n: the samples (both from data_shape, run/problem.hpp).
Footprint run_footprint(const RunConfig& config, Index d, Index n, const RunPlacement& at);

// Floating-point operations of one step on one rank (records included, spread over their steps):
// the products that dominate it, per model and gradient path.
double step_flops(const RunConfig& config, Index d, Index n, const RunPlacement& at);

// "28.8 GB", "512 MB", "4.0 kB" (powers of 1000).
std::string bytes_text(double bytes);

}  // namespace ssldyn
