#pragma once
// `ssldyn query`: settings and metrics of the runs of a store, filtered. Final values come from
// the sweeps' index tables; values along the trajectory from the matching runs' series only.
#include <optional>
#include <string>
#include <vector>

#include "query/filter.hpp"
#include "query/table.hpp"
#include "store/h5/file.hpp"

namespace ssldyn {

// Which records of a run a query shows.
struct RecordChoice {
    enum class Kind { final, all, nearest } kind = Kind::final;
    double t = 0.0;  // nearest: the record nearest to this t
};

struct Query {
    std::optional<std::string> sweep;  // only this sweep
    Filter filter;
    // Metric names (query/metric.hpp); with RecordChoice::final also any result column.
    std::vector<std::string> metrics;
    RecordChoice at;
};

// One row per matching run (final) or per record; InputError for an unknown sweep, filter name
// or metric. `store` names the store in messages.
Table query_table(const h5::File& file, const std::string& store, const Query& query);

}  // namespace ssldyn
