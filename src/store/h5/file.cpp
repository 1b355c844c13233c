#include "store/h5/file.hpp"

namespace ssldyn::h5 {

namespace {

Handle access_plist(const mpi::Communicator* comm) {
    Handle fapl = own_plist(H5Pcreate(H5P_FILE_ACCESS), "H5Pcreate");
    // At most the 1.8 format: creation order and dense attributes, but no superblock v3,
    // whose consistency flags would make a file left by a killed writer unreadable until
    // h5clear is run on it.
    check(H5Pset_libver_bounds(fapl.id(), H5F_LIBVER_EARLIEST, H5F_LIBVER_V18),
          "H5Pset_libver_bounds");
    if (comm) {
        check(H5Pset_fapl_mpio(fapl.id(), comm->handle(), mpi::no_hints()), "H5Pset_fapl_mpio");
        // Metadata is created before the runs; during them each rank opens datasets on its
        // own (independent metadata reads) and writes raw data only.
        check(H5Pset_coll_metadata_write(fapl.id(), true), "H5Pset_coll_metadata_write");
    }
    return fapl;
}

}  // namespace

File File::create(const std::string& path, const mpi::Communicator* comm) {
    silence_error_printing();
    const Handle fapl = access_plist(comm);
    return File({check(H5Fcreate(path.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, fapl.id()),
                       ("H5Fcreate " + path).c_str()),
                 H5Fclose});
}

File File::open(const std::string& path, Mode mode, const mpi::Communicator* comm) {
    silence_error_printing();
    const Handle fapl = access_plist(comm);
    const unsigned flags = mode == Mode::read_only ? H5F_ACC_RDONLY : H5F_ACC_RDWR;
    return File(
        {check(H5Fopen(path.c_str(), flags, fapl.id()), ("H5Fopen " + path).c_str()), H5Fclose});
}

Group File::root() const {
    return Group::open(handle_.id(), "/");
}

bool is_hdf5(const std::string& path) {
    silence_error_printing();
    const htri_t r = H5Fis_hdf5(path.c_str());
    H5Eclear2(H5E_DEFAULT);
    return r > 0;
}

}  // namespace ssldyn::h5
