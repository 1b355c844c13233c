#include "store/h5/dataset.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace ssldyn::h5 {

namespace {

Handle variable_string_type() {
    Handle type = own_type(H5Tcopy(H5T_C_S1), "H5Tcopy");
    check(H5Tset_size(type.id(), H5T_VARIABLE), "H5Tset_size");
    check(H5Tset_cset(type.id(), H5T_CSET_UTF8), "H5Tset_cset");
    return type;
}

Handle fixed_string_type(std::size_t length) {
    Handle type = own_type(H5Tcopy(H5T_C_S1), "H5Tcopy");
    check(H5Tset_size(type.id(), length), "H5Tset_size");
    check(H5Tset_strpad(type.id(), H5T_STR_NULLPAD), "H5Tset_strpad");
    check(H5Tset_cset(type.id(), H5T_CSET_UTF8), "H5Tset_cset");
    return type;
}

Dataset create_with(hid_t parent, const std::string& name, hid_t type,
                    const std::vector<hsize_t>& dims, hid_t fill_type, const void* fill,
                    bool filled, Dataset (*make)(Handle)) {
    const Handle space = own_space(
        H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), "H5Screate_simple");
    const Handle dcpl = own_plist(H5Pcreate(H5P_DATASET_CREATE), "H5Pcreate");
    check(H5Pset_alloc_time(dcpl.id(), H5D_ALLOC_TIME_EARLY), "H5Pset_alloc_time");
    check(H5Pset_fill_time(dcpl.id(), filled ? H5D_FILL_TIME_ALLOC : H5D_FILL_TIME_NEVER),
          "H5Pset_fill_time");
    if (fill) check(H5Pset_fill_value(dcpl.id(), fill_type, fill), "H5Pset_fill_value");
    return make({check(H5Dcreate2(parent, name.c_str(), type, space.id(), H5P_DEFAULT, dcpl.id(),
                                  H5P_DEFAULT),
                       ("H5Dcreate " + name).c_str()),
                 H5Dclose});
}

hsize_t element_count(const std::vector<hsize_t>& dims) {
    hsize_t n = 1;
    for (hsize_t d : dims) n *= d;
    return n;
}

// The dataset's type as held in memory, and whether it is an enumeration (read and written as
// int8 codes).
Handle memory_type_of(hid_t dataset) {
    const Handle type = own_type(H5Dget_type(dataset), "H5Dget_type");
    return own_type(H5Tget_native_type(type.id(), H5T_DIR_DEFAULT), "H5Tget_native_type");
}

bool is_enum(hid_t dataset) {
    const Handle type = own_type(H5Dget_type(dataset), "H5Dget_type");
    return H5Tget_class(type.id()) == H5T_ENUM;
}

}  // namespace

Dataset Dataset::create_doubles(hid_t parent, const std::string& name,
                                const std::vector<hsize_t>& dims, bool filled) {
    // NaN marks what a run has not written (a diverged run stops early).
    const double nan = std::numeric_limits<double>::quiet_NaN();
    return create_with(parent, name, H5T_IEEE_F64LE, dims, H5T_NATIVE_DOUBLE, &nan, filled,
                       [](Handle h) { return Dataset(std::move(h)); });
}

Dataset Dataset::create_integers(hid_t parent, const std::string& name,
                                 const std::vector<hsize_t>& dims, long long fill) {
    return create_with(parent, name, H5T_STD_I64LE, dims, H5T_NATIVE_LLONG, &fill, true,
                       [](Handle h) { return Dataset(std::move(h)); });
}

Dataset Dataset::create_strings(hid_t parent, const std::string& name, hsize_t count,
                                std::size_t length) {
    const Handle type = fixed_string_type(length < 1 ? 1 : length);
    return create_with(parent, name, type.id(), {count}, type.id(), nullptr, true,
                       [](Handle h) { return Dataset(std::move(h)); });
}

Dataset Dataset::create_enum(hid_t parent, const std::string& name, hsize_t count,
                             const std::vector<std::string>& names, long long fill) {
    const Handle type = own_type(H5Tenum_create(H5T_STD_I8LE), "H5Tenum_create");
    for (std::size_t i = 0; i < names.size(); ++i) {
        const auto value = static_cast<signed char>(i);
        check(H5Tenum_insert(type.id(), names[i].c_str(), &value), "H5Tenum_insert");
    }
    const auto code = static_cast<signed char>(fill);
    return create_with(parent, name, type.id(), {count}, type.id(), &code, true,
                       [](Handle h) { return Dataset(std::move(h)); });
}

Dataset Dataset::open(hid_t parent, const std::string& name) {
    return Dataset({check(H5Dopen2(parent, name.c_str(), H5P_DEFAULT), ("H5Dopen " + name).c_str()),
                    H5Dclose});
}

Dataset Dataset::create_growing(hid_t parent, const std::string& name, Element element) {
    const hsize_t none = 0, unlimited = H5S_UNLIMITED, chunk = 64;
    const Handle space = own_space(H5Screate_simple(1, &none, &unlimited), "H5Screate_simple");
    const Handle dcpl = own_plist(H5Pcreate(H5P_DATASET_CREATE), "H5Pcreate");
    check(H5Pset_chunk(dcpl.id(), 1, &chunk), "H5Pset_chunk");
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const long long minus_one = -1;
    Handle text;
    hid_t type = H5T_IEEE_F64LE;
    if (element == Element::number) {
        check(H5Pset_fill_value(dcpl.id(), H5T_NATIVE_DOUBLE, &nan), "H5Pset_fill_value");
    } else if (element == Element::integer) {
        type = H5T_STD_I64LE;
        check(H5Pset_fill_value(dcpl.id(), H5T_NATIVE_LLONG, &minus_one), "H5Pset_fill_value");
    } else {
        text = variable_string_type();
        type = text.id();
    }
    return Dataset({check(H5Dcreate2(parent, name.c_str(), type, space.id(), H5P_DEFAULT, dcpl.id(),
                                     H5P_DEFAULT),
                          ("H5Dcreate " + name).c_str()),
                    H5Dclose});
}

void Dataset::grow(hsize_t rows) const {
    check(H5Dset_extent(id(), &rows), "H5Dset_extent");
}

bool Dataset::is_variable_string() const {
    const Handle type = own_type(H5Dget_type(id()), "H5Dget_type");
    return H5Tget_class(type.id()) == H5T_STRING && H5Tis_variable_str(type.id()) > 0;
}

void Dataset::transfer(bool write, hid_t memory_type, const Handle* file_space, hsize_t elements,
                       void* values) const {
    Handle memory_space;
    if (file_space)
        memory_space = own_space(H5Screate_simple(1, &elements, nullptr), "H5Screate_simple");
    const hid_t memory = file_space ? memory_space.id() : H5S_ALL;
    const hid_t file = file_space ? file_space->id() : H5S_ALL;
    if (write)
        check(H5Dwrite(id(), memory_type, memory, file, H5P_DEFAULT, values), "H5Dwrite");
    else
        check(H5Dread(id(), memory_type, memory, file, H5P_DEFAULT, values), "H5Dread");
}

Handle Dataset::rows(hsize_t first, hsize_t count, hsize_t& elements) const {
    Handle space = own_space(H5Dget_space(id()), "H5Dget_space");
    std::vector<hsize_t> start(dims().size(), 0), extent = dims();
    start.at(0) = first;
    extent.at(0) = count;
    check(H5Sselect_hyperslab(space.id(), H5S_SELECT_SET, start.data(), nullptr, extent.data(),
                              nullptr),
          "H5Sselect_hyperslab");
    elements = element_count(extent);
    return space;
}

void Dataset::write_integers(const Handle* file_space, hsize_t elements,
                             const long long* values) const {
    if (!is_enum(id())) {
        transfer(true, H5T_NATIVE_LLONG, file_space, elements, const_cast<long long*>(values));
        return;
    }
    std::vector<signed char> codes(values, values + elements);
    transfer(true, memory_type_of(id()).id(), file_space, elements, codes.data());
}

std::vector<long long> Dataset::read_integers(const Handle* file_space, hsize_t elements) const {
    if (!is_enum(id())) {
        std::vector<long long> out(elements);
        transfer(false, H5T_NATIVE_LLONG, file_space, elements, out.data());
        return out;
    }
    std::vector<signed char> codes(elements);
    transfer(false, memory_type_of(id()).id(), file_space, elements, codes.data());
    return {codes.begin(), codes.end()};
}

void Dataset::write(const double* values) const {
    transfer(true, H5T_NATIVE_DOUBLE, nullptr, 0, const_cast<double*>(values));
}

void Dataset::write(const long long* values) const {
    write_integers(nullptr, element_count(dims()), values);
}

std::size_t Dataset::string_length() const {
    const Handle type = own_type(H5Dget_type(id()), "H5Dget_type");
    return H5Tget_size(type.id());
}

namespace {

std::vector<char> packed(const std::vector<std::string>& values, std::size_t length) {
    std::vector<char> buffer(values.size() * length, '\0');
    for (std::size_t i = 0; i < values.size(); ++i)
        std::memcpy(buffer.data() + i * length, values[i].data(),
                    std::min(length, values[i].size()));
    return buffer;
}

}  // namespace

void Dataset::write(const std::vector<std::string>& values) const {
    write_rows(0, values);
}

void Dataset::write_rows(hsize_t first, const std::vector<std::string>& values) const {
    if (is_variable_string()) {
        std::vector<const char*> pointers;
        for (const auto& v : values) pointers.push_back(v.c_str());
        hsize_t elements = 0;
        const Handle space = rows(first, values.size(), elements);
        transfer(true, variable_string_type().id(), &space, elements, pointers.data());
        return;
    }
    const std::size_t length = string_length();
    auto buffer = packed(values, length);
    hsize_t elements = 0;
    const Handle space = rows(first, values.size(), elements);
    transfer(true, fixed_string_type(length).id(), &space, elements, buffer.data());
}

void Dataset::write_rows(hsize_t first, hsize_t count, const double* values) const {
    hsize_t elements = 0;
    const Handle space = rows(first, count, elements);
    transfer(true, H5T_NATIVE_DOUBLE, &space, elements, const_cast<double*>(values));
}

void Dataset::write_rows(hsize_t first, hsize_t count, const long long* values) const {
    hsize_t elements = 0;
    const Handle space = rows(first, count, elements);
    write_integers(&space, elements, values);
}

void Dataset::write_at(hsize_t i, double value) const {
    write_rows(i, 1, &value);
}

void Dataset::write_at(hsize_t i, long long value) const {
    write_rows(i, 1, &value);
}

void Dataset::write_at(hsize_t i, const std::string& value) const {
    write_rows(i, {value});
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
    transfer(false, H5T_NATIVE_DOUBLE, nullptr, 0, out.data());
    return out;
}

std::vector<long long> Dataset::read_integers() const {
    return read_integers(nullptr, element_count(dims()));
}

std::vector<std::string> Dataset::read_strings() const {
    if (is_variable_string()) {
        const hsize_t count = element_count(dims());
        std::vector<char*> pointers(count, nullptr);
        const Handle type = variable_string_type();
        if (count > 0) transfer(false, type.id(), nullptr, 0, pointers.data());
        std::vector<std::string> out;
        for (char* p : pointers) out.emplace_back(p ? p : "");
        if (count > 0) {
            const Handle space = own_space(H5Dget_space(id()), "H5Dget_space");
#if H5_VERSION_GE(1, 12, 0)
            check(H5Treclaim(type.id(), space.id(), H5P_DEFAULT, pointers.data()), "H5Treclaim");
#else
            check(H5Dvlen_reclaim(type.id(), space.id(), H5P_DEFAULT, pointers.data()),
                  "H5Dvlen_reclaim");
#endif
        }
        return out;
    }
    const std::size_t length = string_length(), count = element_count(dims());
    std::vector<char> buffer(count * length);
    transfer(false, fixed_string_type(length).id(), nullptr, 0, buffer.data());
    std::vector<std::string> out(count);
    for (std::size_t i = 0; i < count; ++i) {
        const char* begin = buffer.data() + i * length;
        out[i].assign(begin, strnlen(begin, length));
    }
    return out;
}

double Dataset::read_double_at(hsize_t i) const {
    return read_rows(i, 1).at(0);
}

std::vector<double> Dataset::read_rows(hsize_t first, hsize_t count) const {
    hsize_t elements = 0;
    const Handle space = rows(first, count, elements);
    std::vector<double> out(elements);
    transfer(false, H5T_NATIVE_DOUBLE, &space, elements, out.data());
    return out;
}

std::vector<long long> Dataset::read_integer_rows(hsize_t first, hsize_t count) const {
    hsize_t elements = 0;
    const Handle space = rows(first, count, elements);
    return read_integers(&space, elements);
}

std::vector<double> Dataset::read_rows_of(const std::vector<hsize_t>& wanted) const {
    if (wanted.empty()) return {};
    const Handle space = own_space(H5Dget_space(id()), "H5Dget_space");
    std::vector<hsize_t> start(dims().size(), 0), extent = dims();
    const hsize_t per_row = element_count(extent) / std::max<hsize_t>(extent.at(0), 1);
    check(H5Sselect_none(space.id()), "H5Sselect_none");
    // Runs of consecutive rows as one block each: a few blocks for the usual query.
    for (std::size_t i = 0; i < wanted.size();) {
        std::size_t j = i + 1;
        while (j < wanted.size() && wanted[j] == wanted[j - 1] + 1) ++j;
        start.at(0) = wanted[i];
        extent.at(0) = static_cast<hsize_t>(j - i);
        check(H5Sselect_hyperslab(space.id(), H5S_SELECT_OR, start.data(), nullptr, extent.data(),
                                  nullptr),
              "H5Sselect_hyperslab");
        i = j;
    }
    std::vector<double> out(wanted.size() * per_row);
    transfer(false, H5T_NATIVE_DOUBLE, &space, out.size(), out.data());
    return out;
}

}  // namespace ssldyn::h5
