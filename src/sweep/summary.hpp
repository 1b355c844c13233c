#pragma once
// A sweep at a glance: per dynamics, loss and k, whether the runs collapsed and how far
// gradient descent ended from the closed-form flow.
#include <string>

#include "store/index_reader.hpp"

namespace ssldyn {

std::string sweep_summary(const SweepIndex& index);

}  // namespace ssldyn
