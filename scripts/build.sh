#!/bin/sh
# Configures and builds one flavour of the tree: "release" (build/) or "asan" (build-asan/,
# AddressSanitizer + UndefinedBehaviorSanitizer).
set -eu
cd "$(dirname "$0")/.."
flavour="${1:-release}"
case "$flavour" in
  release) dir=build; flags="-DCMAKE_BUILD_TYPE=RelWithDebInfo" ;;
  asan) dir=build-asan; flags="-DCMAKE_BUILD_TYPE=Debug -DEDS_SANITIZE=ON -DEDS_BUILD_BENCHMARKS=OFF" ;;
  *) echo "usage: $0 [release|asan]" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" -G Ninja $flags >/dev/null
cmake --build "$dir" -j "$(nproc)"
