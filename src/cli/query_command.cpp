// `ssldyn ls` and `ssldyn query`: what a store holds, read from the sweeps' index tables.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/config_options.hpp"
#include "core/error.hpp"
#include "core/lists.hpp"
#include "query/listing.hpp"
#include "query/store_query.hpp"
#include "store/sweep_store.hpp"

namespace ssldyn::cli {

namespace {

constexpr NameTable<TableFormat, 3> format_names{{
    {TableFormat::table, "table"},
    {TableFormat::csv, "csv"},
    {TableFormat::json, "json"},
}};

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

}  // namespace

int ls_command(const std::vector<std::string>& args) {
    po::options_description options(
        "ssldyn ls STORE [--sweeps] [-v] [--format table|csv|json]\n\nThe sweeps of a store and "
        "their runs by status.\n\n"
        "Options");
    options.add_options()("help,h", "show this help")(
        "sweeps", "only the names of the sweeps, one a line (for scripts)")(
        "verbose,v",
        "also each sweep's history: the jobs that started, resumed or merged it (when, how they "
        "ended, runs, ranks, hosts, SLURM job, user, command line, build)")(
        "format", po::value<std::string>()->value_name("F")->default_value("table"),
        ("output format of the sweeps' counts; one of: " + choices_of(format_names)).c_str());
    const auto parsed = parse_store_command(args, options);
    if (!parsed) return exit_ok;
    const std::string path = (*parsed)["store"].as<std::string>();
    const h5::File file = open_store(path);
    if (parsed->count("sweeps")) {
        for (const auto& sweep : read_store(path, [&] { return list_sweeps(file); }))
            std::printf("%s\n", sweep.c_str());
        return exit_ok;
    }
    const auto format = parse_name(format_names, (*parsed)["format"].as<std::string>(), "--format");
    const Table table = read_store(path, [&] { return sweep_listing(file); });
    if (format != TableFormat::table) {
        std::fputs(render(table, format).c_str(), stdout);
        return exit_ok;
    }
    const std::string failures = read_store(path, [&] { return failed_listing(file, path); });
    std::fputs(render(table, TableFormat::table).c_str(), stdout);
    std::fputs(failures.c_str(), stdout);
    if (parsed->count("verbose"))
        std::fputs(read_store(path, [&] { return history_listing(file); }).c_str(), stdout);
    return exit_ok;
}

int query_command(const std::vector<std::string>& args) {
    po::options_description options(
        "ssldyn query STORE [options]\n\nConfig values and metrics of the runs of a store, "
        "filtered; final values come from the sweeps' index tables.\n\nOptions");
    options.add_options()("help,h", "show this help")(
        "sweep", po::value<std::string>()->value_name("NAME"), "only this sweep")(
        "where", po::value<std::string>()->value_name("EXPR"),
        "runs whose settings, result columns, status, sweep or run_id satisfy EXPR: comparisons "
        "(== != < <= > >=, in (a, b)) joined by and, or, not and parentheses, e.g. "
        "'(k==2 or k>=16) and loss==contrastive and final_effective_rank<1.5'")(
        "columns", po::value<std::string>()->value_name("C,..."),
        "settings and result columns to show (all: every one); default: the settings named in "
        "--where and those that differ among the matching runs")(
        "metric",
        po::value<std::string>()->value_name("M,...")->default_value(
            "loss,effective_rank,s2_s1,topk_sin_angle,theory_distance"),
        "metrics (theory_ prefix: the theory's; two-layer runs also their network/ values); with "
        "--at final also any result column")(
        "at", po::value<std::string>()->value_name("WHEN")->default_value("final"),
        "final, all (every record) or t=VALUE (the record nearest to t)")(
        "format", po::value<std::string>()->value_name("F")->default_value("table"),
        ("output format; one of: " + choices_of(format_names)).c_str());
    const auto parsed = parse_store_command(args, options);
    if (!parsed) return exit_ok;
    const po::variables_map& vm = *parsed;
    const auto format = parse_name(format_names, vm["format"].as<std::string>(), "--format");
    const std::string at = vm["at"].as<std::string>();
    Query query;
    if (at.rfind("t=", 0) == 0) {
        char* end = nullptr;
        query.at = {RecordChoice::Kind::nearest, std::strtod(at.c_str() + 2, &end)};
        if (at.size() == 2 || *end != '\0' || !std::isfinite(query.at.t))
            throw InputError("--at: '" + at + "' is not t=NUMBER");
    } else if (at == "all") {
        query.at.kind = RecordChoice::Kind::all;
    } else if (at != "final") {
        throw InputError("--at: '" + at + "' (choose final, all or t=VALUE)");
    }
    if (vm.count("sweep")) query.sweep = vm["sweep"].as<std::string>();
    if (vm.count("where")) query.where = parse_where(vm["where"].as<std::string>());
    if (vm.count("columns")) {
        query.columns = split_list(vm["columns"].as<std::string>());
        if (query.columns->empty()) throw InputError("--columns: no column named");
    }
    query.metrics = split_list(vm["metric"].as<std::string>());
    if (query.metrics.empty()) throw InputError("--metric: no metric named");

    const std::string path = vm["store"].as<std::string>();
    const h5::File file = open_store(path);
    const QueryResult result = read_store(path, [&] { return query_table(file, path, query); });
    std::fputs(render(result.table, format).c_str(), stdout);
    if (result.runs == 0) {  // a valid query: not an error, but worth saying
        std::string what = "no run of " + path;
        if (query.sweep) what += " in sweep " + *query.sweep;
        what += query.where ? " matches --where '" + query.where->text + "'" : " to show";
        std::fprintf(stderr, "ssldyn: note: %s\n", what.c_str());
    }
    return exit_ok;
}

}  // namespace ssldyn::cli
