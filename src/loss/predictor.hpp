#pragma once
// The non-contrastive losses with a predictor, BYOL and SimSiam (THEORY §6.3): online weights W
// (k x d), predictor W_p (k x k) and target W_a (k x d; SimSiam's is W itself), the loss
// L = ½ (1/n) Σᵢ ‖W_p W x₁ᵢ − sg(W_a x₂ᵢ)‖² with x₁ the augmented view X⁺ and x₂ the anchor X,
// and the velocity dθ/dt of the three matrices that gradient descent takes in steps of η and the
// reference flow integrates. The gradient comes through the data (O(k d n)) or through the
// views' second moments (O(k d²)); both give the same numbers up to round-off.
#include <vector>

#include "core/names.hpp"
#include "data/views.hpp"
#include "linalg/blas.hpp"
#include "linalg/matrix.hpp"

namespace ssldyn {

// predictor = linear: W_p learned at rate α_p; identity: W_p = I, fixed.
enum class Predictor { linear, identity };
inline constexpr NameTable<Predictor, 2> predictor_names{{
    {Predictor::linear, "linear"},
    {Predictor::identity, "identity"},
}};

// The matrices an encoder is made of, in a fixed order: W for the linear model; the two-layer
// model (model/two_layer_predictor.hpp) gives (W₁, W₂). Everything below that does not look
// into the encoder (the velocity, the step, distances) goes over these.
inline std::vector<const Matrix*> layers(const Matrix& w) {
    return {&w};
}
inline std::vector<Matrix*> layers(Matrix& w) {
    return {&w};
}

// y ← a·x + y and x ← a·x, layer by layer.
template <class Encoder>
void axpy_layers(double a, const Encoder& x, Encoder& y) {
    const std::vector<const Matrix*> from = layers(x);
    const std::vector<Matrix*> to = layers(y);
    for (std::size_t i = 0; i < to.size(); ++i) axpy(a, *from[i], *to[i]);
}
template <class Encoder>
void scale_layers(double a, Encoder& x) {
    for (Matrix* m : layers(x)) scale(a, *m);
}

// The matrices of a run: the online encoder, the predictor and the target encoder (the online
// one again for a tied, SimSiam, target).
template <class Encoder>
struct PredictorStateOf {
    Encoder w;
    Matrix predictor;
    Encoder target;
};
using PredictorState = PredictorStateOf<Matrix>;

// A state's matrices in one list: the online layers, W_p, the target layers.
template <class Encoder>
std::vector<const Matrix*> matrices(const PredictorStateOf<Encoder>& s) {
    std::vector<const Matrix*> out = layers(s.w);
    out.push_back(&s.predictor);
    for (const Matrix* m : layers(s.target)) out.push_back(m);
    return out;
}
template <class Encoder>
std::vector<Matrix*> matrices(PredictorStateOf<Encoder>& s) {
    std::vector<Matrix*> out = layers(s.w);
    out.push_back(&s.predictor);
    for (Matrix* m : layers(s.target)) out.push_back(m);
    return out;
}

// How the three matrices move (THEORY §6.3).
struct PredictorRule {
    bool tied_target = false;  // SimSiam: W_a = W; BYOL: W_a the moving average of W
    Predictor predictor = Predictor::linear;
    bool stop_gradient = true;
    double predictor_rate = 1.0;  // α_p
    double target_rate = 1.0;     // β, BYOL only
    double weight_decay = 0.0;    // λ of λ‖W‖² (and of W_p): −2λ in the velocity
};

// ∂L/∂W through the online branch, ∂L/∂W_p, and ∂L/∂(target) through the target branch (what the
// stop-gradient removes).
template <class Encoder>
struct PredictorGradientOf {
    double loss = 0.0;
    Encoder w;
    Matrix predictor;
    Encoder target;
};
using PredictorGradient = PredictorGradientOf<Matrix>;

// The second moments of the two views, S₁₁ = X₁X₁ᵀ/n, S₂₁ = X₂X₁ᵀ/n, S₂₂ = X₂X₂ᵀ/n (d x d):
// the paper's X + X', X and X for data whose two views share the anchors (THEORY §6.3).
struct ViewMoments {
    Matrix s11, s21, s22;
    static ViewMoments of(const Views& views);
};

// L and its gradients through the data: R = W_p W X₁ − W_a X₂, L = ½‖R‖²/n.
PredictorGradient data_gradient(const Views& views, const PredictorState& s);
// The same through the moments.
PredictorGradient moment_gradient(const ViewMoments& m, const PredictorState& s);

// dθ/dt from the gradients at θ (the same formula for GD's step and the flow's field), each
// layer of the encoders alike.
template <class Encoder>
PredictorStateOf<Encoder> velocity(const PredictorRule& rule, const PredictorStateOf<Encoder>& s,
                                   const PredictorGradientOf<Encoder>& g) {
    const double decay = 2.0 * rule.weight_decay;  // ∇(λ‖W‖²) = 2λW
    PredictorStateOf<Encoder> v;
    v.w = g.w;
    // Without the stop-gradient the target branch's gradient reaches the online weights the
    // target is made of (THEORY §6.3).
    if (!rule.stop_gradient) axpy_layers(1.0, g.target, v.w);
    scale_layers(-1.0, v.w);
    axpy_layers(-decay, s.w, v.w);
    v.predictor = Matrix(s.predictor.rows(), s.predictor.cols());
    if (rule.predictor == Predictor::linear) {
        axpy(-rule.predictor_rate, g.predictor, v.predictor);
        axpy(-decay, s.predictor, v.predictor);
    }
    if (rule.tied_target) {
        v.target = v.w;
    } else {
        v.target = s.w;  // β(W − W_a)
        axpy_layers(-1.0, s.target, v.target);
        scale_layers(rule.target_rate, v.target);
    }
    return v;
}

// θ ← θ + η·velocity, the target kept tied for SimSiam.
template <class Encoder>
void predictor_step(const PredictorRule& rule, double eta, const PredictorGradientOf<Encoder>& g,
                    PredictorStateOf<Encoder>& s) {
    const PredictorStateOf<Encoder> v = velocity(rule, s, g);
    axpy_layers(eta, v.w, s.w);
    axpy(eta, v.predictor, s.predictor);
    if (rule.tied_target)
        s.target = s.w;
    else
        axpy_layers(eta, v.target, s.target);
}

// The off-diagonal mass of W_p in the eigenbasis Q of F, the second moment of the online
// representations of the anchors: ‖offdiag(QᵀW_pQ)‖_F/‖W_p‖_F (0 when W_p is a polynomial in F;
// THEORY §6.3).
double predictor_offdiagonal(const Matrix& predictor, const Matrix& f);
// The same for the linear model, F = W S₂₂ Wᵀ.
double predictor_offdiagonal(const PredictorState& s, const ViewMoments& m);

}  // namespace ssldyn
