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
    check(H5Pset_link_creation_order(gcpl.id(), H5P_CRT_ORDER_TRACKED),
          "H5Pset_link_creation_order");
    return Group({check(H5Gcreate2(parent, path.c_str(), lcpl.id(), gcpl.id(), H5P_DEFAULT),
                        ("H5Gcreate " + path).c_str()),
                  H5Gclose});
}

Group Group::create_anonymous(hid_t file) {
    const Handle gcpl = own_plist(H5Pcreate(H5P_GROUP_CREATE), "H5Pcreate");
    check(H5Pset_link_creation_order(gcpl.id(), H5P_CRT_ORDER_TRACKED),
          "H5Pset_link_creation_order");
    return Group({check(H5Gcreate_anon(file, gcpl.id(), H5P_DEFAULT), "H5Gcreate_anon"), H5Gclose});
}

void Group::link_as(hid_t parent, const std::string& name) const {
    check(H5Olink(id(), parent, name.c_str(), H5P_DEFAULT, H5P_DEFAULT),
          ("H5Olink " + name).c_str());
}

namespace {

herr_t collect_name(hid_t, const char* name, const H5L_info_t*, void* out) {
    static_cast<std::vector<std::string>*>(out)->emplace_back(name);
    return 0;
}

}  // namespace

std::vector<std::string> Group::members() const {
    std::vector<std::string> names;
    hsize_t position = 0;
    // Creation order where the group tracks it (ssldyn's do), else by name.
    const Handle gcpl = own_plist(H5Gget_create_plist(id()), "H5Gget_create_plist");
    unsigned flags = 0;
    check(H5Pget_link_creation_order(gcpl.id(), &flags), "H5Pget_link_creation_order");
    const H5_index_t order = (flags & H5P_CRT_ORDER_TRACKED) ? H5_INDEX_CRT_ORDER : H5_INDEX_NAME;
    check(H5Literate(id(), order, H5_ITER_INC, &position, collect_name, &names), "H5Literate");
    return names;
}

bool Group::exists(const std::string& name) const {
    return check(H5Lexists(id(), name.c_str(), H5P_DEFAULT), "H5Lexists") > 0;
}

}  // namespace ssldyn::h5
