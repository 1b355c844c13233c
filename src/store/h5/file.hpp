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

    Group root() const;
    void close() { handle_.reset(); }
    hid_t id() const { return handle_.id(); }

  private:
    explicit File(Handle h) : handle_(std::move(h)) {}
    Handle handle_;
};

// Whether a file is HDF5 at all (without raising an HDF5 error).
bool is_hdf5(const std::string& path);

}  // namespace ssldyn::h5
