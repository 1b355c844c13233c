# The git commit and whether the tree was modified, recorded in every run's provenance.
set(SSLDYN_GIT_COMMIT "unknown")
set(SSLDYN_GIT_DIRTY 0)
find_package(Git QUIET)
if(GIT_FOUND AND EXISTS "${CMAKE_SOURCE_DIR}/.git")
  execute_process(COMMAND ${GIT_EXECUTABLE} rev-parse --short=12 HEAD
                  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} OUTPUT_VARIABLE _commit
                  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE _rc)
  if(_rc EQUAL 0)
    set(SSLDYN_GIT_COMMIT "${_commit}")
    execute_process(COMMAND ${GIT_EXECUTABLE} status --porcelain --untracked-files=no
                    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} OUTPUT_VARIABLE _status ERROR_QUIET)
    if(NOT "${_status}" STREQUAL "")
      set(SSLDYN_GIT_DIRTY 1)
    endif()
  endif()
endif()
configure_file(${CMAKE_SOURCE_DIR}/src/core/version.hpp.in
               ${CMAKE_BINARY_DIR}/generated/core/version.hpp @ONLY)
