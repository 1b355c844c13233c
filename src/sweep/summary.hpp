#pragma once
// A sweep at a glance: per dynamics, loss and k, whether the runs collapsed and how far
// gradient descent ended from the closed-form flow.
#include <string>
#include <vector>

#include "store/index_reader.hpp"

namespace ssldyn {

// The settings a model's label may read (ModelKind::label).
inline const std::vector<std::string>& label_settings() {
    static const std::vector<std::string> keys{"dynamics", "model", "loss", "predictor",
                                               "stop_gradient"};
    return keys;
}
// The index columns sweep_summary reads (the rest of an index need not be read).
inline std::vector<std::string> summary_columns() {
    std::vector<std::string> out = label_settings();
    out.insert(out.end(), {"k", "final_effective_rank", "max_theory_distance"});
    return out;
}
std::string sweep_summary(const SweepIndex& index);

}  // namespace ssldyn
