#pragma once
// The model table: each value of `model` (config/run_config.hpp) and the ModelKind that
// implements it, and the kind of a loss that brings its own weights (a predictor). Nothing above
// run/ names a model; it asks the table.
#include "run/model_run.hpp"

namespace ssldyn {

const ModelKind& model_kind(Model model);
// The kind that runs a config: its model's, or for the linear or two-layer model trained by a
// loss with a predictor (loss/loss.hpp: uses_predictor) the predictor's (run/predictor_run.hpp).
const ModelKind& model_kind(const RunConfig& config);

// The packed weights of a config's runs on data of dimension d.
StateLayout state_layout(const RunConfig& config, Index d);

}  // namespace ssldyn
