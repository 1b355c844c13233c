# Finds ScaLAPACK (with BLACS inside) for the MPI in use and checks that it links.
#   -DSCALAPACK_LIBRARIES="..."  use exactly these libraries
#   otherwise pkg-config: scalapack-openmpi (Debian), scalapack-mpich, scalapack
#   otherwise a library named scalapack-openmpi, scalapack-mpich or scalapack
# Defines the target SCALAPACK::SCALAPACK.
# Debian's own CMake config file for scalapack points at a missing path, so it is not used.
include(FindPackageHandleStandardArgs)
include(CheckFunctionExists)

if(NOT SCALAPACK_LIBRARIES)
  find_package(PkgConfig QUIET)
  if(PKG_CONFIG_FOUND)
    pkg_search_module(PC_SCALAPACK QUIET scalapack-openmpi scalapack-mpich scalapack)
  endif()
  if(PC_SCALAPACK_FOUND)
    set(_scalapack_libs)
    foreach(lib IN LISTS PC_SCALAPACK_LIBRARIES)
      find_library(_scalapack_${lib} NAMES ${lib} HINTS ${PC_SCALAPACK_LIBRARY_DIRS})
      if(_scalapack_${lib})
        list(APPEND _scalapack_libs ${_scalapack_${lib}})
      endif()
    endforeach()
    set(SCALAPACK_LIBRARIES ${_scalapack_libs} CACHE STRING "ScaLAPACK libraries")
  else()
    find_library(SCALAPACK_LIBRARY NAMES scalapack-openmpi scalapack-mpich scalapack)
    if(SCALAPACK_LIBRARY)
      set(SCALAPACK_LIBRARIES ${SCALAPACK_LIBRARY} CACHE STRING "ScaLAPACK libraries")
    endif()
  endif()
endif()

if(SCALAPACK_LIBRARIES AND NOT DEFINED SCALAPACK_LINKS)
  set(CMAKE_REQUIRED_LIBRARIES ${SCALAPACK_LIBRARIES} ${LAPACK_LIBRARIES} ${BLAS_LIBRARIES}
      MPI::MPI_C)
  set(CMAKE_REQUIRED_QUIET ON)
  check_function_exists(pdgemm_ SCALAPACK_HAS_PDGEMM)
  check_function_exists(Cblacs_gridinit SCALAPACK_HAS_BLACS)
  unset(CMAKE_REQUIRED_LIBRARIES)
  unset(CMAKE_REQUIRED_QUIET)
  if(SCALAPACK_HAS_PDGEMM AND SCALAPACK_HAS_BLACS)
    set(SCALAPACK_LINKS TRUE CACHE INTERNAL "")
  endif()
endif()

find_package_handle_standard_args(SCALAPACK
  REQUIRED_VARS SCALAPACK_LIBRARIES SCALAPACK_LINKS
  FAIL_MESSAGE "ScaLAPACK with BLACS (pdgemm_, Cblacs_gridinit) was not found or does not link. On Debian: apt-get install libscalapack-openmpi-dev, elsewhere pass -DSCALAPACK_LIBRARIES=\"...\" or set PKG_CONFIG_PATH")

if(SCALAPACK_FOUND AND NOT TARGET SCALAPACK::SCALAPACK)
  add_library(SCALAPACK::SCALAPACK INTERFACE IMPORTED)
  set_target_properties(SCALAPACK::SCALAPACK PROPERTIES
    INTERFACE_LINK_LIBRARIES "${SCALAPACK_LIBRARIES};${LAPACK_LIBRARIES};${BLAS_LIBRARIES}")
endif()
