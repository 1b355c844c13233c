#pragma once
// The self-supervised losses: the two of the paper (THEORY §3), whose information for a linear
// map is all in the matrix C, L(W) = −Tr(W C Wᵀ), and those of THEORY §6 (spectral contrastive,
// Barlow Twins, InfoNCE), as functions of the features of the stacked views.
#include <functional>

#include "core/names.hpp"
#include "data/views.hpp"
#include "linalg/matrix.hpp"

namespace ssldyn {

enum class Loss {
    noncontrastive,
    contrastive,
    spectral_contrastive,
    barlow_twins,
    infonce,
    // The losses with a predictor (THEORY §6.3, loss/predictor.hpp).
    byol,
    simsiam,
};

// One row per loss: how many stacked views it reads ([X | X⁺] or [X | X⁺ | X⁻]), whether the
// linear model has its loss through C (O(k d²) a step), whether it reads the temperature, and
// whether its runs train a predictor and a target beside W (run/predictor_run).
struct LossRow {
    Loss value;
    std::string_view name;
    Index views;
    bool covariance_path;
    bool temperature;
    bool predictor;
};

inline constexpr std::array<LossRow, 7> loss_table{{
    {Loss::noncontrastive, "noncontrastive", 2, true, false, false},
    {Loss::contrastive, "contrastive", 3, true, false, false},
    {Loss::spectral_contrastive, "spectral_contrastive", 2, true, false, false},
    {Loss::barlow_twins, "barlow_twins", 2, true, false, false},
    {Loss::infonce, "infonce", 2, false, true, false},
    {Loss::byol, "byol", 2, false, false, true},
    {Loss::simsiam, "simsiam", 2, false, false, true},
}};

inline constexpr NameTable<Loss, 7> loss_names = name_table(loss_table);

static_assert(in_enumeration_order(loss_table), "one row per value, in order");

constexpr const LossRow& row_of(Loss loss) {
    return loss_table[static_cast<std::size_t>(loss)];
}

// The losses of THEORY §3, whose loss is −Tr(W C Wᵀ) and whose exact flows are THEORY §4.
inline bool paper_loss(Loss loss) {
    return loss == Loss::noncontrastive || loss == Loss::contrastive;
}

// The losses whose runs train a predictor and a target beside W; their C, for the metrics'
// eigenbasis, is the non-contrastive one.
inline bool uses_predictor(Loss loss) {
    return row_of(loss).predictor;
}

// A loss with its parameter: the temperature τ of InfoNCE (THEORY §6.4).
struct LossFunction {
    Loss loss = Loss::noncontrastive;
    double temperature = 1.0;
    LossFunction(Loss l, double tau = 1.0) : loss(l), temperature(tau) {}  // NOLINT: implicit
};

// C_nc = sym(XᵀX⁺/n) (every loss but the contrastive one), C_c = sym(Xᵀ(X⁺ − X⁻)/n), by one
// symmetric rank-2k update.
Matrix covariance(const Views& views, Loss loss);

// Σ = sym(XᵀX/n), the second moment of the anchor view (THEORY §6.1).
Matrix view_second_moment(const Views& views);

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
// next product (paper's losses: A = [F⁺; F] or [F⁺ − F⁻; F; −F] by rows; THEORY §6 for the
// others). The batch forms of THEORY §6 are those whose linear-model value equals the form
// through C exactly: the spectral contrastive loss keeps the i = j pairs, Barlow Twins
// correlates the symmetrised cross-correlation.
double batch_loss(const Matrix& f, Index n, const LossFunction& loss);
Matrix batch_loss_gradient(const Matrix& f, Index n, const LossFunction& loss);

// Both of the above from one evaluation: InfoNCE forms its softmax once for the two.
struct BatchLossGradient {
    double loss;
    Matrix a;  // as batch_loss_gradient's
};
BatchLossGradient batch_loss_and_gradient(const Matrix& f, Index n, const LossFunction& loss);

// The spectral contrastive loss and Barlow Twins depend on the features through two k x k
// products alone, G = FᵀF/n of the anchors and K = FᵀF⁺/n with the positives, and their A (of
// batch_loss_gradient) is linear in F: A = (F⁺ M + F M_a; F M) by rows (THEORY §6.1, §6.2). So
// the data path can take them from the samples a block at a time (loss/objective.cpp).
inline bool has_gram_form(Loss loss) {
    return loss == Loss::spectral_contrastive || loss == Loss::barlow_twins;
}
struct GramForm {
    double loss;
    Matrix m, m_anchor;  // k x k; m_anchor empty for Barlow Twins (0)
};
GramForm gram_form(Loss loss, const Matrix& gram, const Matrix& cross);

// How many stacked views the loss reads: [X | X⁺] or [X | X⁺ | X⁻].
inline Index views_used(Loss loss) {
    return row_of(loss).views;
}
inline Index views_used(const LossFunction& loss) {
    return views_used(loss.loss);
}

// InfoNCE (THEORY §6.4) of the anchors' features F and the positives' F⁺ (n x k each), in row
// blocks of the n x n similarity matrix so that it is never formed whole: the loss alone, or the
// loss with its gradient as A of batch_loss_gradient (rows [0, n) for F and [n, 2n) for F⁺)
// from each block's one softmax.
double infonce_loss(ConstView f, ConstView f_positive, double temperature);
BatchLossGradient infonce(ConstView f, ConstView f_positive, double temperature);

}  // namespace ssldyn
