#pragma once
// Writes one run (its trajectory, its theory, initial weights, spectrum and provenance)
// under /sweeps/<sweep>/runs/<id>.
#include <string>

#include "core/provenance.hpp"
#include "run/simulation.hpp"
#include "store/h5/file.hpp"

namespace ssldyn {

// Marks a new file as a store: schema_version and creator at the root.
void initialise_store(const h5::File& file);

void write_run(const h5::File& file, const std::string& sweep, const RunResult& result,
               const Provenance& provenance);

// A store holding one run, written under a temporary name and renamed into place, so that
// an existing file is replaced whole or not at all. Bad paths are InputErrors.
void write_single_run_store(const std::string& path, const std::string& sweep,
                            const RunResult& result, const Provenance& provenance);

// Checks, before any work, that a single-run store can be written at path.
void check_store_target(const std::string& path, bool overwrite);

}  // namespace ssldyn
