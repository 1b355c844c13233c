#include "run/problem_cache.hpp"

namespace ssldyn {

std::shared_ptr<const Problem> ProblemCache::get(const RunConfig& config) {
    const std::string key = problem_key(config);
    for (auto it = entries_.begin(); it != entries_.end(); ++it)
        if (it->first == key) {
            entries_.splice(entries_.begin(), entries_, it);
            return entries_.front().second;
        }
    auto problem = std::make_shared<const Problem>(build_problem(config, where_));
    entries_.emplace_front(key, problem);
    if (entries_.size() > capacity_) entries_.pop_back();
    return problem;
}

}  // namespace ssldyn
