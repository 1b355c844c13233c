# The Python of the tests and of the build's MNIST conversion: Debian's, which has h5py and
# numpy (a python3 earlier on PATH may lack them).
if(EXISTS /usr/bin/python3)
  set(_default_python /usr/bin/python3)
else()
  set(_default_python python3)
endif()
set(SSLDYN_PYTHON ${_default_python} CACHE FILEPATH "Python 3 with h5py and numpy for the tests")
