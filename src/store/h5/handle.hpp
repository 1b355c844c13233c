#pragma once
// The only door to HDF5 (with the other files of store/h5/). Every id is owned by a Handle
// and every call is checked; a failure throws with HDF5's own error stack in the message.
#include <hdf5.h>

#include <string>
#include <utility>

namespace ssldyn::h5 {

// Throws RuntimeFailure("<call>: <HDF5 error stack>") when status < 0.
hid_t check(hid_t status, const char* call);
void silence_error_printing();
// "HDF5 1.10.8": the library linked in.
std::string library_version();

class Handle {
  public:
    using Closer = herr_t (*)(hid_t);
    Handle() = default;
    Handle(hid_t id, Closer close) : id_(id), close_(close) {}
    Handle(Handle&& o) noexcept : id_(std::exchange(o.id_, H5I_INVALID_HID)), close_(o.close_) {}
    Handle& operator=(Handle&& o) noexcept {
        if (this != &o) {
            reset();
            id_ = std::exchange(o.id_, H5I_INVALID_HID);
            close_ = o.close_;
        }
        return *this;
    }
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    // Destructors never throw: a failed close is left to HDF5's own report.
    ~Handle() { reset(); }

    hid_t id() const { return id_; }
    bool valid() const { return id_ >= 0; }
    void reset() {
        if (id_ >= 0 && close_) close_(id_);
        id_ = H5I_INVALID_HID;
    }

  private:
    hid_t id_ = H5I_INVALID_HID;
    Closer close_ = nullptr;
};

inline Handle own_plist(hid_t id, const char* call) {
    return {check(id, call), H5Pclose};
}
inline Handle own_space(hid_t id, const char* call) {
    return {check(id, call), H5Sclose};
}
inline Handle own_type(hid_t id, const char* call) {
    return {check(id, call), H5Tclose};
}

}  // namespace ssldyn::h5
