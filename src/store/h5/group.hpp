#pragma once
#include <string>
#include <vector>

#include "store/h5/handle.hpp"

namespace ssldyn::h5 {

class Group {
  public:
    static Group open(hid_t parent, const std::string& path);
    static Group create(hid_t parent, const std::string& path);
    // A group in the file but in no other group: invisible to readers until link_as gives it a
    // name (a kill before that leaves the file's visible content as it was).
    static Group create_anonymous(hid_t file);
    void link_as(hid_t parent, const std::string& name) const;

    Group create_group(const std::string& name) const { return create(id(), name); }
    Group open_group(const std::string& name) const { return open(id(), name); }
    // Whether a link of that name exists here (one level, no path).
    bool exists(const std::string& name) const;
    // Names of the links in this group, in the order they were created.
    std::vector<std::string> members() const;
    hid_t id() const { return handle_.id(); }

  private:
    explicit Group(Handle h) : handle_(std::move(h)) {}
    Handle handle_;
};

}  // namespace ssldyn::h5
