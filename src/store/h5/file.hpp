#pragma once
#include <string>
#include <vector>

#include "mpi/mpi.hpp"
#include "store/h5/group.hpp"

namespace ssldyn::h5 {

enum class Mode { read_only, read_write };

class File {
  public:
    // comm: open through MPI-IO for collective access by all its ranks (nullptr: serial).
    static File create(const std::string& path, const mpi::Communicator* comm = nullptr);
    static File open(const std::string& path, Mode mode, const mpi::Communicator* comm = nullptr);
    // A scratch file held in memory only (never written to disk).
    static File in_memory(const std::string& name);
    // An HDF5 file opened read-write in memory from its bytes (never written to disk); name
    // must not exist on disk.
    static File from_image(const std::string& name, const std::vector<unsigned char>& bytes);

    Group root() const;
    void flush() const;
    // The bytes of the file as it stands: what a file on disk would hold after a close.
    std::vector<unsigned char> image() const;
    void close() { handle_.reset(); }
    hid_t id() const { return handle_.id(); }

  private:
    explicit File(Handle h) : handle_(std::move(h)) {}
    Handle handle_;
};

// Whether a file is HDF5 at all (without raising an HDF5 error).
bool is_hdf5(const std::string& path);

}  // namespace ssldyn::h5
