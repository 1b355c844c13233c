#pragma once
// The exact flows of THEORY §6 for the linear model, in eigen-coordinates of C (the rows of W V,
// as theory/closed_form.hpp): the spectral contrastive loss with Σ = I (§6.1, the Riccati flow of
// P = WᵀW) and Barlow Twins from an aligned start (§6.2, one logistic equation per row).
#include <vector>

#include "linalg/matrix.hpp"
#include "loss/loss.hpp"
#include "theory/closed_form.hpp"

namespace ssldyn {

// dW/dt = 4WC − 4WWᵀW, from W₀V = B. P(t) = Y M⁻¹ Yᵀ with Y = e^{4Λt}Bᵀ and
// M = I + 8 B D(t) Bᵀ, D = diag((e^{8λt} − 1)/(8λ)) (THEORY §6.1), evaluated without
// e^{8λ₁t}: with B = B₁[I | G] (B₁ the top k x k block), P = Z H⁻¹ Zᵀ where
// Z = [I; e^{4Λ₂t} Gᵀ e^{−4Λ₁t}] and H = E⁻¹(B₁ᵀB₁)⁻¹E⁻¹ + 8E⁻¹[I | G] D [I | G]ᵀE⁻¹,
// E = e^{4Λ₁t}: every entry of Z and H stays bounded as t grows (but those of λ ≤ 0 within the
// top k). Returns the rows R = L⁻¹Zᵀ, H = LLᵀ, one factor of P = RᵀR (W itself is fixed by P only
// up to a rotation Q ∈ O(k), which no loss of §6 nor any recorded metric sees).
class SpectralContrastiveFlow {
  public:
    SpectralContrastiveFlow(std::vector<double> eigenvalues, const Matrix& w0_coordinates);
    FlowPoint at(double t) const;
    double conditioning() const { return conditioning_; }

  private:
    std::vector<double> lambda_;
    Matrix gram_inverse_;  // (B₁ᵀB₁)⁻¹
    Matrix graph_;         // G = B₁⁻¹B₂
    double conditioning_ = 1.0;
};

// dW/dt = −4(WCWᵀ − I)WC from W₀ = diag(s₀)V_kᵀ: W(t)V = [diag(√uᵢ(t)) | 0] with
// uᵢ = uᵢ₀e^{8λᵢt} / (1 + λᵢuᵢ₀(e^{8λᵢt} − 1)), uᵢ₀ = s₀ᵢ² (THEORY §6.2).
class BarlowTwinsAlignedFlow {
  public:
    BarlowTwinsAlignedFlow(std::vector<double> eigenvalues, std::vector<double> s0);
    FlowPoint at(double t) const;
    double u(Index i, double t) const;

  private:
    std::vector<double> lambda_, u0_;
};

// Rise times of THEORY §6.1–6.2 from a start of size ε (uᵢ₀ = ε²): ln(1/(λᵢε²))/(8λᵢ), the t at
// which uᵢ reaches half its final value 1/λᵢ (Barlow Twins) or, for the spectral contrastive
// loss, at which ‖Wvᵢ‖² reaches λᵢ/2: ln(λᵢ/ε²)/(8λᵢ) (to O(ε²)). NaN for λᵢ ≤ 0.
double barlow_twins_rise_time(double lambda, double epsilon);
double spectral_contrastive_rise_time(double lambda, double epsilon);

// The predicted rise time of each eigen-direction of a run of `loss` (THEORY §6.1–6.2, §6.5)
// from B = W₀V_k (k x k, the initial weights' coordinates in the top-k eigenvectors of C,
// column i = W₀vᵢ): the rise time above with ε = |rᵢᵢ|, R of B = QR, the part of W₀vᵢ
// orthogonal to W₀v₁ … W₀v_{i−1}; ε = ‖W₀vᵢ‖ for an aligned start. NaN for losses without a
// prediction, for a B that is not finite and where λᵢ ≤ 0.
std::vector<double> predicted_rise_times(Loss loss, const std::vector<double>& eigenvalues,
                                         const Matrix& initial_top_coordinates);

}  // namespace ssldyn
