// `ssldyn ls` and `ssldyn query`: what a store holds, read from the sweeps' index tables.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <set>

#include "cli/commands.hpp"
#include "cli/config_options.hpp"
#include "core/error.hpp"
#include "core/format.hpp"
#include "query/filter.hpp"
#include "query/table.hpp"
#include "store/h5/attribute.hpp"
#include "store/h5/dataset.hpp"
#include "store/index_reader.hpp"
#include "store/schema.hpp"
#include "store/sweep_store.hpp"

namespace ssldyn::cli {

namespace {

constexpr NameTable<TableFormat, 3> format_names{{
    {TableFormat::table, "table"},
    {TableFormat::csv, "csv"},
    {TableFormat::json, "json"},
}};

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

// A metric's dataset in a run: "effective_rank" (gradient descent) or "theory_effective_rank".
struct MetricSource {
    std::string group, dataset, final_column;
};

MetricSource metric_source(const std::string& name) {
    const bool theory = name.rfind("theory_", 0) == 0 && name != "theory_distance";
    const std::string base = theory ? name.substr(7) : name;
    if (base == "theory_distance") return {"trajectory", base, "final_theory_distance"};
    for (const auto& m : schema::metrics())
        if (base == m.name)
            return {theory ? "theory" : "trajectory", base,
                    (theory ? "theory_final_" : "final_") + base};
    std::string known = "theory_distance";
    for (const auto& m : schema::metrics()) known += std::string(", ") + m.name;
    throw InputError("--metric: unknown metric '" + name + "' (metrics: " + known +
                     ", each also with the prefix theory_ for the flow)");
}

std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> out;
    std::string item;
    for (char ch : text + ",") {
        if (ch == ',') {
            if (!item.empty()) out.push_back(item);
            item.clear();
        } else if (ch != ' ') {
            item += ch;
        }
    }
    return out;
}

// Parses a command whose one positional argument is the store; nullopt after --help.
std::optional<po::variables_map> parse_store_command(const std::vector<std::string>& args,
                                                     po::options_description& options) {
    options.add_options()("store", po::value<std::string>(), "store");
    po::positional_options_description positional;
    positional.add("store", 1);
    auto vm = parse(args, options, positional, po::options_description(), false);
    if (vm.count("help")) {
        std::cout << options << "\n";
        return std::nullopt;
    }
    if (!vm.count("store")) throw InputError("command line: a store is required");
    return vm;
}

// The sweeps of a store and their runs by status.
Table sweep_listing(const h5::File& file) {
    Table table{{"sweep", "runs", "done", "failed", "running", "pending", "axes"}, {}};
    for (const auto& sweep : list_sweeps(file)) {
        const auto status = read_statuses(file, sweep);
        auto count = [&](RunStatus s) {
            return static_cast<double>(std::count(status.begin(), status.end(), s));
        };
        const auto group = h5::Group::open(file.id(), schema::sweep_path(sweep));
        std::vector<Cell> row;
        row.emplace_back(sweep);
        row.emplace_back(static_cast<double>(status.size()));
        for (RunStatus s :
             {RunStatus::done, RunStatus::failed, RunStatus::running, RunStatus::pending})
            row.emplace_back(count(s));
        row.emplace_back(h5::read_string_attribute(group.id(), "axes"));
        table.rows.push_back(std::move(row));
    }
    return table;
}

// Why runs failed: the first few of each sweep with their axis values.
std::string failed_listing(const h5::File& file, const std::string& store) {
    std::string out;
    char line[64];
    for (const auto& sweep : list_sweeps(file)) {
        const SweepIndex index = read_index(file, sweep);
        const auto group = h5::Group::open(file.id(), schema::sweep_path(sweep));
        const std::string axes = h5::read_string_attribute(group.id(), "axes");
        std::vector<std::size_t> failed;
        for (std::size_t r = 0; r < index.size(); ++r)
            if (index.status[r] == RunStatus::failed) failed.push_back(r);
        if (failed.empty()) continue;
        out += "\nfailed runs of " + sweep + ":\n";
        constexpr std::size_t shown = 5;
        for (std::size_t i = 0; i < std::min(failed.size(), shown); ++i) {
            const std::size_t r = failed[i];
            std::string values;
            for (const auto& key : split_list(axes))
                values += (values.empty() ? "" : " ") + key + "=" + index.config.at(key)[r];
            out += "  " + index.run_ids[r] + "  " + values + ": " + index.texts.at("failure")[r] +
                   "\n";
        }
        if (failed.size() > shown) {
            std::snprintf(line, sizeof line, "  ... and %zu more", failed.size() - shown);
            out += std::string(line) + " (ssldyn query " + store + " --sweep " + sweep +
                   " --where status==failed --metric failure)\n";
        }
    }
    return out;
}

// The rows of `ssldyn query` (the options checked already).
Table query_table(const h5::File& file, const std::string& path, const po::variables_map& vm,
                  const Filter& filter, const std::vector<std::string>& metrics,
                  const std::string& at, double at_t) {
    std::vector<std::string> sweeps = list_sweeps(file);
    if (vm.count("sweep")) {
        const std::string name = vm["sweep"].as<std::string>();
        if (std::find(sweeps.begin(), sweeps.end(), name) == sweeps.end())
            throw InputError("--sweep: " + path + " holds no sweep '" + name + "'");
        sweeps = {name};
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
    for (const auto& name : filter.names()) {
        const bool known = std::any_of(indexes.begin(), indexes.end(), [&](const SweepIndex& i) {
            return name == "sweep" || name == "run_id" || name == "status" ||
                   i.config.count(name) || i.numbers.count(name) || i.texts.count(name);
        });
        if (!known && !indexes.empty())
            throw InputError("--where: unknown name '" + name +
                             "' (names: settings, status, run_id, sweep and result columns such "
                             "as final_effective_rank)");
        if (name != "sweep" && name != "run_id" && name != "status") add_key(name);
    }
    const bool final_only = at == "final";
    std::vector<std::string> final_columns;
    for (const auto& m : metrics) {
        const bool is_column = std::any_of(
            indexes.begin(), indexes.end(),
            [&](const SweepIndex& i) { return i.numbers.count(m) || i.texts.count(m); });
        if (final_only && is_column)
            final_columns.push_back(m);
        else
            final_columns.push_back(metric_source(m).final_column);
    }
    Table table;
    table.columns = {"sweep", "run_id", "status"};
    table.columns.insert(table.columns.end(), keys.begin(), keys.end());
    if (!final_only) table.columns.insert(table.columns.end(), {"step", "t"});
    // Metric columns are named as in the store: index columns for final values, dataset paths
    // of the run along the trajectory (so "loss" the metric never clashes with "loss" the setting).
    for (std::size_t i = 0; i < metrics.size(); ++i) {
        if (final_only) {
            table.columns.push_back(final_columns[i]);
        } else {
            const MetricSource source = metric_source(metrics[i]);
            table.columns.push_back(source.group + "/" + source.dataset);
        }
    }

    for (const auto& index : indexes) {
        for (std::size_t row = 0; row < index.size(); ++row) {
            const bool keep =
                filter.matches([&](const std::string& name) -> std::optional<std::string> {
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
            // Along the trajectory: read this run's datasets (only the runs that matched).
            const auto run =
                h5::Group::open(file.id(), schema::run_path(index.sweep, index.run_ids[row]));
            const auto steps = h5::Dataset::open(run.id(), "trajectory/step").read_integers();
            const auto times = h5::Dataset::open(run.id(), "trajectory/t").read_doubles();
            std::vector<std::vector<double>> values;
            for (const auto& m : metrics) {
                const MetricSource source = metric_source(m);
                values.push_back(h5::Dataset::open(run.id(), source.group + "/" + source.dataset)
                                     .read_doubles());
            }
            std::vector<std::size_t> records;
            for (std::size_t r = 0; r < steps.size(); ++r)
                if (steps[r] >= 0) records.push_back(r);
            if (!final_only && at != "all" && !records.empty()) {
                std::size_t best = records.front();
                for (std::size_t r : records)
                    if (std::fabs(times[r] - at_t) < std::fabs(times[best] - at_t)) best = r;
                records = {best};
            }
            for (std::size_t r : records) {
                std::vector<Cell> cells = head;
                cells.push_back(static_cast<double>(steps[r]));
                cells.push_back(times[r]);
                for (const auto& v : values) cells.push_back(v[r]);
                table.rows.push_back(std::move(cells));
            }
        }
    }
    return table;
}

}  // namespace

int ls_command(const std::vector<std::string>& args) {
    po::options_description options(
        "ssldyn ls STORE [--sweeps]\n\nThe sweeps of a store and their runs by status.\n\n"
        "Options");
    options.add_options()("help,h", "show this help")(
        "sweeps", "only the names of the sweeps, one a line (for scripts)");
    const auto parsed = parse_store_command(args, options);
    if (!parsed) return exit_ok;
    const std::string path = (*parsed)["store"].as<std::string>();
    const h5::File file = open_store(path);
    if (parsed->count("sweeps")) {
        for (const auto& sweep : read_store(path, [&] { return list_sweeps(file); }))
            std::printf("%s\n", sweep.c_str());
        return exit_ok;
    }
    const Table table = read_store(path, [&] { return sweep_listing(file); });
    const std::string failures = read_store(path, [&] { return failed_listing(file, path); });
    std::fputs(render(table, TableFormat::table).c_str(), stdout);
    std::fputs(failures.c_str(), stdout);
    return exit_ok;
}

int query_command(const std::vector<std::string>& args) {
    po::options_description options(
        "ssldyn query STORE [options]\n\nConfig values and metrics of the runs of a store, "
        "filtered; final values come from the sweeps' index tables.\n\nOptions");
    options.add_options()("help,h", "show this help")(
        "sweep", po::value<std::string>()->value_name("NAME"), "only this sweep")(
        "where", po::value<std::string>()->value_name("EXPR"),
        "comparisons joined by 'and' over settings, status and result columns, "
        "e.g. 'k>=16 and loss==contrastive and final_effective_rank<1.5'")(
        "metric",
        po::value<std::string>()->value_name("M,...")->default_value(
            "loss,effective_rank,s2_s1,topk_sin_angle,theory_distance"),
        "metrics (theory_ prefix: the flow's); with --at final also any result column")(
        "at", po::value<std::string>()->value_name("WHEN")->default_value("final"),
        "final, all (every record) or t=VALUE (the record nearest to t)")(
        "format", po::value<std::string>()->value_name("F")->default_value("table"),
        "table, csv or json");
    const auto parsed = parse_store_command(args, options);
    if (!parsed) return exit_ok;
    const po::variables_map& vm = *parsed;
    const auto format = parse_name(format_names, vm["format"].as<std::string>(), "--format");
    const std::string at = vm["at"].as<std::string>();
    double at_t = 0.0;
    if (at.rfind("t=", 0) == 0) {
        char* end = nullptr;
        at_t = std::strtod(at.c_str() + 2, &end);
        if (at.size() == 2 || *end != '\0' || !std::isfinite(at_t))
            throw InputError("--at: '" + at + "' is not t=NUMBER");
    } else if (at != "final" && at != "all") {
        throw InputError("--at: '" + at + "' (choose final, all or t=VALUE)");
    }
    const Filter filter = vm.count("where") ? Filter(vm["where"].as<std::string>()) : Filter();
    const auto metrics = split_list(vm["metric"].as<std::string>());
    if (metrics.empty()) throw InputError("--metric: no metric named");

    const std::string path = vm["store"].as<std::string>();
    const h5::File file = open_store(path);
    const Table table =
        read_store(path, [&] { return query_table(file, path, vm, filter, metrics, at, at_t); });
    std::fputs(render(table, format).c_str(), stdout);
    return exit_ok;
}

}  // namespace ssldyn::cli
