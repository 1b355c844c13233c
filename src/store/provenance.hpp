#pragma once
// What a run records about where and with what it ran (DESIGN.md "Provenance").
#include <string>

namespace ssldyn {

struct Provenance {
    std::string program_version;
    std::string git_commit;
    bool git_dirty = false;
    std::string host;
    std::string mpi_library;
    std::string hdf5_library;
    int blas_threads = 1;
    std::string blas_library;
    int mpi_ranks = 1;
    int group_size = 1;
    long long distribute_above = 0;  // matrices of more entries spread over a run group
    long long block_size = 0;        // their block-cyclic block size
    std::string grid = "auto";       // the process grid of C in a group
};

Provenance current_provenance();
std::string version_text();  // "ssldyn 0.1.0 (commit abc123)"

}  // namespace ssldyn
