#include "query/store_query.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/format.hpp"
#include "core/lists.hpp"
#include "query/metric.hpp"
#include "store/h5/attribute.hpp"
#include "store/index_reader.hpp"
#include "store/run_series.hpp"
#include "store/schema.hpp"

namespace ssldyn {

namespace {

// A value of one run from its index row: config settings, result columns, status, id.
std::optional<Cell> index_value(const SweepIndex& index, std::size_t row, const std::string& name) {
    if (name == "sweep") return Cell{index.sweep};
    if (name == "run_id") return Cell{index.run_ids[row]};
    if (name == "status") return Cell{std::string(name_of(run_status_names, index.status[row]))};
    if (auto it = index.config.find(name); it != index.config.end()) return Cell{it->second[row]};
    if (auto it = index.numbers.find(name); it != index.numbers.end()) return Cell{it->second[row]};
    if (auto it = index.texts.find(name); it != index.texts.end()) return Cell{it->second[row]};
    return std::nullopt;
}

std::string as_text(const Cell& cell) {
    if (const auto* s = std::get_if<std::string>(&cell)) return *s;
    return shortest_text(std::get<double>(cell));
}

bool is_identity(const std::string& name) {
    return name == "sweep" || name == "run_id" || name == "status";
}

// The records of a run to show: every one reached, or the one nearest to t.
std::vector<std::size_t> chosen_records(const RunSeries& run, const RecordChoice& at) {
    std::vector<std::size_t> records;
    for (std::size_t r = 0; r < run.steps().size(); ++r)
        if (run.steps()[r] >= 0) records.push_back(r);
    if (at.kind == RecordChoice::Kind::nearest && !records.empty()) {
        const auto& times = run.times();
        std::size_t best = records.front();
        for (std::size_t r : records)
            if (std::fabs(times[r] - at.t) < std::fabs(times[best] - at.t)) best = r;
        records = {best};
    }
    return records;
}

}  // namespace

Table query_table(const h5::File& file, const std::string& store, const Query& query) {
    std::vector<std::string> sweeps = list_sweeps(file);
    if (query.sweep) {
        if (std::find(sweeps.begin(), sweeps.end(), *query.sweep) == sweeps.end())
            throw InputError("--sweep: " + store + " holds no sweep '" + *query.sweep + "'");
        sweeps = {*query.sweep};
    }
    std::vector<SweepIndex> indexes;
    for (const auto& sweep : sweeps) indexes.push_back(read_index(file, sweep));

    // Columns: identity, the settings that vary (or are filtered on), then the metrics.
    std::vector<std::string> keys;
    auto add_key = [&](const std::string& key) {
        if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
    };
    for (const auto& sweep : sweeps)
        for (const auto& key : split_list(h5::read_string_attribute(
                 h5::Group::open(file.id(), schema::sweep_path(sweep)).id(), "axes")))
            add_key(key);
    for (const auto& name : query.filter.names()) {
        const bool known = std::any_of(indexes.begin(), indexes.end(), [&](const SweepIndex& i) {
            return is_identity(name) || i.config.count(name) || i.numbers.count(name) ||
                   i.texts.count(name);
        });
        if (!known && !indexes.empty())
            throw InputError("--where: unknown name '" + name +
                             "' (names: settings, status, run_id, sweep and result columns such "
                             "as final_effective_rank)");
        if (!is_identity(name)) add_key(name);
    }
    const bool final_only = query.at.kind == RecordChoice::Kind::final;
    // Metric columns are named as in the store: index columns for final values, the series'
    // dataset paths along the trajectory (so "loss" the metric never clashes with "loss" the
    // setting). With final values, a result column is a metric of its own.
    std::vector<std::string> final_columns;
    std::vector<const Series*> series;
    for (const auto& m : query.metrics) {
        const bool is_column = std::any_of(
            indexes.begin(), indexes.end(),
            [&](const SweepIndex& i) { return i.numbers.count(m) || i.texts.count(m); });
        if (final_only && is_column) {
            final_columns.push_back(m);
        } else {
            series.push_back(&metric_series(m));
            final_columns.push_back(series.back()->final_column);
        }
    }
    Table table;
    table.columns = {"sweep", "run_id", "status"};
    table.columns.insert(table.columns.end(), keys.begin(), keys.end());
    if (final_only) {
        table.columns.insert(table.columns.end(), final_columns.begin(), final_columns.end());
    } else {
        table.columns.insert(table.columns.end(), {"step", "t"});
        for (const Series* s : series) table.columns.push_back(s->path());
    }

    for (const auto& index : indexes) {
        for (std::size_t row = 0; row < index.size(); ++row) {
            const bool keep =
                query.filter.matches([&](const std::string& name) -> std::optional<std::string> {
                    const auto v = index_value(index, row, name);
                    return v ? std::optional<std::string>(as_text(*v)) : std::nullopt;
                });
            if (!keep) continue;
            std::vector<Cell> head;
            head.emplace_back(index.sweep);
            head.emplace_back(index.run_ids[row]);
            head.emplace_back(std::string(name_of(run_status_names, index.status[row])));
            for (const auto& key : keys)
                head.push_back(index_value(index, row, key).value_or(Cell{""}));
            if (final_only) {
                for (const auto& column : final_columns)
                    head.push_back(index_value(index, row, column).value_or(Cell{NAN}));
                table.rows.push_back(std::move(head));
                continue;
            }
            // Along the trajectory: read this run's series (only the runs that matched).
            const RunSeries run(file, index, row);
            std::vector<std::vector<double>> values;
            for (const Series* s : series) values.push_back(run.read(*s));
            for (std::size_t r : chosen_records(run, query.at)) {
                std::vector<Cell> cells = head;
                cells.push_back(static_cast<double>(run.steps()[r]));
                cells.push_back(run.times()[r]);
                for (const auto& v : values) cells.push_back(v[r]);
                table.rows.push_back(std::move(cells));
            }
        }
    }
    return table;
}

}  // namespace ssldyn
