#pragma once
// Fixed-size numeric datasets, written and read whole. Space is allocated at creation so
// that later writes touch raw data only (DESIGN.md "The HDF5 store").
#include <string>
#include <vector>

#include "store/h5/handle.hpp"

namespace ssldyn::h5 {

class Dataset {
  public:
    // Row-major dims, as h5py and h5dump show them.
    static Dataset create_doubles(hid_t parent, const std::string& name, std::vector<hsize_t> dims);
    static Dataset create_integers(hid_t parent, const std::string& name,
                                   std::vector<hsize_t> dims);
    static Dataset open(hid_t parent, const std::string& name);

    void write(const double* values) const;
    void write(const long long* values) const;
    std::vector<hsize_t> dims() const;
    std::vector<double> read_doubles() const;
    std::vector<long long> read_integers() const;
    hid_t id() const { return handle_.id(); }

  private:
    explicit Dataset(Handle h) : handle_(std::move(h)) {}
    static Dataset create(hid_t parent, const std::string& name, hid_t type,
                          const std::vector<hsize_t>& dims);
    Handle handle_;
};

}  // namespace ssldyn::h5
