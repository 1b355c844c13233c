#include "store/h5/dimension_scale.hpp"

#include <hdf5_hl.h>

namespace ssldyn::h5 {

void make_dimension_scale(const Dataset& scale, const std::string& name) {
    check(H5DSset_scale(scale.id(), name.c_str()), ("H5DSset_scale " + name).c_str());
}

void attach_dimension_scale(const Dataset& dataset, const Dataset& scale, unsigned axis) {
    check(H5DSattach_scale(dataset.id(), scale.id(), axis), "H5DSattach_scale");
}

}  // namespace ssldyn::h5
