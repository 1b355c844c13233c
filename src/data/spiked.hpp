#pragma once
// Synthetic spiked-covariance data x = Σ^{1/2} g (THEORY §1): a prescribed spectrum, so the
// exact C (= Σ for both losses and any augmentation noise) is known at any d.
#include <vector>

#include "linalg/matrix.hpp"
#include "random/stream.hpp"

namespace ssldyn {

class SpikedCovariance {
  public:
    // Eigenvalues: the spikes (descending), then d - spikes.size() copies of bulk.
    // random_basis: eigenvectors from a Haar-random orthogonal matrix, else the standard basis.
    SpikedCovariance(Index d, std::vector<double> spikes, double bulk, bool random_basis,
                     std::uint64_t seed);

    Index dimension() const { return static_cast<Index>(eigenvalues_.size()); }
    const std::vector<double>& eigenvalues() const { return eigenvalues_; }
    Matrix covariance() const;                           // Σ, d x d
    Matrix sample(Index n, RandomStream& stream) const;  // d x n, one sample per column

  private:
    std::vector<double> eigenvalues_;
    Matrix basis_;  // empty for the standard basis
};

}  // namespace ssldyn
