// `ssldyn report`: the Python report (analysis/ssldyn/report.py) under the same command name.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "core/install_roots.hpp"

namespace ssldyn::cli {

namespace {

// The folder holding the Python package ssldyn/: PREFIX/share/ssldyn/analysis next to an installed
// ssldyn, or analysis/ of the source tree of this build.
std::string package_root() {
    namespace fs = std::filesystem;
    std::error_code ec;
    std::vector<fs::path> candidates;
    for (const auto& root : install_roots()) candidates.push_back(root / "analysis");
    candidates.push_back(fs::path(SSLDYN_SOURCE_ROOT) / "analysis");
    for (const auto& candidate : candidates)
        if (fs::exists(candidate / "ssldyn" / "report.py", ec)) return candidate.string();
    std::string looked;
    for (const auto& candidate : candidates)
        looked += (looked.empty() ? "" : ", ") + candidate.string();
    throw RuntimeFailure("report: the Python package ssldyn (ssldyn/report.py) is in none of " +
                         looked);
}

}  // namespace

int report_command(const std::vector<std::string>& args) {
    const char* configured = std::getenv("SSLDYN_PYTHON");
    // Debian's interpreter has h5py, numpy and matplotlib; another python3 on PATH may not.
    const std::string python = configured                                    ? configured
                               : std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3"
                                                                             : "python3";
    const std::string root = package_root();
    const char* old_path = std::getenv("PYTHONPATH");
    const std::string path = root + (old_path && *old_path ? ":" + std::string(old_path) : "");
    setenv("PYTHONPATH", path.c_str(), 1);
    std::vector<std::string> words{python, "-m", "ssldyn.report"};
    words.insert(words.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    throw RuntimeFailure("report: cannot start " + python);
}

}  // namespace ssldyn::cli
