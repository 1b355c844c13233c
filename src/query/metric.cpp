#include "query/metric.hpp"

#include <optional>

#include "core/error.hpp"
#include "store/schema.hpp"

namespace ssldyn {

namespace {

std::string known_metrics() {
    std::string linear = "theory_distance", network;
    for (const auto& m : schema::metrics()) linear += std::string(", ") + m.name;
    for (const auto& m : schema::network_metrics())
        network += (network.empty() ? "" : ", ") + std::string(m.name);
    return linear + ", mode_<i> (i = 1..k), each also with the prefix theory_ for the theory; " +
           "two-layer and supervised runs also " + network;
}

}  // namespace

std::string metric_name(const Series& series) {
    return series.group == "theory" ? "theory_" + series.name : series.name;
}

namespace {

// mode_<i> or theory_mode_<i>, i ≥ 1: the i-th component of gd_modes or theory_modes.
std::optional<Series> mode_series(const std::string& name) {
    const bool theory = name.rfind("theory_", 0) == 0;
    const std::string rest = theory ? name.substr(7) : name;
    const std::string prefix = "mode_";
    if (rest.rfind(prefix, 0) != 0 || rest.size() == prefix.size() ||
        rest.find_first_not_of("0123456789", prefix.size()) != std::string::npos ||
        rest.size() > prefix.size() + 6)
        return std::nullopt;
    const long i = std::stol(rest.substr(prefix.size()));
    if (i < 1) return std::nullopt;
    Series s;
    s.group = theory ? "theory" : "trajectory";
    s.name = rest;
    s.dataset = theory ? "theory_modes" : "gd_modes";
    s.units = "1";
    s.component = i - 1;
    return s;
}

}  // namespace

const Series& metric_series(const std::string& name) {
    for (const auto& series : recorded_series())
        if (metric_name(series) == name) return series;
    throw InputError("--metric: unknown metric '" + name + "' (metrics: " + known_metrics() + ")");
}

Series query_series(const std::string& name) {
    if (auto mode = mode_series(name)) return *mode;
    return metric_series(name);
}

}  // namespace ssldyn
