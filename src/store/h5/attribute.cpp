#include "store/h5/attribute.hpp"

namespace ssldyn::h5 {

namespace {

Handle string_type() {
    Handle type = own_type(H5Tcopy(H5T_C_S1), "H5Tcopy");
    check(H5Tset_size(type.id(), H5T_VARIABLE), "H5Tset_size");
    check(H5Tset_cset(type.id(), H5T_CSET_UTF8), "H5Tset_cset");
    return type;
}

// Replaces an attribute of the same name, so that rewriting a value is idempotent.
Handle fresh_attribute(hid_t object, const std::string& name, hid_t type, hid_t space) {
    if (check(H5Aexists(object, name.c_str()), "H5Aexists") > 0)
        check(H5Adelete(object, name.c_str()), "H5Adelete");
    return {check(H5Acreate2(object, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT),
                  ("H5Acreate " + name).c_str()),
            H5Aclose};
}

Handle open_attribute(hid_t object, const std::string& name) {
    return {check(H5Aopen(object, name.c_str(), H5P_DEFAULT), ("H5Aopen " + name).c_str()),
            H5Aclose};
}

template <typename T>
void write_scalar(hid_t object, const std::string& name, hid_t type, T value) {
    const Handle space = own_space(H5Screate(H5S_SCALAR), "H5Screate");
    const Handle attr = fresh_attribute(object, name, type, space.id());
    check(H5Awrite(attr.id(), type, &value), "H5Awrite");
}

template <typename T>
T read_scalar(hid_t object, const std::string& name, hid_t type) {
    const Handle attr = open_attribute(object, name);
    T value{};
    check(H5Aread(attr.id(), type, &value), ("H5Aread " + name).c_str());
    return value;
}

}  // namespace

void write_attribute(hid_t object, const std::string& name, const std::string& value) {
    const Handle type = string_type();
    const Handle space = own_space(H5Screate(H5S_SCALAR), "H5Screate");
    const Handle attr = fresh_attribute(object, name, type.id(), space.id());
    const char* text = value.c_str();
    check(H5Awrite(attr.id(), type.id(), &text), "H5Awrite");
}

void write_attribute(hid_t object, const std::string& name, double value) {
    write_scalar(object, name, H5T_NATIVE_DOUBLE, value);
}

void write_attribute(hid_t object, const std::string& name, long long value) {
    write_scalar(object, name, H5T_NATIVE_LLONG, value);
}

void write_attribute(hid_t object, const std::string& name, const std::vector<double>& values) {
    const hsize_t n = values.size();
    const Handle space = own_space(H5Screate_simple(1, &n, nullptr), "H5Screate_simple");
    const Handle attr = fresh_attribute(object, name, H5T_NATIVE_DOUBLE, space.id());
    check(H5Awrite(attr.id(), H5T_NATIVE_DOUBLE, values.data()), "H5Awrite");
}

bool has_attribute(hid_t object, const std::string& name) {
    return check(H5Aexists(object, name.c_str()), "H5Aexists") > 0;
}

void remove_attribute(hid_t object, const std::string& name) {
    check(H5Adelete(object, name.c_str()), ("H5Adelete " + name).c_str());
}

std::string read_string_attribute(hid_t object, const std::string& name) {
    const Handle attr = open_attribute(object, name);
    const Handle type = string_type();
    char* text = nullptr;
    check(H5Aread(attr.id(), type.id(), &text), ("H5Aread " + name).c_str());
    std::string out = text ? text : "";
    H5free_memory(text);
    return out;
}

double read_double_attribute(hid_t object, const std::string& name) {
    return read_scalar<double>(object, name, H5T_NATIVE_DOUBLE);
}

long long read_integer_attribute(hid_t object, const std::string& name) {
    return read_scalar<long long>(object, name, H5T_NATIVE_LLONG);
}

}  // namespace ssldyn::h5
