#include "cli/config_options.hpp"

#include <filesystem>
#include <fstream>

#include "core/error.hpp"

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
        std::error_code ec;
        if (std::filesystem::is_directory(path, ec))
            throw InputError(path + ": is a folder, not a config file");
        std::ifstream in(path);
        if (!in) throw InputError(path + ": cannot open config file");
        try {
            // Stored after the command line, so the command line wins.
            po::store(po::parse_config_file(in, file_options, false), vm);
        } catch (const po::error& e) {
            throw InputError(path + ": " + e.what());
        }
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

}  // namespace ssldyn::cli
