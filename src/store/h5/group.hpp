#pragma once
#include <string>
#include <vector>

#include "store/h5/handle.hpp"

namespace ssldyn::h5 {

class Group {
  public:
    static Group open(hid_t parent, const std::string& path);
    static Group create(hid_t parent, const std::string& path);

    Group create_group(const std::string& name) const { return create(id(), name); }
    Group open_group(const std::string& name) const { return open(id(), name); }
    // Whether a link of that name exists here (one level, no path).
    bool exists(const std::string& name) const;
    // A deep copy of this group (its datasets, attributes and subgroups) at path under parent,
    // which may be in another file.
    void copy_to(hid_t parent, const std::string& path) const;
    // Names of the links in this group, in the order they were created.
    std::vector<std::string> members() const;
    hid_t id() const { return handle_.id(); }

  private:
    explicit Group(Handle h) : handle_(std::move(h)) {}
    Handle handle_;
};

}  // namespace ssldyn::h5
