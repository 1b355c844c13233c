#include "core/install_roots.hpp"

namespace ssldyn {

std::vector<std::filesystem::path> install_roots() {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    return {exe.parent_path().parent_path() / "share" / "ssldyn", SSLDYN_INSTALL_DATA_ROOT};
}

}  // namespace ssldyn
