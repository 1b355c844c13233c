#pragma once
// Runs of a sweep that share their data settings share one Problem (data, views, C and its
// eigendecomposition): loading and decomposing happen once per rank, not once per run.
#include <list>
#include <memory>
#include <string>
#include <utility>

#include "run/problem.hpp"

namespace ssldyn {

class ProblemCache {
  public:
    explicit ProblemCache(std::size_t capacity = 4) : capacity_(capacity) {}
    std::shared_ptr<const Problem> get(const RunConfig& config);

  private:
    std::size_t capacity_;
    std::list<std::pair<std::string, std::shared_ptr<const Problem>>>
        entries_;  // most recent first
};

}  // namespace ssldyn
