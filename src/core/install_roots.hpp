#pragma once
// Where an installed ssldyn keeps its shared files (analysis/, jobs/, data/): PREFIX/share/ssldyn
// next to the executable, then that of the prefix it was configured for.
#include <filesystem>
#include <vector>

namespace ssldyn {

std::vector<std::filesystem::path> install_roots();

}  // namespace ssldyn
