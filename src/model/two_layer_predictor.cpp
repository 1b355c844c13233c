#include "model/two_layer_predictor.hpp"

#include "linalg/blas.hpp"

namespace ssldyn {

TwoLayerPredictorObjective::TwoLayerPredictorObjective(const Views& views,
                                                       const Nonlinearity& units,
                                                       Precision precision, bool target_gradient)
    : n_(views.n()),
      target_gradient_(target_gradient),
      online_(units, precision),
      target_(units, precision) {
    online_.use_data(views.positives());
    target_.use_data(views.anchors());
}

TwoLayerPredictorGradient TwoLayerPredictorObjective::evaluate(
    const TwoLayerPredictorState& s) const {
    const double inv_n = 1.0 / static_cast<double>(n_);
    // Samples as rows: F₁ = f(X₁)ᵀ, Rᵀ = F₁W_pᵀ − f_a(X₂)ᵀ, n x k.
    const Matrix& f1 = online_.forward(s.w, true);
    Matrix rt = target_.forward(s.target, true);
    gemm(Op::none, Op::transpose, 1.0, f1, s.predictor, -1.0, rt);
    TwoLayerPredictorGradient g;
    g.loss = 0.5 * inv_n * frobenius_inner(rt, rt);
    g.predictor = multiply(Op::transpose, Op::none, rt, f1);  // R F₁/n
    scale(inv_n, g.predictor);
    // HiddenLayer::backward takes A with ∂L/∂F = −A/n: ∂L/∂F₁ = RᵀW_p/n, ∂L/∂F₂ = −Rᵀ/n.
    Matrix a1 = multiply(rt, s.predictor);
    scale(-1.0, a1);
    TwoLayerGradient online;
    online_.backward(s.w, a1, n_, online);
    g.w = {std::move(online.w1), std::move(online.w2)};
    if (target_gradient_) {
        TwoLayerGradient target;
        target_.backward(s.target, rt, n_, target);
        g.target = {std::move(target.w1), std::move(target.w2)};
    }
    return g;
}

Matrix TwoLayerPredictorObjective::anchor_second_moment(const TwoLayerWeights& w) const {
    const Matrix& f = target_.forward(w, false);
    Matrix out = multiply(Op::transpose, Op::none, f, f);
    scale(1.0 / static_cast<double>(n_), out);
    return out;
}

}  // namespace ssldyn
