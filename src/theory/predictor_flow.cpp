#include "theory/predictor_flow.hpp"

#include <utility>

namespace ssldyn {

namespace {

Matrix column_of(const std::vector<double>& v) {
    Matrix out(static_cast<Index>(v.size()), 1);
    for (std::size_t i = 0; i < v.size(); ++i) out(static_cast<Index>(i), 0) = v[i];
    return out;
}

std::vector<double> values_of(const Matrix& column) {
    return std::vector<double>(column.data(), column.data() + column.rows());
}

}  // namespace

PredictorFlow::PredictorFlow(ViewMoments moments, const PredictorRule& rule,
                             const PredictorState& start, double tolerance)
    : moments_(std::move(moments)),
      flow_([this](const PredictorState& s) { return moment_gradient(moments_, s); }, rule, start,
            tolerance) {}

Modes mode_velocity(const PredictorRule& rule, const std::vector<ModeMoments>& moments,
                    const Modes& m) {
    const double decay = 2.0 * rule.weight_decay;
    const bool learned = rule.predictor == Predictor::linear;
    Modes v{m.p, m.w, m.a};
    for (std::size_t j = 0; j < moments.size(); ++j) {
        const auto [m11, m21, m22] = moments[j];
        const double p = m.p[j], w = m.w[j], a = rule.tied_target ? w : m.a[j];
        const double e = a * m21 - p * w * m11;  // the mode of −W_pW S₁₁ + W_a S₂₁
        v.p[j] = learned ? rule.predictor_rate * w * e - decay * p : 0.0;
        v.w[j] = p * e - decay * w;
        // Without the stop-gradient −∂L/∂(target) = p w m21 − a m22 reaches W too.
        if (!rule.stop_gradient) v.w[j] += p * w * m21 - a * m22;
        v.a[j] = rule.tied_target ? v.w[j] : rule.target_rate * (w - a);
    }
    return v;
}

Modes integrate_modes(const PredictorRule& rule, const std::vector<ModeMoments>& moments,
                      const Modes& m0, double t, double tolerance) {
    ReferenceFlow flow(
        [&](const FlowState& y) {
            const Modes v =
                mode_velocity(rule, moments, {values_of(y[0]), values_of(y[1]), values_of(y[2])});
            return FlowState{column_of(v.p), column_of(v.w), column_of(v.a)};
        },
        [](FlowState&) {}, tolerance);
    FlowState y{column_of(m0.p), column_of(m0.w), column_of(m0.a)};
    flow.advance(y, 0.0, t);
    return {values_of(y[0]), values_of(y[1]), values_of(y[2])};
}

}  // namespace ssldyn
