#include "theory/linear_limit.hpp"

#include <cmath>

#include "core/error.hpp"
#include "linalg/blas.hpp"
#include "theory/ntk.hpp"

namespace ssldyn {

namespace {

// Student's t, 97.5 % quantile, for 1..30 degrees of freedom; the normal one beyond.
double t_quantile_975(Index dof) {
    static constexpr double table[30] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306,
                                         2.262,  2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120,
                                         2.110,  2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
                                         2.060,  2.056, 2.052, 2.048, 2.045, 2.042};
    return dof <= 30 ? table[dof - 1] : 1.960;
}

}  // namespace

Matrix linearised_outputs(const TwoLayerWeights& w, Activation activation, ConstView probes) {
    Matrix pre = multiply(Op::none, Op::none, w.w1, probes);  // u = W₁x
    Matrix hidden;
    activate(linearisation(activation), pre, hidden);
    return multiply(w.w2, hidden);
}

double linear_limit_deviation(const TwoLayerWeights& w, Activation activation, ConstView probes) {
    const Matrix linear = linearised_outputs(w, activation, probes);
    return relative_change(two_layer_outputs(w, activation, probes), linear);
}

PowerLaw fit_power_law(const std::vector<double>& x, const std::vector<double>& y) {
    const auto m = static_cast<Index>(x.size());
    if (m < 3 || y.size() != x.size())
        throw InputError("power-law fit: needs at least 3 points, as many x as y");
    double mx = 0.0, my = 0.0;
    for (Index i = 0; i < m; ++i) {
        if (!(x[static_cast<std::size_t>(i)] > 0) || !(y[static_cast<std::size_t>(i)] > 0))
            throw InputError("power-law fit: values must be positive");
        mx += std::log(x[static_cast<std::size_t>(i)]);
        my += std::log(y[static_cast<std::size_t>(i)]);
    }
    mx /= static_cast<double>(m);
    my /= static_cast<double>(m);
    double sxx = 0.0, sxy = 0.0;
    for (Index i = 0; i < m; ++i) {
        const double dx = std::log(x[static_cast<std::size_t>(i)]) - mx;
        sxx += dx * dx;
        sxy += dx * (std::log(y[static_cast<std::size_t>(i)]) - my);
    }
    if (!(sxx > 0)) throw InputError("power-law fit: x must take two values at least");
    PowerLaw fit;
    fit.exponent = sxy / sxx;
    fit.prefactor = std::exp(my - fit.exponent * mx);
    double residuals = 0.0;
    for (Index i = 0; i < m; ++i) {
        const double r = std::log(y[static_cast<std::size_t>(i)]) - my -
                         fit.exponent * (std::log(x[static_cast<std::size_t>(i)]) - mx);
        residuals += r * r;
    }
    const double half_width =
        t_quantile_975(m - 2) * std::sqrt(residuals / static_cast<double>(m - 2) / sxx);
    fit.lower = fit.exponent - half_width;
    fit.upper = fit.exponent + half_width;
    return fit;
}

}  // namespace ssldyn
