#pragma once
// Fixed-size datasets of doubles, 64-bit integers, int8 enumerations and fixed-length strings.
// Space is allocated at creation (filled with NaN, a chosen integer, or empty strings, unless
// told not to), so that later writes touch raw data only (DESIGN.md "The HDF5 store"). Small
// tables that grow a row at a time (a sweep's events) are 1-D, chunked and extendible; their
// strings are of variable length.
#include <string>
#include <vector>

#include "store/h5/handle.hpp"

namespace ssldyn::h5 {

class Dataset {
  public:
    // Row-major dims, as h5py and h5dump show them. filled = false leaves the space as the file
    // holds it (a large block whose every slot is written before it is read).
    static Dataset create_doubles(hid_t parent, const std::string& name,
                                  const std::vector<hsize_t>& dims, bool filled = true);
    static Dataset create_integers(hid_t parent, const std::string& name,
                                   const std::vector<hsize_t>& dims, long long fill = 0);
    // A 1-D dataset of `count` strings of at most `length` bytes each.
    static Dataset create_strings(hid_t parent, const std::string& name, hsize_t count,
                                  std::size_t length);
    // A 1-D HDF5 enumeration over int8: names[i] has the value i. Read and written as integers.
    static Dataset create_enum(hid_t parent, const std::string& name, hsize_t count,
                               const std::vector<std::string>& names, long long fill);
    static Dataset open(hid_t parent, const std::string& name);
    // A 1-D dataset of no rows, extendible without bound (grow): doubles, integers or
    // variable-length UTF-8 strings.
    enum class Element { number, integer, text };
    static Dataset create_growing(hid_t parent, const std::string& name, Element element);
    // Extends a growing dataset to `rows` rows.
    void grow(hsize_t rows) const;

    void write(const double* values) const;
    void write(const long long* values) const;
    void write(const std::vector<std::string>& values) const;  // strings longer than the
                                                               // dataset's length are cut
    // One element of a 1-D dataset.
    void write_at(hsize_t i, double value) const;
    void write_at(hsize_t i, long long value) const;
    void write_at(hsize_t i, const std::string& value) const;
    // Rows [first, first + count) along the first dimension, every element of the others.
    void write_rows(hsize_t first, hsize_t count, const double* values) const;
    void write_rows(hsize_t first, hsize_t count, const long long* values) const;
    void write_rows(hsize_t first, const std::vector<std::string>& values) const;

    std::vector<hsize_t> dims() const;
    std::vector<double> read_doubles() const;
    std::vector<long long> read_integers() const;
    std::vector<std::string> read_strings() const;
    double read_double_at(hsize_t i) const;
    std::vector<double> read_rows(hsize_t first, hsize_t count) const;
    std::vector<long long> read_integer_rows(hsize_t first, hsize_t count) const;
    // The listed rows (ascending), in one selection: what a query of some runs reads.
    std::vector<double> read_rows_of(const std::vector<hsize_t>& rows) const;
    hid_t id() const { return handle_.id(); }

  private:
    explicit Dataset(Handle h) : handle_(std::move(h)) {}
    // Transfers between memory and the selection of the file (nullptr: all of it).
    void transfer(bool write, hid_t memory_type, const Handle* file_space, hsize_t elements,
                  void* values) const;
    void write_integers(const Handle* file_space, hsize_t elements, const long long* values) const;
    std::vector<long long> read_integers(const Handle* file_space, hsize_t elements) const;
    Handle rows(hsize_t first, hsize_t count, hsize_t& elements) const;
    std::size_t string_length() const;
    bool is_variable_string() const;
    Handle handle_;
};

}  // namespace ssldyn::h5
