#pragma once
// `ssldyn query`: settings and metrics of the runs of a store, filtered. Final values come from
// the sweeps' index tables; values along the trajectory from the matching runs' series only.
#include <optional>
#include <string>
#include <vector>

#include "query/parse.hpp"
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
    std::optional<WhereClause> where;
    // Settings and result columns to show, "all" for every one; without them, the settings
    // named in `where` and those that differ among the matching runs.
    std::optional<std::vector<std::string>> columns;
    // Metric names (query/metric.hpp); with RecordChoice::final also any result column.
    std::vector<std::string> metrics;
    RecordChoice at;
};

struct QueryResult {
    Table table;
    std::size_t runs = 0;  // that match
};

// One row per matching run (final) or per record. InputError for an unknown sweep, column or
// metric, and for a `where` that fails Expression::check against the whole store (a value no
// run of any sweep has is an error; one that no run of the chosen sweep has matches nothing).
// `store` names the store in messages.
QueryResult query_table(const h5::File& file, const std::string& store, const Query& query);

}  // namespace ssldyn
