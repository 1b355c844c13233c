#include "store/h5/group.hpp"

namespace ssldyn::h5 {

Group Group::open(hid_t parent, const std::string& path) {
    return Group({check(H5Gopen2(parent, path.c_str(), H5P_DEFAULT), ("H5Gopen " + path).c_str()),
                  H5Gclose});
}

Group Group::create(hid_t parent, const std::string& path) {
    const Handle lcpl = own_plist(H5Pcreate(H5P_LINK_CREATE), "H5Pcreate");
    check(H5Pset_create_intermediate_group(lcpl.id(), 1), "H5Pset_create_intermediate_group");
    // Creation order tracked so that h5dump and h5py list runs as they were written.
    const Handle gcpl = own_plist(H5Pcreate(H5P_GROUP_CREATE), "H5Pcreate");
    check(H5Pset_link_creation_order(gcpl.id(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
          "H5Pset_link_creation_order");
    return Group({check(H5Gcreate2(parent, path.c_str(), lcpl.id(), gcpl.id(), H5P_DEFAULT),
                        ("H5Gcreate " + path).c_str()),
                  H5Gclose});
}

bool Group::exists(const std::string& name) const {
    return check(H5Lexists(id(), name.c_str(), H5P_DEFAULT), "H5Lexists") > 0;
}

}  // namespace ssldyn::h5
