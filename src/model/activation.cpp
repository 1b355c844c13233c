#include "model/activation.hpp"

#include <array>
#include <cmath>
#include <string_view>
#include <type_traits>

#include "linalg/vector_widths.hpp"

// The vector variants of tanh: the tanh loops below take 2, 4 or 8 entries per call, several
// times faster than the scalar tanh, which dominated the two-layer step on Fashion-MNIST
// (bench/README-two-layer.md); their bits depend on the machine's vector width.
#if SSLDYN_LIBMVEC
extern "C" SSLDYN_VECTOR_VARIANT double tanh(double) noexcept;
extern "C" SSLDYN_VECTOR_VARIANT float tanhf(float) noexcept;
#endif

namespace ssldyn {

namespace {

constexpr double inv_sqrt2 = 0.70710678118654752440;
constexpr double inv_sqrt_2pi = 0.39894228040143267794;
constexpr double two_over_sqrt_pi = 1.12837916709551257390;

// The kernels of one activation on a contiguous span of double or float entries (the float32
// passes of back-propagation).
template <class T>
struct SpanKernels {
    // value <- σ(in) and, when slope is not null, slope <- σ′(in); any of the three may be the
    // same array, each entry being read before it is written.
    void (*activate)(const T* in, T* value, T* slope, Index count);
    // b <- b ∘ σ′ with σ′ computed from value = σ(u); null when σ′ is not a function of σ.
    void (*multiply_by_slope_of_value)(T* b, const T* value, Index count);
};

// One activation: σ and σ′ at a point, the span kernels, and the affine part σ(0) + σ′(0)u
// (THEORY §4.3).
struct ActivationRow {
    Activation value;
    std::string_view name;
    double (*sigma)(double);
    double (*slope)(double);  // σ′
    Linearisation affine;
    SpanKernels<double> kernels;
    SpanKernels<float> float_kernels;
};

// σ and σ′ of a span entry by entry through the scalar functions, in double: floats are converted
// (the float32 passes are there for tanh networks' speed, whose kernels are vectorised).
template <double (*sigma)(double), double (*slope)(double), class T>
void pointwise_span(const T* in, T* value, T* s, Index count) {
    for (Index i = 0; i < count; ++i) {
        const double x = in[i];
        if (s) s[i] = static_cast<T>(slope(x));
        value[i] = static_cast<T>(sigma(x));
    }
}

// b <- b ∘ σ′ with σ′ = slope_of_value(σ), in the type of the pass.
template <class SlopeOfValue, class T>
void multiply_by_slope_of(T* b, const T* value, Index count) {
    for (Index i = 0; i < count; ++i) b[i] *= SlopeOfValue{}(value[i]);
}

// σ′ = 1 (the identity) as a function of σ.
struct UnitSlope {
    template <class T>
    T operator()(T) const {
        return T(1);
    }
};

template <class T>
void multiply_by_unit_slope(T*, const T*, Index) {}

// The kernels of σ and σ′ entry by entry, and when σ′ is a function of σ, of SlopeOfValue (a
// class whose call operator is templated on the type; UnitSlope multiplies by nothing).
template <class T, double (*sigma)(double), double (*slope)(double), class SlopeOfValue = void>
constexpr SpanKernels<T> pointwise_kernels() {
    if constexpr (std::is_void_v<SlopeOfValue>)
        return {pointwise_span<sigma, slope, T>, nullptr};
    else if constexpr (std::is_same_v<SlopeOfValue, UnitSlope>)
        return {pointwise_span<sigma, slope, T>, multiply_by_unit_slope<T>};
    else
        return {pointwise_span<sigma, slope, T>, multiply_by_slope_of<SlopeOfValue, T>};
}

double identity_value(double u) {
    return u;
}
double identity_slope(double) {
    return 1.0;
}

// tanh′ = 1 − tanh².
struct TanhSlopeOfValue {
    template <class T>
    T operator()(T t) const {
        return T(1) - t * t;
    }
};
double tanh_value(double u) {
    return std::tanh(u);
}
double tanh_slope(double u) {
    return TanhSlopeOfValue{}(std::tanh(u));
}

double erf_value(double u) {
    return std::erf(u);
}
double erf_slope(double u) {
    return two_over_sqrt_pi * std::exp(-u * u);
}

double gelu_value(double u) {  // u Φ(u), the exact form
    return 0.5 * u * std::erfc(-u * inv_sqrt2);
}
double gelu_slope(double u) {  // Φ(u) + u φ(u)
    return 0.5 * std::erfc(-u * inv_sqrt2) + u * inv_sqrt_2pi * std::exp(-0.5 * u * u);
}

double softplus_value(double u) {  // log(1 + eᵘ) without overflow or cancellation
    return std::fmax(u, 0.0) + std::log1p(std::exp(-std::fabs(u)));
}
double softplus_slope(double u) {  // the logistic function, from the side that cannot overflow
    return u >= 0.0 ? 1.0 / (1.0 + std::exp(-u)) : std::exp(u) / (1.0 + std::exp(u));
}
// The logistic function of u from σ = softplus(u): 1 − e^{−σ}.
struct SoftplusSlopeOfValue {
    template <class T>
    T operator()(T s) const {
        return -std::expm1(-s);
    }
};

double relu_value(double u) {
    return u > 0.0 ? u : 0.0;
}
double relu_slope(double u) {  // 0 at u = 0
    return u > 0.0 ? 1.0 : 0.0;
}
// relu′(u) = [u > 0] = [relu(u) > 0].
struct ReluSlopeOfValue {
    template <class T>
    T operator()(T r) const {
        return r > T(0) ? T(1) : T(0);
    }
};

// value <- tanh(in) and, when slope is not null, slope <- 1 − value² (one tanh an entry, not
// two); any of the three may be the same array, each entry being read before it is written.
// (std::tanh of a float is tanhf.) Inlined into the loops below, compiled for each vector width.
template <class T>
[[gnu::always_inline]] inline void tanh_loop(const T* in, T* value, T* slope, Index count) {
    if (slope) {
#pragma omp simd
        for (Index i = 0; i < count; ++i) {
            const T t = std::tanh(in[i]);
            slope[i] = TanhSlopeOfValue{}(t);
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
    for (Index i = 0; i < count; ++i) b[i] *= TanhSlopeOfValue{}(t[i]);
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

// The table of activations, in the order of the enumeration. relu, which has no expansion at 0,
// takes its symmetric slope 1/2 (relu(u) = u/2 + |u|/2), so that its pair is not the zero map;
// the others' affine parts are σ(0) and σ′(0) as the functions above give them (softplus:
// log1p(1) = log 2, correctly rounded).
constexpr std::array<ActivationRow, 6> activation_rows{{
    {Activation::identity,
     "identity",
     identity_value,
     identity_slope,
     {0.0, 1.0},
     pointwise_kernels<double, identity_value, identity_slope, UnitSlope>(),
     pointwise_kernels<float, identity_value, identity_slope, UnitSlope>()},
    {Activation::tanh,
     "tanh",
     tanh_value,
     tanh_slope,
     {0.0, 1.0},
     {tanh_span, multiply_by_tanh_slope},
     {tanh_span, multiply_by_tanh_slope}},
    {Activation::erf,
     "erf",
     erf_value,
     erf_slope,
     {0.0, two_over_sqrt_pi},
     pointwise_kernels<double, erf_value, erf_slope>(),
     pointwise_kernels<float, erf_value, erf_slope>()},
    {Activation::gelu,
     "gelu",
     gelu_value,
     gelu_slope,
     {0.0, 0.5},
     pointwise_kernels<double, gelu_value, gelu_slope>(),
     pointwise_kernels<float, gelu_value, gelu_slope>()},
    {Activation::softplus,
     "softplus",
     softplus_value,
     softplus_slope,
     {0.69314718055994530942, 0.5},
     pointwise_kernels<double, softplus_value, softplus_slope, SoftplusSlopeOfValue>(),
     pointwise_kernels<float, softplus_value, softplus_slope, SoftplusSlopeOfValue>()},
    {Activation::relu,
     "relu",
     relu_value,
     relu_slope,
     {0.0, 0.5},
     pointwise_kernels<double, relu_value, relu_slope, ReluSlopeOfValue>(),
     pointwise_kernels<float, relu_value, relu_slope, ReluSlopeOfValue>()},
}};

static_assert(in_enumeration_order(activation_rows),
              "activation_rows: one row per value, in order");

const ActivationRow& row_of(Activation a) {
    return activation_rows[static_cast<std::size_t>(a)];
}

template <class T>
const SpanKernels<T>& kernels_of(Activation a) {
    if constexpr (std::is_same_v<T, float>)
        return row_of(a).float_kernels;
    else
        return row_of(a).kernels;
}

template <class T>
void affine_span(const Linearisation& affine, const T* in, T* value, T* slope, Index count) {
    const T offset = static_cast<T>(affine.offset), constant = static_cast<T>(affine.slope);
    for (Index i = 0; i < count; ++i) {
        value[i] = offset + constant * in[i];
        if (slope) slope[i] = constant;
    }
}

// σ (and σ′) of a contiguous span, as activate(units, u, out, derivative) describes.
template <class T>
void activate_span(const Nonlinearity& units, const T* in, T* value, T* slope, Index count) {
    if (units.linearised)
        affine_span(linearisation(units.activation), in, value, slope, count);
    else
        kernels_of<T>(units.activation).activate(in, value, slope, count);
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
    if (!slope_from_value(units)) {  // σ′ was kept
        for (Index j = 0; j < b.cols; ++j) {
            T* out = b.data + j * b.ld;
            const T* s = slope.data + j * slope.ld;
            for (Index i = 0; i < b.rows; ++i) out[i] *= s[i];
        }
        return;
    }
    if (units.linearised) {
        const T constant = static_cast<T>(linearisation(units.activation).slope);
        if (constant == T(1)) return;
        for (Index j = 0; j < b.cols; ++j) {
            T* out = b.data + j * b.ld;
            for (Index i = 0; i < b.rows; ++i) out[i] *= constant;
        }
        return;
    }
    const auto multiply = kernels_of<T>(units.activation).multiply_by_slope_of_value;
    for (Index j = 0; j < b.cols; ++j)
        multiply(b.data + j * b.ld, value.data + j * value.ld, b.rows);
}

void shape_like(const Matrix& u, Matrix& m) {
    if (m.rows() != u.rows() || m.cols() != u.cols()) m = Matrix(u.rows(), u.cols());
}

}  // namespace

constexpr NameTable<Activation, 6> activation_names = name_table(activation_rows);

double activate(Activation a, double u) {
    return row_of(a).sigma(u);
}

double activate_derivative(Activation a, double u) {
    return row_of(a).slope(u);
}

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
    // The two kernel sets are built alike: the double one says for both.
    return units.linearised ||
           row_of(units.activation).kernels.multiply_by_slope_of_value != nullptr;
}

void multiply_by_slope(const Nonlinearity& units, View b, ConstView value, ConstView slope) {
    multiply_columns_by_slope(units, b, value, slope);
}

void multiply_by_slope(const Nonlinearity& units, FloatView b, FloatConstView value,
                       FloatConstView slope) {
    multiply_columns_by_slope(units, b, value, slope);
}

Linearisation linearisation(Activation a) {
    return row_of(a).affine;
}

void activate(const Linearisation& affine, const Matrix& u, Matrix& out, Matrix* derivative) {
    shape_like(u, out);
    if (derivative) shape_like(u, *derivative);
    affine_span(affine, u.data(), out.data(), derivative ? derivative->data() : nullptr, u.size());
}

}  // namespace ssldyn
