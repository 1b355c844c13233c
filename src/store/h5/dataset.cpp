#include "store/h5/dataset.hpp"

namespace ssldyn::h5 {

Dataset Dataset::create(hid_t parent, const std::string& name, hid_t type,
                        const std::vector<hsize_t>& dims) {
    const Handle space = own_space(
        H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), "H5Screate_simple");
    const Handle dcpl = own_plist(H5Pcreate(H5P_DATASET_CREATE), "H5Pcreate");
    check(H5Pset_alloc_time(dcpl.id(), H5D_ALLOC_TIME_EARLY), "H5Pset_alloc_time");
    check(H5Pset_fill_time(dcpl.id(), H5D_FILL_TIME_ALLOC), "H5Pset_fill_time");
    return Dataset({check(H5Dcreate2(parent, name.c_str(), type, space.id(), H5P_DEFAULT, dcpl.id(),
                                     H5P_DEFAULT),
                          ("H5Dcreate " + name).c_str()),
                    H5Dclose});
}

Dataset Dataset::create_doubles(hid_t parent, const std::string& name, std::vector<hsize_t> dims) {
    return create(parent, name, H5T_IEEE_F64LE, dims);
}

Dataset Dataset::create_integers(hid_t parent, const std::string& name, std::vector<hsize_t> dims) {
    return create(parent, name, H5T_STD_I64LE, dims);
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

std::vector<hsize_t> Dataset::dims() const {
    const Handle space = own_space(H5Dget_space(id()), "H5Dget_space");
    const int rank = check(H5Sget_simple_extent_ndims(space.id()), "H5Sget_simple_extent_ndims");
    std::vector<hsize_t> out(static_cast<std::size_t>(rank));
    check(H5Sget_simple_extent_dims(space.id(), out.data(), nullptr), "H5Sget_simple_extent_dims");
    return out;
}

namespace {

std::size_t element_count(const std::vector<hsize_t>& dims) {
    std::size_t n = 1;
    for (hsize_t d : dims) n *= d;
    return n;
}

}  // namespace

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

}  // namespace ssldyn::h5
