#include "theory/closed_form.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "linalg/blas.hpp"

namespace ssldyn {

std::vector<double> penalty_optimum_singular_values(const std::vector<double>& eigenvalues, Index k,
                                                    double mu) {
    if (!(mu > 0)) throw RuntimeFailure("penalty optimum: the penalty must be > 0");
    if (k > static_cast<Index>(eigenvalues.size()))
        throw RuntimeFailure("penalty optimum: k exceeds the number of eigenvalues");
    std::vector<double> s;
    for (Index i = 0; i < k; ++i)
        s.push_back(
            std::sqrt(std::max(0.0, 1.0 + eigenvalues[static_cast<std::size_t>(i)] / (2.0 * mu))));
    return s;
}

Matrix eigen_coordinates(const Matrix& w, const SymmetricEigen& eigen) {
    return multiply(w, eigen.vectors);
}

ClosedFormFlow::ClosedFormFlow(const SymmetricEigen& eigen, const Matrix& w0, Dynamics dynamics,
                               double weight_decay)
    : ClosedFormFlow(eigen.values, eigen_coordinates(w0, eigen), dynamics, weight_decay) {}

ClosedFormFlow::ClosedFormFlow(std::vector<double> eigenvalues, Matrix w0_coordinates,
                               Dynamics dynamics, double weight_decay)
    : lambda_(std::move(eigenvalues)),
      b_(std::move(w0_coordinates)),
      dynamics_(grassmann_reference(dynamics) ? Dynamics::orthogonal : dynamics),
      weight_decay_(weight_decay) {
    if (dynamics_ != Dynamics::orthogonal) return;
    // Y(t) = B e^{2Λt} spans the same rows as B₁⁻¹ Y(t) e^{-2Λ₁t} = [I | e^{-2Λ₁t} M e^{2Λ₂t}],
    // M = B₁⁻¹B₂, whose entries M_ij e^{2t(λ_{k+j} − λ_i)} only decay: no overflow for any t.
    const Index k = b_.rows(), d = b_.cols();
    const Matrix b1 = copy_of(b_.columns(0, k));
    const std::vector<double> s = singular_values(b1);
    if (s.empty() || s.back() <= 0.0)
        throw RuntimeFailure("closed-form flow: W0 is orthogonal to the top-k eigenspace of C");
    conditioning_ = s.front() / s.back();
    graph_ = solve(b1, b_.columns(k, d - k));
}

FlowPoint ClosedFormFlow::at(double t) const {
    const Index k = b_.rows(), d = b_.cols();
    if (dynamics_ == Dynamics::orthogonal) {
        Matrix basis(d, k);  // columns span the row space of W(t) V
        for (Index i = 0; i < k; ++i) basis(i, i) = 1.0;
        for (Index j = 0; j < d - k; ++j) {
            const double lj = lambda_[static_cast<std::size_t>(k + j)];
            for (Index i = 0; i < k; ++i)
                basis(k + j, i) =
                    graph_(i, j) * std::exp(2.0 * t * (lj - lambda_[static_cast<std::size_t>(i)]));
        }
        return {transpose(orthonormal_factor(basis)), 0.0};
    }
    // W(t) V = B e^{2t(Λ − λI)} = e^{2t(λ₁ − λ)} · B e^{2t(Λ − λ₁I)}: every factor ≤ 1.
    const double top = lambda_.front();
    Matrix rows = b_;
    for (Index j = 0; j < d; ++j) {
        const double factor = std::exp(2.0 * t * (lambda_[static_cast<std::size_t>(j)] - top));
        for (Index i = 0; i < k; ++i) rows(i, j) *= factor;
    }
    if (dynamics_ == Dynamics::sphere) {
        scale(1.0 / frobenius_norm(rows), rows);
        return {std::move(rows), 0.0};
    }
    return {std::move(rows), 2.0 * t * (top - weight_decay_)};
}

}  // namespace ssldyn
