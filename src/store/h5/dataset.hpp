#pragma once
// Fixed-size datasets of doubles, 64-bit integers and fixed-length strings. Space is allocated
// at creation (filled with NaN, a chosen integer, or empty strings), so that later writes touch
// raw data only (DESIGN.md "The HDF5 store").
#include <string>
#include <vector>

#include "store/h5/handle.hpp"

namespace ssldyn::h5 {

class Dataset {
  public:
    // Row-major dims, as h5py and h5dump show them.
    static Dataset create_doubles(hid_t parent, const std::string& name,
                                  const std::vector<hsize_t>& dims);
    static Dataset create_integers(hid_t parent, const std::string& name,
                                   const std::vector<hsize_t>& dims, long long fill = 0);
    // A 1-D dataset of `count` strings of at most `length` bytes each.
    static Dataset create_strings(hid_t parent, const std::string& name, hsize_t count,
                                  std::size_t length);
    static Dataset open(hid_t parent, const std::string& name);

    void write(const double* values) const;
    void write(const long long* values) const;
    void write(const std::vector<std::string>& values) const;  // strings longer than the
                                                               // dataset's length are cut
    // One element of a 1-D dataset.
    void write_at(hsize_t i, double value) const;
    void write_at(hsize_t i, long long value) const;
    void write_at(hsize_t i, const std::string& value) const;

    std::vector<hsize_t> dims() const;
    std::vector<double> read_doubles() const;
    std::vector<long long> read_integers() const;
    std::vector<std::string> read_strings() const;
    double read_double_at(hsize_t i) const;
    bool is_string() const;
    hid_t id() const { return handle_.id(); }

  private:
    explicit Dataset(Handle h) : handle_(std::move(h)) {}
    void write_element(hsize_t i, hid_t memory_type, const void* value) const;
    std::size_t string_length() const;
    Handle handle_;
};

}  // namespace ssldyn::h5
