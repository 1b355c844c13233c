#pragma once
// The model table: each value of `model` (config/run_config.hpp) and the ModelKind that
// implements it. Nothing above run/ names a model; it asks the table.
#include "run/model_run.hpp"

namespace ssldyn {

const ModelKind& model_kind(Model model);

// The packed weights of a config's runs on data of dimension d.
StateLayout state_layout(const RunConfig& config, Index d);

}  // namespace ssldyn
