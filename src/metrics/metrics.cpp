#include "metrics/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "linalg/blas.hpp"
#include "linalg/lapack.hpp"

namespace ssldyn {

double effective_rank(const std::vector<double>& s) {
    double total = 0.0;
    for (double x : s) total += x;
    if (!(total > 0.0)) return 0.0;
    double entropy = 0.0;
    for (double x : s) {
        const double p = x / total;
        if (p > 0.0) entropy -= p * std::log(p);
    }
    return std::exp(entropy);
}

namespace {

constexpr double rank_tolerance = 1e-8;

// Orthonormal basis (d x k) of the row space of a k x d matrix.
Matrix row_basis(const Matrix& rows) {
    return orthonormal_factor(transpose(rows));
}

}  // namespace

Snapshot measure(const Matrix& rows, double log_scale, const std::vector<double>& eigenvalues) {
    const Index k = rows.rows(), d = rows.cols();
    Snapshot s;
    const double scale2 = std::exp(2.0 * log_scale);
    double weighted = 0.0;
    for (Index j = 0; j < d; ++j) {
        double column = 0.0;
        for (Index i = 0; i < k; ++i) column += rows(i, j) * rows(i, j);
        weighted += eigenvalues[static_cast<std::size_t>(j)] * column;
    }
    s.loss = -scale2 * weighted;

    Matrix gram = multiply(Op::none, Op::transpose, rows, rows);
    scale(scale2, gram);
    for (Index i = 0; i < k; ++i) gram(i, i) -= 1.0;
    s.orthogonality_error = frobenius_norm(gram);

    const Svd svd = thin_svd(rows);
    const std::vector<double>& sv = svd.s;
    s.effective_rank = effective_rank(sv);
    s.s2_s1 = k > 1 && sv[0] > 0.0 ? sv[1] / sv[0] : 0.0;
    const double factor = std::exp(log_scale);
    for (double x : sv) s.singular_values.push_back(x * factor);
    for (Index j = 0; j < std::min(k, d); ++j) {
        double column = 0.0;
        for (Index i = 0; i < k; ++i) column += rows(i, j) * rows(i, j);
        s.modes.push_back(std::sqrt(column) * factor);
    }

    s.topk_sin_angle = 0.0;  // k = d, or W = 0
    if (k < d && sv[0] > 0.0) {
        // Principal angles between the numerical row space (right singular vectors with
        // s_i > rank_tolerance·s₁, each determined to about ε/tolerance) and span(e₁…e_k):
        // their sines are the singular values of those vectors' coordinates k..d−1.
        Index rank = 0;
        while (rank < static_cast<Index>(sv.size()) &&
               sv[static_cast<std::size_t>(rank)] > rank_tolerance * sv[0])
            ++rank;
        Matrix tail(rank, d - k);
        for (Index j = 0; j < d - k; ++j)
            for (Index i = 0; i < rank; ++i) tail(i, j) = svd.vt(i, k + j);
        s.topk_sin_angle = std::min(1.0, singular_values(tail).front());
    }
    return s;
}

std::vector<double> rise_times(const std::vector<double>& t,
                               const std::vector<std::vector<double>>& modes) {
    constexpr double none = std::numeric_limits<double>::quiet_NaN();
    const std::size_t records = std::min(t.size(), modes.size());
    if (records == 0) return {};
    std::vector<double> out(modes.back().size(), none);
    for (std::size_t i = 0; i < out.size(); ++i) {
        // A record without modes (of a store written before they were) counts as not finite.
        auto u = [&](std::size_t r) {
            return i < modes[r].size() ? modes[r][i] * modes[r][i] : none;
        };
        const double half = 0.5 * u(records - 1);
        if (!std::isfinite(half)) continue;
        for (std::size_t r = 0; r < records; ++r) {
            if (!(u(r) >= half)) continue;
            if (r == 0 || !std::isfinite(u(r - 1))) {
                out[i] = t[r];
            } else {
                const double f = (half - u(r - 1)) / (u(r) - u(r - 1));
                out[i] = t[r - 1] + f * (t[r] - t[r - 1]);
            }
            break;
        }
    }
    return out;
}

double subspace_distance(const Matrix& a, const Matrix& b) {
    const Matrix qa = row_basis(a), qb = row_basis(b);
    // (I − Q_b Q_bᵀ) Q_a has the sines of the principal angles as singular values.
    Matrix residual = qa;
    const Matrix overlap = multiply(Op::transpose, Op::none, qb, qa);
    gemm(Op::none, Op::none, -1.0, qb, overlap, 1.0, residual);
    return std::sqrt(2.0) * frobenius_norm(residual);
}

double relative_distance(const Matrix& a, double log_scale_a, const Matrix& b, double log_scale_b) {
    Matrix difference = a;
    scale(std::exp(log_scale_a - log_scale_b), difference);
    axpy(-1.0, b, difference);
    return frobenius_norm(difference) / frobenius_norm(b);
}

double gram_distance(const Matrix& a, const Matrix& b) {
    Matrix difference = multiply(Op::transpose, Op::none, a, a);
    const Matrix reference = multiply(Op::transpose, Op::none, b, b);
    axpy(-1.0, reference, difference);
    return frobenius_norm(difference) / frobenius_norm(reference);
}

}  // namespace ssldyn
