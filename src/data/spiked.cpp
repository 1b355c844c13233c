#include "data/spiked.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

#include "core/error.hpp"
#include "linalg/blas.hpp"
#include "linalg/lapack.hpp"

namespace ssldyn {

SpikedCovariance::SpikedCovariance(Index d, std::vector<double> spikes, double bulk,
                                   bool random_basis, std::uint64_t seed)
    : bulk_(bulk), standard_basis_(!random_basis) {
    if (static_cast<Index>(spikes.size()) > d)
        throw InputError("spikes: " + std::to_string(spikes.size()) +
                         " spikes do not fit in dimension d = " + std::to_string(d));
    if (bulk < 0) throw InputError("bulk: must be >= 0");
    for (double s : spikes)
        if (!(s >= 0)) throw InputError("spikes: eigenvalues must be >= 0");
    std::sort(spikes.begin(), spikes.end(), std::greater<>());
    eigenvalues_ = spikes;
    eigenvalues_.resize(static_cast<std::size_t>(d), bulk);
    const auto s = static_cast<Index>(spikes.size());
    if (random_basis) {
        // QR of a Gaussian matrix with diag(R) > 0 is Haar distributed; its first s columns are
        // those of the QR of the first s Gaussian columns.
        RandomStream stream(seed, 0x5b1ced);
        spike_vectors_ = orthonormal_factor(gaussian_matrix(stream, d, s));
    }
}

Matrix SpikedCovariance::covariance_block(const std::vector<Index>& rows,
                                          const std::vector<Index>& cols) const {
    const Index s = spike_vectors_.cols();
    const auto m = static_cast<Index>(rows.size()), n = static_cast<Index>(cols.size());
    if (standard_basis_) {
        Matrix block(m, n);
        for (Index j = 0; j < n; ++j)
            for (Index i = 0; i < m; ++i)
                if (rows[static_cast<std::size_t>(i)] == cols[static_cast<std::size_t>(j)])
                    block(i, j) =
                        eigenvalues_[static_cast<std::size_t>(rows[static_cast<std::size_t>(i)])];
        return block;
    }
    // U_rows diag(λ − b) U_colsᵀ + b·[row = col].
    Matrix left(m, s), right(n, s);
    for (Index k = 0; k < s; ++k) {
        const double excess = eigenvalues_[static_cast<std::size_t>(k)] - bulk_;
        for (Index i = 0; i < m; ++i)
            left(i, k) = spike_vectors_(rows[static_cast<std::size_t>(i)], k) * excess;
        for (Index j = 0; j < n; ++j)
            right(j, k) = spike_vectors_(cols[static_cast<std::size_t>(j)], k);
    }
    Matrix block(m, n);
    if (s > 0) gemm(Op::none, Op::transpose, 1.0, left, right, 0.0, block);
    for (Index j = 0; j < n; ++j)
        for (Index i = 0; i < m; ++i)
            if (rows[static_cast<std::size_t>(i)] == cols[static_cast<std::size_t>(j)])
                block(i, j) += bulk_;
    return block;
}

Matrix SpikedCovariance::covariance() const {
    std::vector<Index> all(static_cast<std::size_t>(dimension()));
    for (Index i = 0; i < dimension(); ++i) all[static_cast<std::size_t>(i)] = i;
    return covariance_block(all, all);
}

Matrix SpikedCovariance::sample(Index n, RandomStream& stream) const {
    return sample_rows(n, 0, dimension(), stream, [](Matrix&) {});
}

Matrix SpikedCovariance::sample_rows(Index n, Index first, Index count, RandomStream& stream,
                                     const std::function<void(Matrix&)>& sum) const {
    const Index d = dimension(), s = spike_vectors_.cols();
    if (first < 0 || count < 0 || first + count > d)
        throw RuntimeFailure("spiked samples: rows out of range");
    // g's rows [first, first + count), drawn where they lie in the whole d x n draw.
    const std::uint64_t start = stream.position();
    Matrix g(count, n);
    for (Index j = 0; j < n; ++j) {
        stream.seek(start + 2 * static_cast<std::uint64_t>(j * d + first));
        for (Index i = 0; i < count; ++i) g(i, j) = stream.normal();
    }
    stream.seek(start + 2 * static_cast<std::uint64_t>(n * d));
    if (standard_basis_) {  // x_i = √λ_i g_i
        for (Index i = 0; i < count; ++i) {
            const double root = std::sqrt(eigenvalues_[static_cast<std::size_t>(first + i)]);
            for (Index j = 0; j < n; ++j) g(i, j) *= root;
        }
        return g;
    }
    // x = √b·g + U diag(√λ − √b) (Uᵀg).
    const Matrix mine = rows_of(spike_vectors_, first, count);
    Matrix projection(s, n);
    if (s > 0 && count > 0) gemm(Op::transpose, Op::none, 1.0, mine, g, 0.0, projection);
    sum(projection);
    const double root_bulk = std::sqrt(bulk_);
    for (Index i = 0; i < s; ++i) {
        const double factor = std::sqrt(eigenvalues_[static_cast<std::size_t>(i)]) - root_bulk;
        for (Index j = 0; j < n; ++j) projection(i, j) *= factor;
    }
    scale(root_bulk, g);
    if (s > 0 && count > 0) gemm(Op::none, Op::none, 1.0, mine, projection, 1.0, g);
    return g;
}

}  // namespace ssldyn
