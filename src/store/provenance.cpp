#include "store/provenance.hpp"

#include <unistd.h>

#include "core/version.hpp"
#include "linalg/blas.hpp"
#include "mpi/mpi.hpp"
#include "store/h5/handle.hpp"

namespace ssldyn {

Provenance current_provenance() {
    Provenance p;
    p.program_version = SSLDYN_VERSION;
    p.git_commit = SSLDYN_GIT_COMMIT;
    p.git_dirty = SSLDYN_GIT_DIRTY != 0;
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) == 0) p.host = host;
    p.mpi_library = mpi::library_version();
    p.hdf5_library = h5::library_version();
    p.blas_threads = blas_threads();
    p.blas_library = blas_library();
    p.mpi_ranks = mpi::Communicator::world().size();
    return p;
}

std::string version_text() {
    std::string commit = SSLDYN_GIT_COMMIT;
    if (SSLDYN_GIT_DIRTY) commit += ", modified";
    return std::string("ssldyn ") + SSLDYN_VERSION + " (commit " + commit + ")";
}

}  // namespace ssldyn
