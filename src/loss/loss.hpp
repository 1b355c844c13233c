#pragma once
// The two self-supervised losses of THEORY §3 and the matrix C that, for a linear map,
// carries all of their information: L(W) = −Tr(W C Wᵀ).
#include <functional>

#include "core/names.hpp"
#include "data/views.hpp"
#include "linalg/matrix.hpp"

namespace ssldyn {

enum class Loss {
    noncontrastive,
    contrastive,
    // The losses with a predictor (THEORY §6.3, loss/predictor.hpp).
    byol,
    simsiam,
};

inline constexpr NameTable<Loss, 4> loss_names{{
    {Loss::noncontrastive, "noncontrastive"},
    {Loss::contrastive, "contrastive"},
    // The losses with a predictor.
    {Loss::byol, "byol"},
    {Loss::simsiam, "simsiam"},
}};

// The losses whose runs train a predictor and a target beside W (run/predictor_run); their C,
// for the metrics' eigenbasis, is the non-contrastive one.
inline bool uses_predictor(Loss loss) {
    return loss == Loss::byol || loss == Loss::simsiam;
}

// C_nc = sym(XᵀX⁺/n), C_c = sym(Xᵀ(X⁺ − X⁻)/n), by one symmetric rank-2k update.
Matrix covariance(const Views& views, Loss loss);

// The factors of C = covariance_scale(n)·(A Bᵀ + B Aᵀ), samples as columns: A the anchors, B the
// positives (contrastive: minus the negatives), handed to `use` (B lives only during the call).
void with_covariance_factors(const Views& views, Loss loss,
                             const std::function<void(ConstView a, ConstView b)>& use);
inline double covariance_scale(Index n) {
    return 1.0 / (2.0 * static_cast<double>(n));
}

// The losses as functions of the features F of the stacked views: F has views_used(loss)·n rows
// (the n anchors, the n positives, then for the contrastive loss the n negatives) and one column
// per output. The gradient comes as A with ∂L/∂F = −(1/n)·A, the factor left to the caller's
// next product (A = [F⁺; F] or [F⁺ − F⁻; F; −F] by rows).
double batch_loss(const Matrix& f, Index n, Loss loss);
Matrix batch_loss_gradient(const Matrix& f, Index n, Loss loss);

// How many stacked views the loss reads: [X | X⁺] or [X | X⁺ | X⁻].
inline Index views_used(Loss loss) {
    return loss == Loss::contrastive ? 3 : 2;
}

}  // namespace ssldyn
