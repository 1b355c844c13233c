#pragma once
// The three views of THEORY §1, stacked side by side in one d x 3n matrix [X | X⁺ | X⁻] so
// that the data path multiplies all of them in one BLAS-3 call.
#include <cstdint>
#include <vector>

#include "linalg/matrix.hpp"

namespace ssldyn {

struct Augmentation {
    double noise_sigma = 0.0;  // additive Gaussian noise σ_aug
    double keep_prob = 1.0;    // random pixel masking: each entry kept with this probability
};

class Views {
  public:
    // base: d x n clean samples. Views are drawn once from the counter stream (seed, run id),
    // negatives pair each sample with another by a random derangement, and when `centre` is set
    // every view has the mean of the clean samples subtracted. Every entry's draws sit at a
    // position fixed by its place in the whole d x n view, so base may also be rows
    // [first_row, first_row + base.rows()) of samples of total_rows features: the views are then
    // the same rows of the whole views (a rank's share, for C assembled over a grid).
    Views(const Matrix& base, const Augmentation& augmentation, bool centre, std::uint64_t seed,
          std::uint64_t run_id, Index first_row = 0, Index total_rows = -1);

    Index n() const { return n_; }
    Index d() const { return stacked_.rows(); }  // the rows held
    ConstView anchors() const { return stacked_.columns(0, n_); }
    ConstView positives() const { return stacked_.columns(n_, n_); }
    ConstView negatives() const { return stacked_.columns(2 * n_, n_); }
    ConstView stacked(Index views) const { return stacked_.columns(0, views * n_); }
    const std::vector<double>& mean() const { return mean_; }

    // Multiplies every view by T = Σ^{-1/2}, Σ = XᵀX/n the anchors' second moment (pseudo-inverse
    // root: directions with eigenvalue ≤ 1e-12·the largest are dropped), so that the anchors'
    // second moment becomes I on Σ's range (THEORY §6.1). Returns T, for samples kept apart.
    Matrix whiten();

  private:
    Index n_;
    Matrix stacked_;
    std::vector<double> mean_;
};

// A uniformly random cyclic permutation (Sattolo): no sample is its own negative.
std::vector<Index> random_derangement(Index n, std::uint64_t seed, std::uint64_t run_id);

}  // namespace ssldyn
