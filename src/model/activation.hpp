#pragma once
// The activations σ of the two-layer model f(x) = W₂σ(W₁x) (THEORY §2), elementwise, with
// their derivatives for back-propagation and the Taylor data at 0 that decide the linear limit
// (THEORY §4.3: σ″(0) ≠ 0 for gelu and softplus, odd for tanh and erf, none for relu).
#include "core/names.hpp"
#include "linalg/matrix.hpp"

namespace ssldyn {

enum class Activation { identity, tanh, erf, gelu, softplus, relu };

// The names of the activation table (model/activation.cpp), whose rows hold each σ with σ′, its
// kernels, whether σ′ is a function of σ, and its affine part at 0: adding an activation is
// adding a row there (the count here is checked against it).
extern const NameTable<Activation, 6> activation_names;

double activate(Activation a, double u);
double activate_derivative(Activation a, double u);  // relu: 0 at u = 0

// out <- σ(u) and, when derivative is not null, *derivative <- σ′(u), entry by entry (resized
// to u's shape). out or derivative may be u itself: each entry is read before it is written.
void activate(Activation a, const Matrix& u, Matrix& out, Matrix* derivative = nullptr);

// The affine part σ(0) + σ′(0)u of σ at 0: the activation of the linear model a network is
// paired with (THEORY §4.3). relu, which has no expansion at 0, takes its symmetric slope 1/2
// (relu(u) = u/2 + |u|/2), so that its pair is not the zero map.
struct Linearisation {
    double offset = 0.0, slope = 1.0;
};
Linearisation linearisation(Activation a);

// out <- offset + slope·u and *derivative <- slope, as activate does for σ.
void activate(const Linearisation& affine, const Matrix& u, Matrix& out,
              Matrix* derivative = nullptr);

// What hidden units apply: σ, or (linearised) its affine part at 0.
struct Nonlinearity {
    Activation activation = Activation::identity;
    bool linearised = false;
    Nonlinearity(Activation a, bool affine = false) : activation(a), linearised(affine) {}
};
void activate(const Nonlinearity& units, const Matrix& u, Matrix& out,
              Matrix* derivative = nullptr);

// The kernels of back-propagation (model/two_layer.cpp), on blocks of the (samples) x (units)
// activity, in double or float (the float32 passes). In place: u <- σ(u), and slope <- σ′(u)
// when slope.data is not null.
void activate_in_place(const Nonlinearity& units, View u, View slope);
void activate_in_place(const Nonlinearity& units, FloatView u, FloatView slope);

// Whether σ′ is a function of σ, as the activation's row says (tanh: 1 − σ², relu: [σ > 0],
// softplus: 1 − e^{−σ}, the identity: 1; not erf or gelu), or units are an affine part.
// Back-propagation then takes σ′ from the kept σ(U), and σ′(U) need not be kept: one
// (samples) x (units) matrix less.
bool slope_from_value(const Nonlinearity& units);

// b <- b ∘ σ′(U) entry by entry: σ′ from value = σ(U) when slope_from_value(units), else from
// slope = σ′(U).
void multiply_by_slope(const Nonlinearity& units, View b, ConstView value, ConstView slope);
void multiply_by_slope(const Nonlinearity& units, FloatView b, FloatConstView value,
                       FloatConstView slope);

}  // namespace ssldyn
