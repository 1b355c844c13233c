#include "optim/dynamics.hpp"

#include "linalg/blas.hpp"

namespace ssldyn {

namespace {

void normalise(Matrix& w) {
    scale(1.0 / frobenius_norm(w), w);
}

}  // namespace

Matrix initial_weights(const StepRule& rule, Matrix g) {
    switch (rule.dynamics) {
        case Dynamics::naive:
            return g;
        case Dynamics::sphere:
            normalise(g);
            return g;
        case Dynamics::orthogonal:
        case Dynamics::penalty:
            break;
    }
    return orthonormalise_rows(rule.retraction, g);
}

void riemannian_gradient(const StepRule& rule, const Matrix& w, Matrix& g) {
    switch (rule.dynamics) {
        case Dynamics::naive:
            // ∇(L + λ‖W‖²) = ∇L + 2λW
            axpy(2.0 * rule.weight_decay, w, g);
            break;
        case Dynamics::sphere:
            // Riemannian gradient on the sphere: remove the radial part.
            axpy(-frobenius_inner(g, w) / frobenius_inner(w, w), w, g);
            break;
        case Dynamics::orthogonal: {
            // grad L = ∇L (I − WᵀW) = ∇L − (∇L Wᵀ) W  (THEORY §4.2), O(k² d).
            const Matrix gwt = multiply(Op::none, Op::transpose, g, w);
            gemm(Op::none, Op::none, -1.0, gwt, w, 1.0, g);
            break;
        }
        case Dynamics::penalty: {
            // ∇(L + μ‖WWᵀ − I‖²_F) = ∇L + 4μ (WWᵀ − I) W, O(k² d) on top of ∇L.
            Matrix excess = multiply(Op::none, Op::transpose, w, w);
            for (Index i = 0; i < excess.rows(); ++i) excess(i, i) -= 1.0;
            gemm(Op::none, Op::none, 4.0 * rule.penalty, excess, w, 1.0, g);
            break;
        }
    }
}

void onto_manifold(const StepRule& rule, Matrix& w) {
    if (rule.dynamics == Dynamics::sphere) normalise(w);
    if (rule.dynamics == Dynamics::orthogonal) w = orthonormalise_rows(Retraction::polar, w);
}

double gradient_step(const StepRule& rule, const Objective& objective, Matrix& w) {
    LossGradient lg = objective.evaluate(w);
    Matrix& g = lg.gradient;
    riemannian_gradient(rule, w, g);
    switch (rule.dynamics) {
        case Dynamics::naive:
        case Dynamics::penalty:
            axpy(-rule.eta, g, w);
            break;
        case Dynamics::sphere:
            // Then projected back.
            axpy(-rule.eta, g, w);
            normalise(w);
            break;
        case Dynamics::orthogonal:
            scale(-rule.eta, g);  // the tangent step ξ = −η grad L
            w = retract(rule.retraction, w, g, rule.distribution);
            break;
    }
    return lg.loss;
}

}  // namespace ssldyn
