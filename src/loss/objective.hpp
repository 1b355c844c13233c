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

// The losses of THEORY §3 as means over the batch: two products with the stacked views S,
// F = Sᵀ Wᵀ and ∇Lᵀ = −(1/n) S A, O(k d n) per call.
class DataObjective final : public Objective {
  public:
    DataObjective(const Views& views, Loss loss) : views_(&views), loss_(loss) {}
    LossGradient evaluate(const Matrix& w) const override;
    double loss(const Matrix& w) const override;

  private:
    Matrix features(const Matrix& w) const;
    const Views* views_;
    Loss loss_;
};

}  // namespace ssldyn
