#pragma once
// Small helpers shared by the unit tests: random symmetric matrices with a known spectrum
// and an independent classical RK4 integrator for the flows' ODEs.
#include <cmath>
#include <functional>
#include <vector>

#include "core/error.hpp"
#include "linalg/blas.hpp"
#include "linalg/lapack.hpp"
#include "random/stream.hpp"

namespace ssldyn::support {

// Q diag(values) Qᵀ with a Haar-random Q.
inline Matrix symmetric_with_spectrum(const std::vector<double>& values, std::uint64_t seed) {
    const auto d = static_cast<Index>(values.size());
    RandomStream stream(seed, 99);
    const Matrix q = orthonormal_factor(gaussian_matrix(stream, d, d));
    Matrix scaled = q;
    for (Index j = 0; j < d; ++j)
        for (Index i = 0; i < d; ++i) scaled(i, j) *= values[static_cast<std::size_t>(j)];
    Matrix c = multiply(Op::none, Op::transpose, scaled, q);
    for (Index j = 0; j < d; ++j)  // exact symmetry
        for (Index i = 0; i < j; ++i) c(i, j) = c(j, i) = 0.5 * (c(i, j) + c(j, i));
    return c;
}

// Classical RK4 with a fixed step, written out independently of the library's dynamics.
inline Matrix rk4(const std::function<Matrix(const Matrix&)>& f, Matrix y, double t, int steps) {
    const double h = t / steps;
    for (int s = 0; s < steps; ++s) {
        const Matrix k1 = f(y);
        Matrix y2 = y;
        axpy(h / 2, k1, y2);
        const Matrix k2 = f(y2);
        Matrix y3 = y;
        axpy(h / 2, k2, y3);
        const Matrix k3 = f(y3);
        Matrix y4 = y;
        axpy(h, k3, y4);
        const Matrix k4 = f(y4);
        axpy(h / 6, k1, y);
        axpy(h / 3, k2, y);
        axpy(h / 3, k3, y);
        axpy(h / 6, k4, y);
    }
    return y;
}

// ‖a − b‖_F / ‖b‖_F, infinite for matrices of different shapes.
inline double relative_difference(const Matrix& a, const Matrix& b) {
    if (a.rows() != b.rows() || a.cols() != b.cols()) return INFINITY;
    Matrix d = a;
    axpy(-1.0, b, d);
    return frobenius_norm(d) / frobenius_norm(b);
}

}  // namespace ssldyn::support
