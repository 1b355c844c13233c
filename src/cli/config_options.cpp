#include "cli/config_options.hpp"

#include <cmath>
#include <map>

#include "config/ini.hpp"
#include "core/error.hpp"
#include "core/format.hpp"

namespace ssldyn::cli {

po::options_description settings_options() {
    po::options_description settings("Run settings (also as key = value lines in the config file)");
    for (const auto& key : config_keys()) {
        const std::string name(key.name);
        settings.add_options()(
            name.c_str(), po::value<std::string>()->value_name("VALUE"),
            (std::string(key.help) + " [" + key.print(RunConfig{}) + "]").c_str());
    }
    return settings;
}

namespace {

// The settings of a run config file as options, each checked where it stands: an unknown key, a
// key given twice, a section, or (unless the command line sets the key) a value its key refuses
// is an InputError naming the file and the line.
po::parsed_options config_file_options(const std::string& path,
                                       const po::options_description& file_options,
                                       const po::variables_map& command_line) {
    po::parsed_options parsed(&file_options);
    std::map<std::string, int> first_line;
    RunConfig scratch;
    for (const IniEntry& entry : parse_ini(read_config_file(path, "config file"), path)) {
        const std::string where = ini_place(path, entry.line) + ": ";
        if (!entry.section.empty())
            throw InputError(where + "[" + entry.section + "] " + entry.key +
                             ": a run config has no sections (key = value lines)");
        if (!file_options.find_nothrow(entry.key, false))
            throw InputError(where + "unknown setting " + echoed(entry.key) +
                             " (see ssldyn run --help)");
        if (const auto [it, first] = first_line.emplace(entry.key, entry.line); !first)
            throw InputError(where + entry.key + ": given twice (first on line " +
                             std::to_string(it->second) + ")");
        if (!command_line.count(entry.key)) try {
                set_value(scratch, entry.key, entry.value);
            } catch (const InputError& e) {
                throw InputError(where + e.what());
            }
        parsed.options.emplace_back(entry.key, std::vector<std::string>{entry.value});
    }
    return parsed;
}

}  // namespace

po::variables_map parse(const std::vector<std::string>& args,
                        const po::options_description& command_line,
                        const po::positional_options_description& positional,
                        const po::options_description& file_options, bool read_config) {
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(command_line).positional(positional).run(),
                  vm);
    } catch (const po::error& e) {
        throw InputError(std::string("command line: ") + e.what());
    }
    if (read_config && vm.count("config")) {
        const auto path = vm["config"].as<std::string>();
        // Stored after the command line, so the command line wins.
        po::store(config_file_options(path, file_options, vm), vm);
    }
    po::notify(vm);
    return vm;
}

RunConfig run_config_from(const po::variables_map& vm) {
    RunConfig config;
    for (const auto& key : config_keys()) {
        const std::string name(key.name);
        if (vm.count(name)) key.parse(config, vm[name].as<std::string>());
    }
    validate(config);
    return config;
}

po::options_description progress_options() {
    po::options_description options("Progress");
    options.add_options()("quiet,q", "no progress (as --progress none)")(
        "progress", po::value<std::string>()->value_name("MODE")->default_value("auto"),
        "progress on stderr: auto (a live line on a terminal, else a line every "
        "--progress-every seconds), live, lines or none")(
        "progress-every", po::value<double>()->value_name("SECONDS")->default_value(10, "10"),
        "seconds between progress lines when they are not live");
    return options;
}

ProgressStyle progress_style(const po::variables_map& vm) {
    ProgressStyle style;
    style.mode = parse_name(progress_mode_names, vm["progress"].as<std::string>(), "--progress");
    if (vm.count("quiet")) style.mode = ProgressMode::none;
    style.every = vm["progress-every"].as<double>();
    if (!(style.every > 0) || !std::isfinite(style.every))
        throw InputError("--progress-every: must be a positive number of seconds");
    return style;
}

}  // namespace ssldyn::cli
