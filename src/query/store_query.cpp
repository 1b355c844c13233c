#include "query/store_query.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "core/error.hpp"
#include "core/lists.hpp"
#include "query/columns.hpp"
#include "query/metric.hpp"
#include "store/h5/attribute.hpp"
#include "store/index_reader.hpp"
#include "store/run_series.hpp"
#include "store/schema.hpp"

namespace ssldyn {

namespace {

struct Match {
    const SweepIndex* index;
    std::size_t row;
};

// The records of a run to show: every one reached, or the one nearest to t.
std::vector<std::size_t> chosen_records(const long long* steps, const double* times,
                                        std::size_t count, const RecordChoice& at) {
    std::vector<std::size_t> records;
    for (std::size_t r = 0; r < count; ++r)
        if (steps[r] >= 0) records.push_back(r);
    if (at.kind == RecordChoice::Kind::nearest && !records.empty()) {
        std::size_t best = records.front();
        for (std::size_t r : records)
            if (std::fabs(times[r] - at.t) < std::fabs(times[best] - at.t)) best = r;
        records = {best};
    }
    return records;
}

bool varies(const StoreColumns& columns, const Column& column, const std::vector<Match>& matches) {
    if (matches.empty()) return false;
    const Value first = columns.value(*matches[0].index, matches[0].row, column);
    return std::any_of(matches.begin(), matches.end(), [&](const Match& m) {
        return columns.value(*m.index, m.row, column) != first;
    });
}

// The settings and result columns shown between the run's identity and the metrics: those of
// --columns, else the settings named in --where or differing among the matches (so that runs of
// sweeps that fix a setting at different values never look comparable), the sweeps' axes first,
// then the result columns named in --where.
std::vector<const Column*> shown_columns(const StoreColumns& columns, const Query& query,
                                         const std::vector<std::string>& axes,
                                         const std::vector<Match>& matches) {
    std::vector<const Column*> out;
    auto shown = [&](const Column* c) { return std::find(out.begin(), out.end(), c) != out.end(); };
    auto add = [&](const Column* c) {
        if (c->kind != ColumnKind::identity && !shown(c)) out.push_back(c);
    };
    if (query.columns) {
        for (const auto& name : *query.columns) {
            if (name == "all") {
                for (const auto& c : columns.columns()) add(&c);
            } else if (const Column* c = columns.find(name)) {
                add(c);
            } else {
                throw InputError("--columns: unknown column '" + name + "' (" +
                                 columns.known_names(name) + "; or all)");
            }
        }
        return out;
    }
    const auto named = query.where ? query.where->expression.names() : std::vector<std::string>{};
    auto is_named = [&](const Column& c) {
        return std::find(named.begin(), named.end(), c.name) != named.end();
    };
    std::vector<const Column*> settings;
    for (const auto& key : axes)
        if (const Column* c = columns.find(key)) settings.push_back(c);
    for (const auto& c : columns.columns()) settings.push_back(&c);
    for (const Column* c : settings)
        if (c->kind == ColumnKind::setting && !shown(c) &&
            (is_named(*c) || varies(columns, *c, matches)))
            add(c);
    for (const auto& name : named)
        if (const Column* c = columns.find(name); c && c->kind == ColumnKind::result) add(c);
    return out;
}

}  // namespace

QueryResult query_table(const h5::File& file, const std::string& store, const Query& query) {
    const std::vector<std::string> sweeps = list_sweeps(file);
    if (query.sweep && std::find(sweeps.begin(), sweeps.end(), *query.sweep) == sweeps.end())
        throw InputError("--sweep: " + store + " holds no sweep '" + *query.sweep + "'");
    // Every sweep's index: names and values are checked against the whole store.
    std::vector<SweepIndex> indexes;
    for (const auto& sweep : sweeps) indexes.push_back(read_index(file, sweep));
    const StoreColumns columns(indexes);
    if (query.where) query.where->expression.check(columns, query.where->text);

    std::vector<std::string> axes;
    std::vector<Match> matches;
    for (const auto& index : indexes) {
        if (query.sweep && index.sweep != *query.sweep) continue;
        for (const auto& key : split_list(h5::read_string_attribute(
                 h5::Group::open(file.id(), schema::sweep_path(index.sweep)).id(), "axes")))
            if (std::find(axes.begin(), axes.end(), key) == axes.end()) axes.push_back(key);
        for (std::size_t row = 0; row < index.size(); ++row) {
            const bool keep =
                !query.where || query.where->expression.matches([&](const auto& name) {
                    return columns.value(index, row, name);
                });
            if (keep) matches.push_back({&index, row});
        }
    }

    const bool final_only = query.at.kind == RecordChoice::Kind::final;
    // Metric columns are named as in the store: index columns for final values, the series'
    // dataset paths along the trajectory (so "loss" the metric never clashes with "loss" the
    // setting). With final values, a result column is a metric of its own.
    // A series without an index column (a mode, THEORY §6.5) is read, its last record shown.
    std::vector<std::string> final_columns;
    std::vector<Series> series;
    // Per final column: the place in `series` of the series whose last record it shows, or -1.
    std::vector<long> read_last;
    for (const auto& m : query.metrics) {
        const Column* c = columns.find(m);
        read_last.push_back(-1);
        if (final_only && c && c->kind == ColumnKind::result) {
            final_columns.push_back(m);
        } else {
            series.push_back(query_series(m));
            const Series& s = series.back();
            if (!s.final_column.empty()) {
                final_columns.push_back(s.final_column);
            } else {
                final_columns.push_back((s.group == "theory" ? "theory_final_" : "final_") +
                                        s.name);
                read_last.back() = static_cast<long>(series.size() - 1);
            }
        }
    }
    std::vector<const Column*> shown = shown_columns(columns, query, axes, matches);
    if (final_only)  // a metric's column once, among the metrics
        shown.erase(std::remove_if(shown.begin(), shown.end(),
                                   [&](const Column* c) {
                                       return std::find(final_columns.begin(), final_columns.end(),
                                                        c->name) != final_columns.end();
                                   }),
                    shown.end());

    QueryResult result;
    result.runs = matches.size();
    Table& table = result.table;
    table.columns = {"sweep", "run_id", "status"};
    for (const Column* c : shown) table.columns.push_back(c->name);
    if (final_only) {
        table.columns.insert(table.columns.end(), final_columns.begin(), final_columns.end());
    } else {
        table.columns.insert(table.columns.end(), {"step", "t"});
        for (const Series& s : series) table.columns.push_back(s.path());
    }
    // Along the trajectory: the matched runs' series, one selection per sweep and dataset.
    std::map<const SweepIndex*, std::vector<std::size_t>> rows;
    for (const Match& m : matches) rows[m.index].push_back(m.row);
    struct Read {
        SweepSeries series;
        std::vector<std::vector<double>> values;
    };
    std::map<const SweepIndex*, Read> reads;
    const bool any_read_last =
        std::any_of(read_last.begin(), read_last.end(), [](long p) { return p >= 0; });
    if (!final_only || any_read_last)
        for (const auto& [index, matched] : rows) {
            Read r{SweepSeries(file, *index, matched), {}};
            for (const Series& s : series) r.values.push_back(r.series.read(s));
            reads.emplace(index, std::move(r));
        }
    std::map<const SweepIndex*, std::size_t> next;  // the match's place among its sweep's
    for (const Match& match : matches) {
        auto cell = [&](const std::string& name) {
            return columns.value(*match.index, match.row, name).value_or(Cell{NAN});
        };
        std::vector<Cell> head;
        for (const auto& name : {"sweep", "run_id", "status"}) head.push_back(cell(name));
        for (const Column* c : shown) head.push_back(cell(c->name));
        if (final_only) {
            for (const auto& column : final_columns) head.push_back(cell(column));
            if (any_read_last) {
                const Read& read = reads.at(match.index);
                const std::size_t i = next[match.index]++, count = read.series.records();
                std::size_t last = count;
                for (std::size_t r = 0; r < count; ++r)
                    if (read.series.steps(i)[r] >= 0) last = r;
                const std::size_t first_metric = head.size() - final_columns.size();
                for (std::size_t m = 0; m < final_columns.size(); ++m)
                    if (read_last[m] >= 0)
                        head[first_metric + m] =
                            Cell{last < count ? read.values[static_cast<std::size_t>(read_last[m])]
                                                           [i * count + last]
                                              : NAN};
            }
            table.rows.push_back(std::move(head));
            continue;
        }
        const Read& read = reads.at(match.index);
        const std::size_t i = next[match.index]++, count = read.series.records();
        const long long* steps = read.series.steps(i);
        const double* times = read.series.times(i);
        for (std::size_t r : chosen_records(steps, times, count, query.at)) {
            std::vector<Cell> cells = head;
            cells.push_back(static_cast<double>(steps[r]));
            cells.push_back(times[r]);
            for (const auto& v : read.values) cells.push_back(v[i * count + r]);
            table.rows.push_back(std::move(cells));
        }
    }
    return result;
}

}  // namespace ssldyn
