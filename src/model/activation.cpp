#include "model/activation.hpp"

#include <cmath>
#include <string>

#include "core/error.hpp"

// glibc 2.35 and later ship vector variants of tanh (libmvec, within 4 ulp): declaring them lets
// the tanh loops below take 2, 4 or 8 entries per call, several times faster than the scalar
// tanh, which dominated the two-layer step on Fashion-MNIST (bench/README-two-layer.md). The
// loops are compiled for AVX-512 and AVX2 as well as the baseline and picked at load time, so
// the wide variants are used where the machine has them (the bits of tanh then depend on the
// machine's vector width, as those of the BLAS kernels do).
#if defined(__x86_64__) && defined(__GLIBC__) && !defined(__clang__) && \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35))
extern "C" __attribute__((simd("notinbranch"))) double tanh(double) noexcept;
extern "C" __attribute__((simd("notinbranch"))) float tanhf(float) noexcept;
#define SSLDYN_VECTOR_WIDTHS __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define SSLDYN_VECTOR_WIDTHS
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

namespace {

// value <- tanh(in) and, when slope is not null, slope <- 1 − value² (one tanh an entry, not
// two); any of the three may be the same array, each entry being read before it is written.
// (std::tanh of a float is tanhf.) Inlined into the loops below, compiled for each vector width.
template <class T>
[[gnu::always_inline]] inline void tanh_loop(const T* in, T* value, T* slope, Index count) {
    if (slope) {
#pragma omp simd
        for (Index i = 0; i < count; ++i) {
            const T t = std::tanh(in[i]);
            slope[i] = T(1) - t * t;
            value[i] = t;
        }
    } else {
#pragma omp simd
        for (Index i = 0; i < count; ++i) value[i] = std::tanh(in[i]);
    }
}

// b <- b ∘ (1 − t²): tanh′ from tanh.
template <class T>
[[gnu::always_inline]] inline void tanh_slope_loop(T* b, const T* t, Index count) {
#pragma omp simd
    for (Index i = 0; i < count; ++i) b[i] *= T(1) - t[i] * t[i];
}

SSLDYN_VECTOR_WIDTHS void tanh_span(const double* in, double* value, double* slope, Index count) {
    tanh_loop(in, value, slope, count);
}
SSLDYN_VECTOR_WIDTHS void tanh_span(const float* in, float* value, float* slope, Index count) {
    tanh_loop(in, value, slope, count);
}
SSLDYN_VECTOR_WIDTHS void multiply_by_tanh_slope(double* b, const double* t, Index count) {
    tanh_slope_loop(b, t, count);
}
SSLDYN_VECTOR_WIDTHS void multiply_by_tanh_slope(float* b, const float* t, Index count) {
    tanh_slope_loop(b, t, count);
}

template <class T>
void affine_span(const Linearisation& affine, const T* in, T* value, T* slope, Index count) {
    const T offset = static_cast<T>(affine.offset), constant = static_cast<T>(affine.slope);
    for (Index i = 0; i < count; ++i) {
        value[i] = offset + constant * in[i];
        if (slope) slope[i] = constant;
    }
}

// σ (and σ′) of a contiguous span, as activate(units, u, out, derivative) describes. Floats go
// through the double σ but for tanh: the float32 passes are there for tanh networks' speed.
template <class T>
void activate_span(const Nonlinearity& units, const T* in, T* value, T* slope, Index count) {
    if (units.linearised) {
        affine_span(linearisation(units.activation), in, value, slope, count);
    } else if (units.activation == Activation::tanh) {
        tanh_span(in, value, slope, count);
    } else {
        for (Index i = 0; i < count; ++i) {
            const double x = in[i];
            if (slope) slope[i] = static_cast<T>(activate_derivative(units.activation, x));
            value[i] = static_cast<T>(activate(units.activation, x));
        }
    }
}

template <class T>
void activate_columns(const Nonlinearity& units, BasicView<T> u, BasicView<T> slope) {
    for (Index j = 0; j < u.cols; ++j)
        activate_span(units, u.data + j * u.ld, u.data + j * u.ld,
                      slope.data ? slope.data + j * slope.ld : nullptr, u.rows);
}

template <class T>
void multiply_columns_by_slope(const Nonlinearity& units, BasicView<T> b, BasicConstView<T> value,
                               BasicConstView<T> slope) {
    if (!slope_from_value(units)) {  // erf, gelu: σ′ was kept
        for (Index j = 0; j < b.cols; ++j) {
            T* out = b.data + j * b.ld;
            const T* s = slope.data + j * slope.ld;
            for (Index i = 0; i < b.rows; ++i) out[i] *= s[i];
        }
        return;
    }
    const Activation a = units.activation;
    const bool affine = units.linearised || a == Activation::identity;
    const T constant = static_cast<T>(units.linearised ? linearisation(a).slope : 1.0);
    if (affine && constant == T(1)) return;
    if (!affine && a != Activation::tanh && a != Activation::relu && a != Activation::softplus)
        throw RuntimeFailure("multiply_by_slope: no σ′ from σ for " +
                             std::string(name_of(activation_names, a)));
    for (Index j = 0; j < b.cols; ++j) {
        T* out = b.data + j * b.ld;
        const T* t = value.data + j * value.ld;
        if (affine) {
            for (Index i = 0; i < b.rows; ++i) out[i] *= constant;
        } else if (a == Activation::tanh) {
            multiply_by_tanh_slope(out, t, b.rows);
        } else if (a == Activation::relu) {  // relu′(u) = [u > 0] = [relu(u) > 0]
            for (Index i = 0; i < b.rows; ++i) out[i] *= t[i] > T(0) ? T(1) : T(0);
        } else {  // softplus: the logistic function, 1 − e^{−σ}
            for (Index i = 0; i < b.rows; ++i) out[i] *= -std::expm1(-t[i]);
        }
    }
}

void shape_like(const Matrix& u, Matrix& m) {
    if (m.rows() != u.rows() || m.cols() != u.cols()) m = Matrix(u.rows(), u.cols());
}

}  // namespace

void activate(Activation a, const Matrix& u, Matrix& out, Matrix* derivative) {
    activate(Nonlinearity(a), u, out, derivative);
}

void activate(const Nonlinearity& units, const Matrix& u, Matrix& out, Matrix* derivative) {
    shape_like(u, out);  // out or *derivative may be u, which has its shape already
    if (derivative) shape_like(u, *derivative);
    activate_span(units, u.data(), out.data(), derivative ? derivative->data() : nullptr, u.size());
}

void activate_in_place(const Nonlinearity& units, View u, View slope) {
    activate_columns(units, u, slope);
}

void activate_in_place(const Nonlinearity& units, FloatView u, FloatView slope) {
    activate_columns(units, u, slope);
}

bool slope_from_value(const Nonlinearity& units) {
    return units.linearised ||
           (units.activation != Activation::erf && units.activation != Activation::gelu);
}

void multiply_by_slope(const Nonlinearity& units, View b, ConstView value, ConstView slope) {
    multiply_columns_by_slope(units, b, value, slope);
}

void multiply_by_slope(const Nonlinearity& units, FloatView b, FloatConstView value,
                       FloatConstView slope) {
    multiply_columns_by_slope(units, b, value, slope);
}

Linearisation linearisation(Activation a) {
    if (a == Activation::relu) return {0.0, 0.5};
    return {activate(a, 0.0), activate_derivative(a, 0.0)};
}

void activate(const Linearisation& affine, const Matrix& u, Matrix& out, Matrix* derivative) {
    shape_like(u, out);
    if (derivative) shape_like(u, *derivative);
    affine_span(affine, u.data(), out.data(), derivative ? derivative->data() : nullptr, u.size());
}

}  // namespace ssldyn
