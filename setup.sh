#!/usr/bin/env bash
# epsim set-up on Debian 12: installs the Debian packages that are missing,
# builds, then either runs the default job (no argument) or the whole test
# suite (`test`). The two README commands are `bash setup.sh` and
# `bash setup.sh test`; .ci/run calls the second.
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(g++ cmake make pkg-config
          libsimgrid-dev libprotobuf-dev protobuf-compiler libboost-graph-dev
          libgtest-dev libcli11-dev libfmt-dev nlohmann-json3-dev libsimdjson-dev
          python3 python3-matplotlib python3-protobuf
          openmpi-bin libopenmpi-dev libopenblas-dev libceres-dev libssl-dev
          zlib1g-dev libzstd-dev libisal-dev gzip
          clang libclang-rt-14-dev)  # the fuzz targets (tests/fuzz/run.sh)

install_missing() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "setup.sh: installing ${missing[*]}" >&2
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2
}

build() {
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build -j"$(nproc)"
}

install_missing
build
case "${1:-run}" in
  run)  bash experiments/default/run.sh ;;
  test) cd build && ctest --output-on-failure -j"$(nproc)" ;;
  *)    echo "usage: bash setup.sh [run|test]" >&2; exit 1 ;;
esac
