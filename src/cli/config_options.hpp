#pragma once
// Boost.Program_options glue: every run setting as a --key option and as an INI key, the
// command line overriding the file. Parse errors become InputErrors naming the input.
#include <boost/program_options.hpp>
#include <string>
#include <vector>

#include "config/run_config.hpp"
#include "core/progress.hpp"

namespace ssldyn::cli {

namespace po = boost::program_options;

// The run settings as string-valued options (the ConfigKey table parses them).
po::options_description settings_options();

// Command line, then the INI file named by --config (if any), then defaults.
po::variables_map parse(const std::vector<std::string>& args,
                        const po::options_description& command_line,
                        const po::positional_options_description& positional,
                        const po::options_description& file_options, bool read_config = true);

// Defaults with every setting found in vm applied, validated.
RunConfig run_config_from(const po::variables_map& vm);

// --quiet, --progress MODE and --progress-every SECONDS, shared by run and sweep.
po::options_description progress_options();
ProgressStyle progress_style(const po::variables_map& vm);

}  // namespace ssldyn::cli
