#pragma once
// Loss and Euclidean gradient of the linear model f(x) = W x, through C or through the data.
#include <memory>

#include "linalg/blacs.hpp"
#include "loss/loss.hpp"

namespace ssldyn {

struct LossGradient {
    double loss;
    Matrix gradient;  // k x d, ∂L/∂W
};

class Objective {
  public:
    virtual ~Objective() = default;
    virtual LossGradient evaluate(const Matrix& w) const = 0;
    virtual double loss(const Matrix& w) const { return evaluate(w).loss; }
};

// L = −Tr(W C Wᵀ), ∇L = −2 W C: O(k d²) per call whatever n is.
class CovarianceObjective final : public Objective {
  public:
    explicit CovarianceObjective(Matrix c) : c_(std::move(c)) {}
    LossGradient evaluate(const Matrix& w) const override;
    const Matrix& c() const { return c_; }

  private:
    Matrix c_;
};

// CovarianceObjective with C block-cyclic over a grid (replicated W in and gradient out): C Wᵀ by
// one pdgemm, O(k d²/g) per rank of the grid, then gathered (k d words).
class DistributedCovarianceObjective final : public Objective {
  public:
    explicit DistributedCovarianceObjective(const DistributedMatrix& c) : c_(&c) {}
    LossGradient evaluate(const Matrix& w) const override;

  private:
    const DistributedMatrix* c_;
};

// The spectral contrastive loss through C and Σ (THEORY §6.1): L = −2 Tr(W C Wᵀ) + ‖W Σ Wᵀ‖²_F,
// ∇L = −4 W C + 4 (W Σ Wᵀ) W Σ, O(k d²) per call.
class SpectralContrastiveObjective final : public Objective {
  public:
    SpectralContrastiveObjective(Matrix c, Matrix sigma)
        : c_(std::move(c)), sigma_(std::move(sigma)) {}
    LossGradient evaluate(const Matrix& w) const override;

  private:
    Matrix c_, sigma_;
};

// Barlow Twins through C (THEORY §6.2): L = ‖W C Wᵀ − I‖²_F, ∇L = 4 (W C Wᵀ − I) W C, O(k d²).
class BarlowTwinsObjective final : public Objective {
  public:
    explicit BarlowTwinsObjective(Matrix c) : c_(std::move(c)) {}
    LossGradient evaluate(const Matrix& w) const override;

  private:
    Matrix c_;
};

// Every loss as a mean over the batch (loss/loss.hpp): two products with the stacked views S,
// F = Sᵀ Wᵀ and ∇Lᵀ = −(1/n) S A, O(k d n) per call (InfoNCE: O(k n²) more). The spectral
// contrastive loss and Barlow Twins (has_gram_form) in one pass over S instead, a block of
// samples at a time: their A needs only k x k sums over the whole batch.
class DataObjective final : public Objective {
  public:
    DataObjective(const Views& views, LossFunction loss) : views_(&views), loss_(loss) {}
    LossGradient evaluate(const Matrix& w) const override;
    double loss(const Matrix& w) const override;

  private:
    Matrix features(const Matrix& w) const;
    const Views* views_;
    LossFunction loss_;
};

}  // namespace ssldyn
