#include "model/activation.hpp"

#include <algorithm>
#include <cmath>

// glibc 2.35 and later ship vector variants of tanh (libmvec, within 4 ulp): declaring them lets
// the tanh loop below take two entries per call, about three times faster than the scalar tanh,
// which dominated the two-layer step on Fashion-MNIST (bench/README-two-layer.md).
#if defined(__x86_64__) && defined(__GLIBC__) && !defined(__clang__) && \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35))
extern "C" __attribute__((simd("notinbranch"))) double tanh(double) noexcept;
#endif

namespace ssldyn {

namespace {

constexpr double inv_sqrt2 = 0.70710678118654752440;
constexpr double inv_sqrt_2pi = 0.39894228040143267794;
constexpr double two_over_sqrt_pi = 1.12837916709551257390;

}  // namespace

double activate(Activation a, double u) {
    switch (a) {
        case Activation::identity:
            return u;
        case Activation::tanh:
            return std::tanh(u);
        case Activation::erf:
            return std::erf(u);
        case Activation::gelu:  // u Φ(u), the exact form
            return 0.5 * u * std::erfc(-u * inv_sqrt2);
        case Activation::softplus:  // log(1 + eᵘ) without overflow or cancellation
            return std::fmax(u, 0.0) + std::log1p(std::exp(-std::fabs(u)));
        case Activation::relu:
            return u > 0.0 ? u : 0.0;
    }
    return u;
}

double activate_derivative(Activation a, double u) {
    switch (a) {
        case Activation::identity:
            return 1.0;
        case Activation::tanh: {
            const double t = std::tanh(u);
            return 1.0 - t * t;
        }
        case Activation::erf:
            return two_over_sqrt_pi * std::exp(-u * u);
        case Activation::gelu:  // Φ(u) + u φ(u)
            return 0.5 * std::erfc(-u * inv_sqrt2) + u * inv_sqrt_2pi * std::exp(-0.5 * u * u);
        case Activation::softplus:  // the logistic function, from the side that cannot overflow
            return u >= 0.0 ? 1.0 / (1.0 + std::exp(-u)) : std::exp(u) / (1.0 + std::exp(u));
        case Activation::relu:
            return u > 0.0 ? 1.0 : 0.0;
    }
    return 1.0;
}

void activate(Activation a, const Matrix& u, Matrix& out, Matrix* derivative) {
    if (out.rows() != u.rows() || out.cols() != u.cols()) out = Matrix(u.rows(), u.cols());
    if (derivative && (derivative->rows() != u.rows() || derivative->cols() != u.cols()))
        *derivative = Matrix(u.rows(), u.cols());
    const Index size = u.size();
    const double* in = u.data();
    double* value = out.data();
    double* slope = derivative ? derivative->data() : nullptr;
    if (a == Activation::tanh) {
        // σ′ from σ: one tanh an entry instead of two. The vector tanh may differ from the scalar
        // one of activate(a, u) in the last bits; each is deterministic for a given shape.
        if (slope) {
#pragma omp simd
            for (Index i = 0; i < size; ++i) {
                const double t = std::tanh(in[i]);
                slope[i] = 1.0 - t * t;
                value[i] = t;
            }
        } else {
#pragma omp simd
            for (Index i = 0; i < size; ++i) value[i] = std::tanh(in[i]);
        }
        return;
    }
    for (Index i = 0; i < size; ++i) {
        const double x = in[i];
        if (slope) slope[i] = activate_derivative(a, x);
        value[i] = activate(a, x);
    }
}

void activate(const Nonlinearity& units, const Matrix& u, Matrix& out, Matrix* derivative) {
    if (units.linearised)
        activate(linearisation(units.activation), u, out, derivative);
    else
        activate(units.activation, u, out, derivative);
}

Linearisation linearisation(Activation a) {
    if (a == Activation::relu) return {0.0, 0.5};
    return {activate(a, 0.0), activate_derivative(a, 0.0)};
}

void activate(const Linearisation& affine, const Matrix& u, Matrix& out, Matrix* derivative) {
    if (out.rows() != u.rows() || out.cols() != u.cols()) out = Matrix(u.rows(), u.cols());
    const double* in = u.data();
    double* value = out.data();
    for (Index i = 0; i < u.size(); ++i) value[i] = affine.offset + affine.slope * in[i];
    if (!derivative) return;
    // After the values: derivative may be u itself.
    if (derivative->rows() != u.rows() || derivative->cols() != u.cols())
        *derivative = Matrix(u.rows(), u.cols());
    std::fill(derivative->data(), derivative->data() + derivative->size(), affine.slope);
}

}  // namespace ssldyn
