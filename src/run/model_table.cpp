#include "run/model_table.hpp"

#include <utility>

#include "core/error.hpp"
#include "run/linear_run.hpp"
#include "run/predictor_run.hpp"
#include "run/supervised_run.hpp"
#include "run/two_layer_run.hpp"

namespace ssldyn {

const ModelKind& model_kind(Model model) {
    static const LinearKind linear;
    static const TwoLayerKind two_layer;
    static const SupervisedKind supervised;
    static const std::pair<Model, const ModelKind*> table[] = {
        {Model::linear, &linear},
        {Model::two_layer, &two_layer},
        {Model::supervised, &supervised},
    };
    for (const auto& [name, kind] : table)
        if (name == model) return *kind;
    throw RuntimeFailure("model " + std::string(name_of(model_names, model)) +
                         " has no row in the model table");
}

const ModelKind& model_kind(const RunConfig& config) {
    static const PredictorKind predictor;
    if (config.model != Model::supervised && uses_predictor(config.loss)) return predictor;
    return model_kind(config.model);
}

StateLayout state_layout(const RunConfig& config, Index d) {
    return model_kind(config).state_layout(config, d);
}

}  // namespace ssldyn
