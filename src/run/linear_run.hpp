#pragma once
// The linear model W (k x d, THEORY §2): gradient descent by the chosen dynamics next to the
// closed-form flow from the same W0 (THEORY §3–4), evaluated at every record.
#include "run/model_run.hpp"

namespace ssldyn {

// W₀ of the linear model (and of the online network of run/predictor_run), before the dynamics
// put it on their manifold: Gaussian of standard deviation init_scale (1/√d by default), or
// init_scale·V_kᵀ along the top-k eigenvectors of C (THEORY §6.2).
Matrix initial_linear_weights(const RunConfig& config, const Problem& problem);

class LinearKind final : public ModelKind {
  public:
    std::unique_ptr<ModelRun> start(const RunConfig& config, const Problem& problem,
                                    RunResult& result) const override;
    StateLayout state_layout(const RunConfig& config, Index d) const override;
    RecordLayout record_layout(const RunConfig& config) const override;
    std::string describe(const RunConfig& config) const override;
    std::string label(const RunConfig& config) const override;
    void print_summary(const RunResult& result, std::FILE* out) const override;
};

}  // namespace ssldyn
