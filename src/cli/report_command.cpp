// `ssldyn report`: the Python report (analysis/report.py) under the same command name.
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

// The folder holding analysis/: next to an installed ssldyn (PREFIX/share/ssldyn), or the
// source tree of this build.
std::string analysis_root() {
    namespace fs = std::filesystem;
    std::error_code ec;
    std::vector<fs::path> candidates = install_roots();
    candidates.emplace_back(SSLDYN_SOURCE_ROOT);
    for (const auto& candidate : candidates)
        if (fs::exists(candidate / "analysis" / "report.py", ec)) return candidate.string();
    throw RuntimeFailure("report: the analysis package was not found next to this ssldyn");
}

}  // namespace

int report_command(const std::vector<std::string>& args) {
    const char* configured = std::getenv("SSLDYN_PYTHON");
    // Debian's interpreter has h5py, numpy and matplotlib; another python3 on PATH may not.
    const std::string python = configured                                    ? configured
                               : std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3"
                                                                             : "python3";
    const std::string root = analysis_root();
    const char* old_path = std::getenv("PYTHONPATH");
    const std::string path = root + (old_path && *old_path ? ":" + std::string(old_path) : "");
    setenv("PYTHONPATH", path.c_str(), 1);
    std::vector<std::string> words{python, "-m", "analysis.report"};
    words.insert(words.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    throw RuntimeFailure("report: cannot start " + python);
}

}  // namespace ssldyn::cli
