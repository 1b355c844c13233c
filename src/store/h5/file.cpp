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

// HDF5's core driver without a backing file, growing by `increment` bytes.
Handle memory_plist(std::size_t increment) {
    Handle fapl = own_plist(H5Pcreate(H5P_FILE_ACCESS), "H5Pcreate");
    check(H5Pset_fapl_core(fapl.id(), increment, false), "H5Pset_fapl_core");
    check(H5Pset_libver_bounds(fapl.id(), H5F_LIBVER_EARLIEST, H5F_LIBVER_V18),
          "H5Pset_libver_bounds");
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

File File::in_memory(const std::string& name) {
    silence_error_printing();
    const Handle fapl = memory_plist(std::size_t{1} << 20);
    return File({check(H5Fcreate(name.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.id()),
                       "H5Fcreate (in memory)"),
                 H5Fclose});
}

File File::from_image(const std::string& name, const std::vector<unsigned char>& bytes) {
    silence_error_printing();
    const Handle fapl = memory_plist(std::size_t{1} << 24);
    check(H5Pset_file_image(fapl.id(), const_cast<unsigned char*>(bytes.data()), bytes.size()),
          "H5Pset_file_image");
    return File(
        {check(H5Fopen(name.c_str(), H5F_ACC_RDWR, fapl.id()), "H5Fopen (in memory)"), H5Fclose});
}

Group File::root() const {
    return Group::open(handle_.id(), "/");
}

void File::flush() const {
    check(H5Fflush(handle_.id(), H5F_SCOPE_GLOBAL), "H5Fflush");
}

std::vector<unsigned char> File::image() const {
    flush();
    const auto size = check(H5Fget_file_image(handle_.id(), nullptr, 0), "H5Fget_file_image");
    std::vector<unsigned char> bytes(static_cast<std::size_t>(size));
    check(H5Fget_file_image(handle_.id(), bytes.data(), bytes.size()), "H5Fget_file_image");
    return bytes;
}

bool is_hdf5(const std::string& path) {
    silence_error_printing();
    const htri_t r = H5Fis_hdf5(path.c_str());
    H5Eclear2(H5E_DEFAULT);
    return r > 0;
}

}  // namespace ssldyn::h5
