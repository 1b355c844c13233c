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
    // With a distribution, get() is collective over its group (build_problem).
    explicit ProblemCache(const Distribution& where = {}, std::size_t capacity = 4)
        : where_(where), capacity_(capacity) {}
    std::shared_ptr<const Problem> get(const RunConfig& config);

  private:
    Distribution where_;
    std::size_t capacity_;
    std::list<std::pair<std::string, std::shared_ptr<const Problem>>>
        entries_;  // most recent first
};

}  // namespace ssldyn
