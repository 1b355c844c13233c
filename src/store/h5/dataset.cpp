#include "store/h5/dataset.hpp"

#include <cmath>
#include <cstring>
#include <limits>

namespace ssldyn::h5 {

namespace {

Handle fixed_string_type(std::size_t length) {
    Handle type = own_type(H5Tcopy(H5T_C_S1), "H5Tcopy");
    check(H5Tset_size(type.id(), length), "H5Tset_size");
    check(H5Tset_strpad(type.id(), H5T_STR_NULLPAD), "H5Tset_strpad");
    check(H5Tset_cset(type.id(), H5T_CSET_UTF8), "H5Tset_cset");
    return type;
}

Dataset create_with(hid_t parent, const std::string& name, hid_t type,
                    const std::vector<hsize_t>& dims, hid_t fill_type, const void* fill,
                    Dataset (*make)(Handle)) {
    const Handle space = own_space(
        H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), "H5Screate_simple");
    const Handle dcpl = own_plist(H5Pcreate(H5P_DATASET_CREATE), "H5Pcreate");
    check(H5Pset_alloc_time(dcpl.id(), H5D_ALLOC_TIME_EARLY), "H5Pset_alloc_time");
    check(H5Pset_fill_time(dcpl.id(), H5D_FILL_TIME_ALLOC), "H5Pset_fill_time");
    if (fill) check(H5Pset_fill_value(dcpl.id(), fill_type, fill), "H5Pset_fill_value");
    return make({check(H5Dcreate2(parent, name.c_str(), type, space.id(), H5P_DEFAULT, dcpl.id(),
                                  H5P_DEFAULT),
                       ("H5Dcreate " + name).c_str()),
                 H5Dclose});
}

std::size_t element_count(const std::vector<hsize_t>& dims) {
    std::size_t n = 1;
    for (hsize_t d : dims) n *= d;
    return n;
}

}  // namespace

Dataset Dataset::create_doubles(hid_t parent, const std::string& name,
                                const std::vector<hsize_t>& dims) {
    // NaN marks what a run has not written (a diverged run stops early).
    const double nan = std::numeric_limits<double>::quiet_NaN();
    return create_with(parent, name, H5T_IEEE_F64LE, dims, H5T_NATIVE_DOUBLE, &nan,
                       [](Handle h) { return Dataset(std::move(h)); });
}

Dataset Dataset::create_integers(hid_t parent, const std::string& name,
                                 const std::vector<hsize_t>& dims, long long fill) {
    return create_with(parent, name, H5T_STD_I64LE, dims, H5T_NATIVE_LLONG, &fill,
                       [](Handle h) { return Dataset(std::move(h)); });
}

Dataset Dataset::create_strings(hid_t parent, const std::string& name, hsize_t count,
                                std::size_t length) {
    const Handle type = fixed_string_type(length < 1 ? 1 : length);
    return create_with(parent, name, type.id(), {count}, type.id(), nullptr,
                       [](Handle h) { return Dataset(std::move(h)); });
}

Dataset Dataset::open(hid_t parent, const std::string& name) {
    return Dataset({check(H5Dopen2(parent, name.c_str(), H5P_DEFAULT), ("H5Dopen " + name).c_str()),
                    H5Dclose});
}

void Dataset::write(const double* values) const {
    check(H5Dwrite(id(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values), "H5Dwrite");
}

void Dataset::write(const long long* values) const {
    check(H5Dwrite(id(), H5T_NATIVE_LLONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, values), "H5Dwrite");
}

std::size_t Dataset::string_length() const {
    const Handle type = own_type(H5Dget_type(id()), "H5Dget_type");
    return H5Tget_size(type.id());
}

bool Dataset::is_string() const {
    const Handle type = own_type(H5Dget_type(id()), "H5Dget_type");
    return H5Tget_class(type.id()) == H5T_STRING;
}

void Dataset::write(const std::vector<std::string>& values) const {
    const std::size_t length = string_length();
    std::vector<char> buffer(values.size() * length, '\0');
    for (std::size_t i = 0; i < values.size(); ++i)
        std::memcpy(buffer.data() + i * length, values[i].data(),
                    std::min(length, values[i].size()));
    const Handle type = fixed_string_type(length);
    check(H5Dwrite(id(), type.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()), "H5Dwrite");
}

void Dataset::write_element(hsize_t i, hid_t memory_type, const void* value) const {
    const Handle file_space = own_space(H5Dget_space(id()), "H5Dget_space");
    const hsize_t one = 1;
    check(H5Sselect_hyperslab(file_space.id(), H5S_SELECT_SET, &i, nullptr, &one, nullptr),
          "H5Sselect_hyperslab");
    const Handle memory_space = own_space(H5Screate_simple(1, &one, nullptr), "H5Screate_simple");
    check(H5Dwrite(id(), memory_type, memory_space.id(), file_space.id(), H5P_DEFAULT, value),
          "H5Dwrite");
}

void Dataset::write_at(hsize_t i, double value) const {
    write_element(i, H5T_NATIVE_DOUBLE, &value);
}

void Dataset::write_at(hsize_t i, long long value) const {
    write_element(i, H5T_NATIVE_LLONG, &value);
}

void Dataset::write_at(hsize_t i, const std::string& value) const {
    const std::size_t length = string_length();
    std::vector<char> buffer(length, '\0');
    std::memcpy(buffer.data(), value.data(), std::min(length, value.size()));
    const Handle type = fixed_string_type(length);
    write_element(i, type.id(), buffer.data());
}

std::vector<hsize_t> Dataset::dims() const {
    const Handle space = own_space(H5Dget_space(id()), "H5Dget_space");
    const int rank = check(H5Sget_simple_extent_ndims(space.id()), "H5Sget_simple_extent_ndims");
    std::vector<hsize_t> out(static_cast<std::size_t>(rank));
    check(H5Sget_simple_extent_dims(space.id(), out.data(), nullptr), "H5Sget_simple_extent_dims");
    return out;
}

std::vector<double> Dataset::read_doubles() const {
    std::vector<double> out(element_count(dims()));
    check(H5Dread(id(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), "H5Dread");
    return out;
}

std::vector<long long> Dataset::read_integers() const {
    std::vector<long long> out(element_count(dims()));
    check(H5Dread(id(), H5T_NATIVE_LLONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), "H5Dread");
    return out;
}

std::vector<std::string> Dataset::read_strings() const {
    const std::size_t length = string_length(), count = element_count(dims());
    std::vector<char> buffer(count * length);
    const Handle type = fixed_string_type(length);
    check(H5Dread(id(), type.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()), "H5Dread");
    std::vector<std::string> out(count);
    for (std::size_t i = 0; i < count; ++i) {
        const char* begin = buffer.data() + i * length;
        out[i].assign(begin, strnlen(begin, length));
    }
    return out;
}

double Dataset::read_double_at(hsize_t i) const {
    const Handle file_space = own_space(H5Dget_space(id()), "H5Dget_space");
    const hsize_t one = 1;
    check(H5Sselect_hyperslab(file_space.id(), H5S_SELECT_SET, &i, nullptr, &one, nullptr),
          "H5Sselect_hyperslab");
    const Handle memory_space = own_space(H5Screate_simple(1, &one, nullptr), "H5Screate_simple");
    double value = 0.0;
    check(H5Dread(id(), H5T_NATIVE_DOUBLE, memory_space.id(), file_space.id(), H5P_DEFAULT, &value),
          "H5Dread");
    return value;
}

}  // namespace ssldyn::h5
