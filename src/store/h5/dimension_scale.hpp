#pragma once
// HDF5 dimension scales, the netCDF-4 dimensions xarray and h5netcdf read as coordinates.
#include <string>

#include "store/h5/dataset.hpp"

namespace ssldyn::h5 {

// Makes `scale` the dimension scale named `name`.
void make_dimension_scale(const Dataset& scale, const std::string& name);
// Attaches `scale` to dimension `axis` of `dataset`.
void attach_dimension_scale(const Dataset& dataset, const Dataset& scale, unsigned axis);

}  // namespace ssldyn::h5
