#pragma once
// The non-contrastive losses with a predictor, BYOL and SimSiam (THEORY §6.3): online weights W
// (k x d), predictor W_p (k x k) and target W_a (k x d; SimSiam's is W itself), the loss
// L = ½ (1/n) Σᵢ ‖W_p W x₁ᵢ − sg(W_a x₂ᵢ)‖² with x₁ the augmented view X⁺ and x₂ the anchor X,
// and the velocity dθ/dt of the three matrices that gradient descent takes in steps of η and the
// reference flow integrates. The gradient comes through the data (O(k d n)) or through the
// views' second moments (O(k d²)); both give the same numbers up to round-off.
#include "core/names.hpp"
#include "data/views.hpp"
#include "linalg/matrix.hpp"

namespace ssldyn {

// predictor = linear: W_p learned at rate α_p; identity: W_p = I, fixed.
enum class Predictor { linear, identity };
inline constexpr NameTable<Predictor, 2> predictor_names{{
    {Predictor::linear, "linear"},
    {Predictor::identity, "identity"},
}};

// The matrices of a run; target is W again for a tied (SimSiam) target.
struct PredictorState {
    Matrix w, predictor, target;
};

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
struct PredictorGradient {
    double loss = 0.0;
    Matrix w, predictor, target;
};

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

// dθ/dt from the gradients at θ (the same formula for GD's step and the flow's field).
PredictorState velocity(const PredictorRule& rule, const PredictorState& s,
                        const PredictorGradient& g);

// θ ← θ + η·velocity, the target kept tied for SimSiam.
void predictor_step(const PredictorRule& rule, double eta, const PredictorGradient& g,
                    PredictorState& s);

// The off-diagonal mass of W_p in the eigenbasis Q of F = W S₂₂ Wᵀ: ‖offdiag(QᵀW_pQ)‖_F/‖W_p‖_F
// (0 when W_p is a polynomial in F; THEORY §6.3).
double predictor_offdiagonal(const PredictorState& s, const ViewMoments& m);

}  // namespace ssldyn
