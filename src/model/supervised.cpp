#include "model/supervised.hpp"

#include <cmath>

#include "core/error.hpp"
#include "linalg/blas.hpp"

namespace ssldyn {

SupervisedObjective::SupervisedObjective(const Matrix& samples, const std::vector<Index>& labels,
                                         Index classes, Activation activation)
    : samples_t_(transpose(samples)), targets_(samples.cols(), classes), activation_(activation) {
    if (static_cast<Index>(labels.size()) != samples.cols())
        throw InputError("supervised baseline: one label per sample");
    scale(1.0 / std::sqrt(static_cast<double>(samples.rows())), samples_t_);
    for (Index i = 0; i < samples.cols(); ++i) {
        const Index label = labels[static_cast<std::size_t>(i)];
        if (label < 0 || label >= classes)
            throw InputError("supervised baseline: label " + std::to_string(label) +
                             " outside [0, " + std::to_string(classes) + ")");
        targets_(i, label) = 1.0;
    }
}

// Samples as rows: Uᵀ = X̃ W₁ᵀ, Aᵀ = σ(Uᵀ) (and σ′(Uᵀ) into slope), F = h^{-1/2} Aᵀ W₂ᵀ.
Matrix SupervisedObjective::outputs(const TwoLayerWeights& w, Matrix* slope, Matrix* hidden) const {
    const Matrix u = multiply(Op::none, Op::transpose, samples_t_, w.w1);
    Matrix a;
    activate(activation_, u, a, slope);
    Matrix f(u.rows(), w.w2.rows());
    gemm(Op::none, Op::transpose, 1.0 / std::sqrt(static_cast<double>(w.w1.rows())), a, w.w2, 0.0,
         f);
    if (hidden) *hidden = std::move(a);
    return f;
}

double SupervisedObjective::loss(const TwoLayerWeights& w) const {
    Matrix residual = outputs(w, nullptr, nullptr);
    axpy(-1.0, targets_, residual);
    const double norm = frobenius_norm(residual);
    return 0.5 * norm * norm / static_cast<double>(residual.rows());
}

TwoLayerGradient SupervisedObjective::evaluate(const TwoLayerWeights& w) const {
    Matrix slope, hidden;
    Matrix residual = outputs(w, &slope, &hidden);
    axpy(-1.0, targets_, residual);  // ∂L/∂F · n
    const auto n = static_cast<double>(residual.rows());
    const double scale_out = 1.0 / std::sqrt(static_cast<double>(w.w1.rows()));
    TwoLayerGradient g;
    const double norm = frobenius_norm(residual);
    g.loss = 0.5 * norm * norm / n;
    // ∂L/∂W₂ = (1/n) h^{-1/2} Rᵀ Aᵀ; ∂L/∂Uᵀ = (1/n) h^{-1/2} (R W₂) ∘ σ′; ∂L/∂W₁ = (∂L/∂Uᵀ)ᵀ X̃.
    g.w2 = Matrix(w.w2.rows(), w.w2.cols());
    gemm(Op::transpose, Op::none, scale_out / n, residual, hidden, 0.0, g.w2);
    Matrix back(residual.rows(), w.w1.rows());
    gemm(Op::none, Op::none, scale_out / n, residual, w.w2, 0.0, back);
    for (Index j = 0; j < back.cols(); ++j)
        for (Index i = 0; i < back.rows(); ++i) back(i, j) *= slope(i, j);
    g.w1 = Matrix(w.w1.rows(), w.w1.cols());
    gemm(Op::transpose, Op::none, 1.0, back, samples_t_, 0.0, g.w1);
    return g;
}

TwoLayerWeights ntk_initial_weights(Index d, Index h, Index k, RandomStream& stream) {
    return {gaussian_matrix(stream, h, d), gaussian_matrix(stream, k, h)};
}

}  // namespace ssldyn
