// The table of activations (model/activation.cpp), row by row over activation_names so that a
// new row is checked as it is added: its affine part is σ(0) + σ′(0)u (relu: slope 1/2), and
// where σ′ is taken from σ (slope_from_value) the kernels' σ′ from σ equals the scalar σ′, in
// double and in float.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "model/activation.hpp"

using namespace ssldyn;

namespace {

// Points of both signs, near 0 and far out (softplus's σ′ is e^u to within u·e^u there).
Matrix points() {
    Matrix u(41, 3);
    for (Index j = 0; j < u.cols(); ++j)
        for (Index i = 0; i < u.rows(); ++i)
            u(i, j) = (static_cast<double>(i) - 20.0) * (j == 0 ? 0.01 : j == 1 ? 0.25 : 1.5);
    return u;
}

}  // namespace

// Exact: the rows' constants are what σ and σ′ give at 0.
TEST(Activations, AffinePartIsTheValueAndSlopeAtZero) {
    for (const auto& [activation, name] : activation_names) {
        const Linearisation affine = linearisation(activation);
        if (activation == Activation::relu) {  // no expansion at 0: the symmetric slope
            EXPECT_EQ(affine.offset, 0.0);
            EXPECT_EQ(affine.slope, 0.5);
            continue;
        }
        EXPECT_EQ(affine.offset, activate(activation, 0.0)) << name;
        EXPECT_EQ(affine.slope, activate_derivative(activation, 0.0)) << name;
    }
}

// σ′ from the kept σ against the scalar σ′ at the same points. σ′ ≤ 1 here; in double the vector
// tanh (4 ulp) and 1 − e^{−σ} (a few ulp) leave a few 1e-16 absolute (measured: 2e-16), 1e-15
// allowed; in float σ is rounded to 2^-24 relative and tanhf is within 4 ulp, so 1 − σ² and
// 1 − e^{−σ} are within a few 1e-7 absolute (measured: 1e-7), 1e-6 allowed. Where σ′ is kept, the
// kernels multiply by it exactly.
TEST(Activations, SlopeFromValueEqualsTheSlope) {
    const Matrix u = points();
    for (const auto& [activation, name] : activation_names) {
        const Nonlinearity units(activation);
        Matrix value = u, slope(u.rows(), u.cols()), b(u.rows(), u.cols());
        activate_in_place(units, value, slope);
        for (Index i = 0; i < b.size(); ++i) b.data()[i] = 1.0;
        multiply_by_slope(units, b, value, slope);

        FloatMatrix value32(u.rows(), u.cols()), slope32(u.rows(), u.cols()),
            b32(u.rows(), u.cols());
        for (Index i = 0; i < u.size(); ++i) {
            value32.data()[i] = static_cast<float>(u.data()[i]);
            b32.data()[i] = 1.0f;
        }
        activate_in_place(units, value32, slope32);
        multiply_by_slope(units, b32, value32, slope32);

        for (Index i = 0; i < u.size(); ++i) {
            const double x = u.data()[i];
            const double want = activate_derivative(activation, x);
            EXPECT_NEAR(b.data()[i], want, 1e-15) << name << " at " << x;
            EXPECT_NEAR(b32.data()[i], activate_derivative(activation, double(float(x))), 1e-6)
                << name << " at " << x;
            if (!slope_from_value(units)) {
                EXPECT_EQ(b.data()[i], slope.data()[i]) << name;
                EXPECT_EQ(b32.data()[i], slope32.data()[i]) << name;
            }
        }
    }
}

// The activations whose σ′ is a function of σ in closed form (tanh: 1 − σ², relu: [σ > 0],
// softplus: 1 − e^{−σ}, the identity: 1); erf and gelu keep σ′. Every affine part takes it from
// nothing at all.
TEST(Activations, WhichTakeTheSlopeFromTheValue) {
    for (const auto& [activation, name] : activation_names) {
        const bool expected = activation != Activation::erf && activation != Activation::gelu;
        EXPECT_EQ(slope_from_value(Nonlinearity(activation)), expected) << name;
        EXPECT_TRUE(slope_from_value(Nonlinearity(activation, true))) << name;
    }
}
