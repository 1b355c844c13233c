#pragma once
// Synthetic spiked-covariance data x = Σ^{1/2} g (THEORY §1): a prescribed spectrum, so the
// exact C (= Σ for both losses and any augmentation noise) is known at any d.
//
// Σ = b·I + U diag(λ − b) Uᵀ with the s spikes λ (descending), the bulk b, and U (d x s) the
// spikes' orthonormal eigenvectors: the first s columns of a Haar-random orthogonal matrix (QR of
// a Gaussian with diag(R) > 0, whose first s columns depend on the first s Gaussian columns
// alone), or the standard basis (then Σ is diagonal and kept exact). Nothing d x d is ever formed
// but Σ itself when asked for: the data cost O(ds) memory and O(dsn) flops, and a rank can draw any
// rows of the samples.
#include <functional>
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
    Matrix covariance() const;  // Σ, d x d
    // Σ restricted to the given rows and columns (a rank's part of a distributed Σ).
    Matrix covariance_block(const std::vector<Index>& rows, const std::vector<Index>& cols) const;

    // n samples x = Σ^{1/2} g with the symmetric root Σ^{1/2} = √b·I + U diag(√λ − √b) Uᵀ,
    // g from the stream (entry (i, j) of g at position 2(jd + i) from the stream's start; the
    // stream is left after all d·n of them). d x n, one sample per column.
    Matrix sample(Index n, RandomStream& stream) const;
    // Rows [first, first + count) of the same samples. Uᵀg needs every row of g: each caller
    // adds its rows' share and `sum` adds the shares over the callers (an allreduce over the
    // ranks that split the rows between them; nothing for a caller holding all rows).
    Matrix sample_rows(Index n, Index first, Index count, RandomStream& stream,
                       const std::function<void(Matrix&)>& sum) const;

  private:
    std::vector<double> eigenvalues_;
    double bulk_;
    bool standard_basis_;
    Matrix spike_vectors_;  // U, d x s (empty for the standard basis: Σ diagonal, kept exact)
};

}  // namespace ssldyn
