#include "theory/loss_flows.hpp"

#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "linalg/blas.hpp"
#include "linalg/lapack.hpp"

namespace ssldyn {

namespace {

// (1 − e^{−8λt})/(8λ) = e^{−8λt}∫₀ᵗ e^{8λs} ds, t at λ = 0.
double damped_integral(double lambda, double t) {
    return lambda == 0.0 ? t : -std::expm1(-8.0 * lambda * t) / (8.0 * lambda);
}

// e^{−a t}·(e^{8λt} − 1)/(8λ) without forming e^{8λt} alone.
double scaled_integral(double lambda, double a, double t) {
    if (lambda == 0.0) return t * std::exp(-a * t);
    const double x = 8.0 * lambda * t;
    if (x > 1.0) return std::exp(x - a * t) * -std::expm1(-x) / (8.0 * lambda);
    return std::expm1(x) / (8.0 * lambda) * std::exp(-a * t);
}

}  // namespace

SpectralContrastiveFlow::SpectralContrastiveFlow(std::vector<double> eigenvalues, const Matrix& b)
    : lambda_(std::move(eigenvalues)) {
    const Index k = b.rows(), d = b.cols();
    const Matrix b1 = copy_of(b.columns(0, k));
    const std::vector<double> s = singular_values(b1);
    if (s.empty() || s.back() <= 0.0)
        throw RuntimeFailure(
            "spectral contrastive flow: W0 is orthogonal to the top-k eigenspace of C");
    conditioning_ = s.front() / s.back();
    graph_ = solve(b1, b.columns(k, d - k));
    gram_inverse_ = solve(multiply(Op::transpose, Op::none, b1, b1), Matrix::identity(k));
}

FlowPoint SpectralContrastiveFlow::at(double t) const {
    const Index k = graph_.rows(), rest = graph_.cols();
    auto lambda = [&](Index i) { return lambda_[static_cast<std::size_t>(i)]; };
    Matrix z(k + rest, k);  // Z, d x k
    for (Index i = 0; i < k; ++i) z(i, i) = 1.0;
    for (Index j = 0; j < rest; ++j)
        for (Index i = 0; i < k; ++i)
            z(k + j, i) = graph_(i, j) * std::exp(4.0 * t * (lambda(k + j) - lambda(i)));
    Matrix h(k, k);
    for (Index l = 0; l < k; ++l)
        for (Index i = 0; i < k; ++i) {
            const double a = 4.0 * (lambda(i) + lambda(l));
            double sum = gram_inverse_(i, l) * std::exp(-a * t);
            if (i == l) sum += 8.0 * damped_integral(lambda(i), t);
            for (Index j = 0; j < rest; ++j)
                sum += 8.0 * graph_(i, j) * graph_(l, j) * scaled_integral(lambda(k + j), a, t);
            h(i, l) = sum;
        }
    // R = L⁻¹Zᵀ for H = LLᵀ (Cholesky): H is graded (entries from 1/λ to e^{8|λ|t} where λ < 0),
    // which Cholesky factors to relative accuracy and an eigendecomposition would not.
    Matrix l(k, k);
    for (Index j = 0; j < k; ++j) {
        double pivot = h(j, j);
        for (Index m = 0; m < j; ++m) pivot -= l(j, m) * l(j, m);
        if (!(pivot > 0))
            throw RuntimeFailure("spectral contrastive flow: M(t) lost positive definiteness");
        l(j, j) = std::sqrt(pivot);
        for (Index i = j + 1; i < k; ++i) {
            double sum = h(i, j);
            for (Index m = 0; m < j; ++m) sum -= l(i, m) * l(j, m);
            l(i, j) = sum / l(j, j);
        }
    }
    Matrix rows = transpose(z);  // k x d, then L⁻¹ by forward substitution
    for (Index c = 0; c < rows.cols(); ++c)
        for (Index i = 0; i < k; ++i) {
            double sum = rows(i, c);
            for (Index m = 0; m < i; ++m) sum -= l(i, m) * rows(m, c);
            rows(i, c) = sum / l(i, i);
        }
    return {std::move(rows), 0.0};
}

BarlowTwinsAlignedFlow::BarlowTwinsAlignedFlow(std::vector<double> eigenvalues,
                                               std::vector<double> s0)
    : lambda_(std::move(eigenvalues)) {
    for (double s : s0) u0_.push_back(s * s);
}

double BarlowTwinsAlignedFlow::u(Index i, double t) const {
    const double l = lambda_[static_cast<std::size_t>(i)], u0 = u0_[static_cast<std::size_t>(i)];
    // Divided by e^{8λt} where it grows, so that it never overflows.
    if (l > 0) return u0 / (std::exp(-8.0 * l * t) - l * u0 * std::expm1(-8.0 * l * t));
    return u0 * std::exp(8.0 * l * t) / (1.0 + l * u0 * std::expm1(8.0 * l * t));
}

FlowPoint BarlowTwinsAlignedFlow::at(double t) const {
    const Index k = static_cast<Index>(u0_.size()), d = static_cast<Index>(lambda_.size());
    Matrix rows(k, d);
    for (Index i = 0; i < k; ++i) rows(i, i) = std::sqrt(u(i, t));
    return {std::move(rows), 0.0};
}

double barlow_twins_rise_time(double lambda, double epsilon) {
    if (!(lambda > 0)) return std::numeric_limits<double>::quiet_NaN();
    return std::log(1.0 / (lambda * epsilon * epsilon)) / (8.0 * lambda);
}

double spectral_contrastive_rise_time(double lambda, double epsilon) {
    if (!(lambda > 0)) return std::numeric_limits<double>::quiet_NaN();
    return std::log(lambda / (epsilon * epsilon)) / (8.0 * lambda);
}

std::vector<double> predicted_rise_times(Loss loss, const std::vector<double>& eigenvalues,
                                         const Matrix& initial_top_coordinates) {
    const Index k = initial_top_coordinates.cols();
    std::vector<double> out(static_cast<std::size_t>(k), std::numeric_limits<double>::quiet_NaN());
    if (loss != Loss::spectral_contrastive && loss != Loss::barlow_twins) return out;
    if (!all_finite(initial_top_coordinates)) return out;
    // Mode i rises from the part of W₀vᵢ orthogonal to W₀v₁ … W₀v_{i−1} (THEORY §6.1–6.2).
    const std::vector<double> r = triangular_diagonal(initial_top_coordinates);
    for (std::size_t i = 0; i < out.size() && i < eigenvalues.size(); ++i)
        out[i] = loss == Loss::spectral_contrastive
                     ? spectral_contrastive_rise_time(eigenvalues[i], r[i])
                     : barlow_twins_rise_time(eigenvalues[i], r[i]);
    return out;
}

}  // namespace ssldyn
