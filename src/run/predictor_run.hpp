#pragma once
// The linear or two-layer model trained by a loss with a predictor, BYOL or SimSiam (THEORY
// §6.3): gradient descent through the data on the online encoder (W, or W₁ and W₂), the
// predictor W_p and the target encoder, next to their flow integrated by the reference integrator
// from the same start (through the views' moments for the linear model, through the data for the
// two-layer one). One run for both, the encoder its parameter. The model table
// (run/model_table.hpp) takes this kind when the loss asks for a predictor (loss/loss.hpp:
// uses_predictor).
#include "run/model_run.hpp"

namespace ssldyn {

class PredictorKind final : public ModelKind {
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
