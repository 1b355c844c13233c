#include "data/views.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "linalg/blas.hpp"
#include "linalg/lapack.hpp"
#include "random/stream.hpp"

namespace ssldyn {

namespace {

enum StreamPurpose : std::uint64_t { positive_view = 1, negative_view = 2, pairing = 3 };

// Entry (i, j) of a view of `total` rows, `in` holding rows [first, first + in.rows), takes
// its draws at position per_entry·(j·total + first + i) of the stream.
void augment(ConstView in, View out, const Augmentation& aug, RandomStream& stream, Index first,
             Index total) {
    const std::uint64_t per_entry = (aug.keep_prob < 1.0 ? 1 : 0) + (aug.noise_sigma > 0.0 ? 2 : 0);
    for (Index j = 0; j < in.cols; ++j) {
        stream.seek(per_entry * static_cast<std::uint64_t>(j * total + first));
        for (Index i = 0; i < in.rows; ++i) {
            double x = in(i, j);
            if (aug.keep_prob < 1.0 && stream.uniform() >= aug.keep_prob) x = 0.0;
            if (aug.noise_sigma > 0.0) x += aug.noise_sigma * stream.normal();
            out(i, j) = x;
        }
    }
}

}  // namespace

std::vector<Index> random_derangement(Index n, std::uint64_t seed, std::uint64_t run_id) {
    std::vector<Index> perm(static_cast<std::size_t>(n));
    for (Index i = 0; i < n; ++i) perm[static_cast<std::size_t>(i)] = i;
    RandomStream stream(seed, run_id, pairing);
    for (Index i = n - 1; i > 0; --i) {
        const auto j = static_cast<Index>(stream.below(static_cast<std::uint64_t>(i)));
        std::swap(perm[static_cast<std::size_t>(i)], perm[static_cast<std::size_t>(j)]);
    }
    return perm;
}

Views::Views(const Matrix& base, const Augmentation& aug, bool centre, std::uint64_t seed,
             std::uint64_t run_id, Index first_row, Index total_rows)
    : n_(base.cols()), stacked_(base.rows(), 3 * base.cols()) {
    if (n_ < 2) throw InputError("n: need at least 2 samples to pair negatives");
    const Index d = base.rows();
    const Index total = total_rows < 0 ? d : total_rows;
    View x = stacked_.columns(0, n_);
    for (Index j = 0; j < n_; ++j)
        for (Index i = 0; i < d; ++i) x(i, j) = base(i, j);
    RandomStream pos_stream(seed, run_id, positive_view);
    augment(base, stacked_.columns(n_, n_), aug, pos_stream, first_row, total);
    const auto perm = random_derangement(n_, seed, run_id);
    Matrix paired(d, n_);
    for (Index j = 0; j < n_; ++j)
        for (Index i = 0; i < d; ++i) paired(i, j) = base(i, perm[static_cast<std::size_t>(j)]);
    RandomStream neg_stream(seed, run_id, negative_view);
    augment(paired, stacked_.columns(2 * n_, n_), aug, neg_stream, first_row, total);

    mean_.assign(static_cast<std::size_t>(d), 0.0);
    if (!centre) return;
    for (Index j = 0; j < n_; ++j)
        for (Index i = 0; i < d; ++i) mean_[static_cast<std::size_t>(i)] += base(i, j);
    for (double& m : mean_) m /= static_cast<double>(n_);
    for (Index j = 0; j < 3 * n_; ++j)
        for (Index i = 0; i < d; ++i) stacked_(i, j) -= mean_[static_cast<std::size_t>(i)];
}

Matrix Views::whiten() {
    Matrix sigma(d(), d());
    syrk(Op::none, 1.0 / static_cast<double>(n_), anchors(), 0.0, sigma);
    const SymmetricEigen eigen = symmetric_eigen(sigma);
    const double floor = 1e-12 * std::max(eigen.values.front(), 0.0);
    Matrix scaled = eigen.vectors;  // V diag(μ^{-1/2}), the dropped directions zero
    for (Index j = 0; j < d(); ++j) {
        const double mu = eigen.values[static_cast<std::size_t>(j)];
        const double factor = mu > floor ? 1.0 / std::sqrt(mu) : 0.0;
        for (Index i = 0; i < d(); ++i) scaled(i, j) *= factor;
    }
    Matrix t = multiply(Op::none, Op::transpose, scaled, eigen.vectors);
    stacked_ = multiply(t, stacked_);
    return t;
}

}  // namespace ssldyn
