#pragma once
// A sweep at a glance: per dynamics, loss and k, whether the runs collapsed and how far
// gradient descent ended from the closed-form flow.
#include <string>
#include <vector>

#include "store/index_reader.hpp"

namespace ssldyn {

// The index columns sweep_summary reads (the rest of an index need not be read).
inline std::vector<std::string> summary_columns() {
    return {"dynamics", "model", "loss", "k", "final_effective_rank", "max_theory_distance"};
}
std::string sweep_summary(const SweepIndex& index);

}  // namespace ssldyn
