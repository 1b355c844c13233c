#include "theory/reference_flow.hpp"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <utility>

#include "core/error.hpp"
#include "linalg/blas.hpp"

namespace ssldyn {

namespace {

// Dormand & Prince (1980), the RK5(4)7M pair: nodes, stages, 5th-order weights and the
// differences to the embedded 4th-order ones (the error estimate).
constexpr double c[7] = {0.0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1.0, 1.0};
constexpr double a[7][6] = {
    {},
    {1.0 / 5},
    {3.0 / 40, 9.0 / 40},
    {44.0 / 45, -56.0 / 15, 32.0 / 9},
    {19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729},
    {9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656},
    {35.0 / 384, 0.0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84},
};
constexpr double b[7] = {35.0 / 384,     0.0,       500.0 / 1113, 125.0 / 192,
                         -2187.0 / 6784, 11.0 / 84, 0.0};
constexpr double e[7] = {71.0 / 57600,      0.0,        -71.0 / 16695, 71.0 / 1920,
                         -17253.0 / 339200, 22.0 / 525, -1.0 / 40};

// y + h Σ w_i k_i over the stages given.
FlowState combine(const FlowState& y, double h, const double* w, const std::vector<FlowState>& k,
                  std::size_t stages) {
    FlowState out = y;
    for (std::size_t s = 0; s < stages; ++s)
        if (w[s] != 0.0)
            for (std::size_t m = 0; m < out.size(); ++m) axpy(h * w[s], k[s][m], out[m]);
    return out;
}

}  // namespace

ReferenceFlow::ReferenceFlow(Field field, Projection project, double tolerance, Largest largest)
    : field_(std::move(field)),
      project_(std::move(project)),
      tolerance_(tolerance),
      largest_(std::move(largest)) {
    if (!(tolerance > 0)) throw RuntimeFailure("reference flow: the tolerance must be > 0");
}

void ReferenceFlow::advance(FlowState& y, double t_from, double t_to) {
    double t = t_from;
    if (!(step_ > 0)) step_ = std::min(1e-3, std::max(t_to - t_from, 0.0));
    std::vector<FlowState> k(7);
    while (t < t_to) {
        const double h = std::min(step_, t_to - t);
        for (std::size_t s = 0; s < 7; ++s) k[s] = field_(s == 0 ? y : combine(y, h, a[s], k, s));
        FlowState next = combine(y, h, b, k, 7);
        FlowState zero;
        for (const Matrix& m : y) zero.emplace_back(m.rows(), m.cols());
        const FlowState error = combine(zero, h, e, k, 7);
        // Largest error per entry against tolerance·(1 + |θ|).
        double worst = 0.0;
        for (std::size_t m = 0; m < y.size(); ++m)
            for (Index j = 0; j < y[m].cols(); ++j)
                for (Index i = 0; i < y[m].rows(); ++i) {
                    const double scale_ij = tolerance_ * (1.0 + std::max(std::fabs(y[m](i, j)),
                                                                         std::fabs(next[m](i, j))));
                    worst = std::max(worst, std::fabs(error[m](i, j)) / scale_ij);
                }
        if (largest_) worst = largest_(worst);
        if (!std::isfinite(worst)) throw RuntimeFailure("reference flow: non-finite field");
        // The usual controller: the error scales as h⁵, a safety factor 0.9, growth at most 5x.
        const double factor = worst > 0 ? 0.9 * std::pow(worst, -0.2) : 5.0;
        if (worst <= 1.0) {
            project_(next);
            y = std::move(next);
            t += h;
            ++accepted_;
            step_ = h * std::min(5.0, std::max(0.2, factor));
        } else {
            ++rejected_;
            step_ = h * std::max(0.2, factor);
            if (step_ < 1e-14 * std::max(1.0, std::fabs(t)))
                throw RuntimeFailure("reference flow: step size underflow at t = " +
                                     std::to_string(t));
        }
    }
}

}  // namespace ssldyn
