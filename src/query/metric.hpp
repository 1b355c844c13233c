#pragma once
// The metrics of `ssldyn query`: a recorded series by name. A metric of gradient descent is named
// as its dataset ("effective_rank", "theory_distance", "kernel_change"), the same of its theory
// with the prefix theory_ ("theory_effective_rank"); mode_<i> is ‖W vᵢ‖ of the i-th eigenvector of
// C (gd_modes, THEORY §6.5), theory_mode_<i> the theory's.
#include <string>

#include "store/run_series.hpp"

namespace ssldyn {

std::string metric_name(const Series& series);

// A recorded series by its name. InputError naming the metric and listing the known ones.
const Series& metric_series(const std::string& name);

// What `--metric` takes: a recorded series, or mode_<i> / theory_mode_<i>, one component of a
// (run, record, component) series. InputError as metric_series.
Series query_series(const std::string& name);

}  // namespace ssldyn
