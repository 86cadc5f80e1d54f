#!/bin/sh
# Installs the Debian 12 packages eds-node builds and tests with. Run as root on a fresh
# machine; does nothing when everything is already installed.
set -eu

# Build: compiler and tools; libraries: RocksDB, libsodium, zstd, libsystemd, OpenSSL, Boost (Asio),
# CivetWeb, nlohmann JSON, toml++, simdjson (benchmarks); tests: GoogleTest/GoogleMock.
# clang-format checks formatting; the zstd tool unpacks benchmark data.
PACKAGES="
  build-essential cmake ninja-build pkg-config clang-format zstd
  librocksdb-dev libsodium-dev libzstd-dev libsystemd-dev libssl-dev
  libboost-dev libcivetweb-dev nlohmann-json3-dev libtomlplusplus-dev libsimdjson-dev
  libgtest-dev libgmock-dev
"

missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done

if [ -z "$missing" ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "setup: missing packages:$missing; run this script as root to install them" >&2
  exit 1
fi
echo "setup: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends $missing
