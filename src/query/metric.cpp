#include "query/metric.hpp"

#include "core/error.hpp"
#include "store/schema.hpp"

namespace ssldyn {

namespace {

std::string known_metrics() {
    std::string linear = "theory_distance", network;
    for (const auto& m : schema::metrics()) linear += std::string(", ") + m.name;
    for (const auto& m : schema::network_metrics())
        network += (network.empty() ? "" : ", ") + std::string(m.name);
    return linear + ", each also with the prefix theory_ for the theory; two-layer and " +
           "supervised runs also " + network;
}

}  // namespace

std::string metric_name(const Series& series) {
    return series.group == "theory" ? "theory_" + series.name : series.name;
}

const Series& metric_series(const std::string& name) {
    for (const auto& series : recorded_series())
        if (metric_name(series) == name) return series;
    throw InputError("--metric: unknown metric '" + name + "' (metrics: " + known_metrics() + ")");
}

}  // namespace ssldyn
