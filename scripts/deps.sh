#!/usr/bin/env bash
# Installs the Debian packages mtlbench needs, when they are missing. Sourced by the
# top-level scripts; needs root or sudo only when something has to be installed.
# mtl_install_deps [PACKAGE...]: the build's packages and the named extra ones.
mtl_install_deps() {
  local pkgs=(cmake make gcc pkg-config libopenmpi-dev openmpi-bin libhdf5-dev hdf5-tools libcriterion-dev git "$@")
  local missing=()
  local p
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    echo "==> all build dependencies present"
    return 0
  fi
  echo "==> installing missing Debian packages: ${missing[*]}"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo=(sudo); else
      echo "error: need root (or sudo) to install: ${missing[*]}" >&2
      return 1
    fi
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# mpirun refuses to start as root unless told; inside containers and CI that is normal.
mtl_mpi_env() {
  if [ "$(id -u)" -eq 0 ]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  fi
}
