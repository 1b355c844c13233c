#include "data/spiked.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

#include "core/error.hpp"
#include "linalg/blas.hpp"
#include "linalg/lapack.hpp"

namespace ssldyn {

SpikedCovariance::SpikedCovariance(Index d, std::vector<double> spikes, double bulk,
                                   bool random_basis, std::uint64_t seed) {
    if (static_cast<Index>(spikes.size()) > d)
        throw InputError("spikes: " + std::to_string(spikes.size()) +
                         " spikes do not fit in dimension d = " + std::to_string(d));
    if (bulk < 0) throw InputError("bulk: must be >= 0");
    for (double s : spikes)
        if (!(s >= 0)) throw InputError("spikes: eigenvalues must be >= 0");
    std::sort(spikes.begin(), spikes.end(), std::greater<>());
    eigenvalues_ = spikes;
    eigenvalues_.resize(static_cast<std::size_t>(d), bulk);
    if (random_basis) {
        // QR of a Gaussian matrix with diag(R) > 0 is Haar distributed.
        RandomStream stream(seed, 0x5b1ced);
        basis_ = orthonormal_factor(gaussian_matrix(stream, d, d));
    }
}

Matrix SpikedCovariance::covariance() const {
    const Index d = dimension();
    if (basis_.empty()) {
        Matrix sigma(d, d);
        for (Index i = 0; i < d; ++i) sigma(i, i) = eigenvalues_[static_cast<std::size_t>(i)];
        return sigma;
    }
    Matrix scaled = basis_;
    for (Index j = 0; j < d; ++j)
        for (Index i = 0; i < d; ++i) scaled(i, j) *= eigenvalues_[static_cast<std::size_t>(j)];
    return multiply(Op::none, Op::transpose, scaled, basis_);
}

Matrix SpikedCovariance::sample(Index n, RandomStream& stream) const {
    const Index d = dimension();
    Matrix g = gaussian_matrix(stream, d, n);
    for (Index j = 0; j < n; ++j)
        for (Index i = 0; i < d; ++i)
            g(i, j) *= std::sqrt(eigenvalues_[static_cast<std::size_t>(i)]);
    return basis_.empty() ? g : multiply(basis_, g);
}

}  // namespace ssldyn
