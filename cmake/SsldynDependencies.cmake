# Finds every library ssldyn links, and stops with a message that says what is missing.
# Off Debian (clusters with environment modules): HDF5 through HDF5_ROOT, ScaLAPACK through
# pkg-config or -DSCALAPACK_LIBRARIES=..., BLAS/LAPACK through BLA_VENDOR, any MPI that
# FindMPI finds.
include(GNUInstallDirs)

find_package(MPI REQUIRED COMPONENTS C)

# Parallel HDF5: the serial build would be picked silently if both were installed.
set(HDF5_PREFER_PARALLEL ON)
# HL: the dimension scales that make a sweep a netCDF-4 group (xarray's coordinates).
find_package(HDF5 REQUIRED COMPONENTS C HL)
if(NOT HDF5_IS_PARALLEL)
  message(FATAL_ERROR
    "ssldyn needs the parallel (MPI) build of HDF5, but found a serial one "
    "(${HDF5_C_LIBRARIES}). On Debian: apt-get install libhdf5-openmpi-dev; elsewhere point "
    "HDF5_ROOT at a parallel HDF5 installation.")
endif()
add_library(ssldyn_hdf5 INTERFACE)
target_include_directories(ssldyn_hdf5 SYSTEM INTERFACE ${HDF5_C_INCLUDE_DIRS})
target_link_libraries(ssldyn_hdf5 INTERFACE ${HDF5_C_HL_LIBRARIES} ${HDF5_C_LIBRARIES})
target_compile_definitions(ssldyn_hdf5 INTERFACE ${HDF5_C_DEFINITIONS})

# BLAS/LAPACK: OpenBLAS by preference (it can be told its thread count), else any.
if(NOT DEFINED BLA_VENDOR)
  set(BLA_VENDOR OpenBLAS)
  find_package(BLAS QUIET)
  if(NOT BLAS_FOUND)
    unset(BLA_VENDOR)
  endif()
endif()
find_package(BLAS REQUIRED)
find_package(LAPACK REQUIRED)

find_package(SCALAPACK REQUIRED)

find_package(Boost 1.66 REQUIRED COMPONENTS program_options)
find_package(ZLIB REQUIRED)
find_package(Threads REQUIRED)
