#pragma once
#include <string>
#include <vector>

namespace ssldyn::cli {

// Each command takes its arguments (after the command name) and returns an exit code;
// errors propagate as exceptions to main().
int run_command(const std::vector<std::string>& args);
int sweep_command(const std::vector<std::string>& args);
int merge_command(const std::vector<std::string>& args);
int ls_command(const std::vector<std::string>& args);
int query_command(const std::vector<std::string>& args);
int report_command(const std::vector<std::string>& args);
int upgrade_command(const std::vector<std::string>& args);

}  // namespace ssldyn::cli
