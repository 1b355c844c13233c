#pragma once
// The metrics of `ssldyn query`: a recorded series by name. A metric of gradient descent is named
// as its dataset ("effective_rank", "theory_distance", "kernel_change"), the same of its theory
// with the prefix theory_ ("theory_effective_rank").
#include <string>

#include "store/run_series.hpp"

namespace ssldyn {

std::string metric_name(const Series& series);

// InputError naming the metric and listing the known ones.
const Series& metric_series(const std::string& name);

}  // namespace ssldyn
