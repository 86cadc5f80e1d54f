#!/bin/sh
# Installs the Debian 12 packages eds-node builds and tests with. Run as root on a fresh
# machine; does nothing when everything is already installed.
set -eu

# Build: compiler and tools; libraries: RocksDB, libsodium, zstd, zlib (edsctl import of .gz),
# libsystemd, OpenSSL, Boost (Asio), CivetWeb, jemalloc (edsd's allocator), nlohmann JSON,
# toml++, simdjson, RapidJSON (writes the resources mapped from HL7 v2), ICU (time zones for the
# sync schedule); tests: GoogleTest/GoogleMock, faketime (moves the clock of the TUF client
# under test).
# clang-format checks formatting; clang-14 with its runtime builds the libFuzzer targets; the zstd
# tool unpacks benchmark data; Chromium runs the admin UI tests headless (playwright-core drives it).
# The appliance image (image/build.sh, image/test-boot.sh): debootstrap, squashfs, dm-verity,
# ext4 and FAT made without mounting, GPT, the package's library dependencies (dpkg-shlibdeps),
# qemu under TCG with UEFI firmware (OVMF) and a software TPM2 (swtpm), curl for the health check;
# rauc signs the update bundle (image/test-update.sh), openssl makes its development key.
PACKAGES="
  build-essential cmake ninja-build pkg-config clang-format zstd
  librocksdb-dev libsodium-dev libzstd-dev zlib1g-dev libsystemd-dev libssl-dev libjemalloc-dev
  libboost-dev libcivetweb-dev nlohmann-json3-dev libtomlplusplus-dev libsimdjson-dev
  rapidjson-dev libgtest-dev libgmock-dev libglpk-dev libicu-dev clang-14 libclang-rt-14-dev
  faketime chromium
  debootstrap squashfs-tools cryptsetup-bin e2fsprogs dosfstools mtools fdisk dpkg-dev
  qemu-system-x86 qemu-utils ovmf swtpm swtpm-tools curl rauc openssl
"

missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done

# The end-to-end tests drive edsd with third-party clients from npm (Node.js 20 or Debian's).
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"

if [ -n "$missing" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing packages:$missing; run this script as root to install them" >&2
    exit 1
  fi
  echo "setup: installing$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends $missing
fi

# Test-only clients, exactly as locked.
clients="$(dirname "$0")/../tests/clients"
if [ ! -d "$clients/node_modules" ] || [ "$clients/package-lock.json" -nt "$clients/node_modules" ]; then
  (cd "$clients" && npm ci --no-audit --no-fund --loglevel=error)
fi
