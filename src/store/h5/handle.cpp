#include "store/h5/handle.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace ssldyn::h5 {

namespace {

herr_t collect(unsigned n, const H5E_error2_t* e, void* data) {
    auto* text = static_cast<std::string*>(data);
    if (n > 0) *text += "; ";
    *text += e->desc ? e->desc : "?";
    if (e->func_name) *text += std::string(" (") + e->func_name + ")";
    return 0;
}

}  // namespace

void silence_error_printing() {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

std::string library_version() {
    unsigned major = 0, minor = 0, release = 0;
    check(H5get_libversion(&major, &minor, &release), "H5get_libversion");
    return "HDF5 " + std::to_string(major) + "." + std::to_string(minor) + "." +
           std::to_string(release);
}

hid_t check(hid_t status, const char* call) {
    if (status >= 0) return status;
    std::string stack;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, collect, &stack);
    H5Eclear2(H5E_DEFAULT);
    // Some descriptions hold a line break (a failed write's time stamp): one line for stderr.
    std::replace(stack.begin(), stack.end(), '\n', ' ');
    throw RuntimeFailure(std::string(call) + ": " + (stack.empty() ? "HDF5 error" : stack));
}

}  // namespace ssldyn::h5
