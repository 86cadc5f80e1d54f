#!/bin/sh
# Configures and builds one flavour of the tree: "release" (build/) or "asan" (build-asan/,
# AddressSanitizer + UndefinedBehaviorSanitizer).
set -eu
cd "$(dirname "$0")/.."
flavour="${1:-release}"
# Debug info is line tables only (-g1): backtraces and sanitizer reports keep file and line, and
# the release flavour builds in about two thirds of the time full debug info takes.
case "$flavour" in
  release)
    dir=build
    set -- -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" \
      -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG"
    ;;
  asan)
    dir=build-asan
    set -- -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DCMAKE_C_FLAGS_DEBUG=-g1 \
      -DEDS_SANITIZE=ON -DEDS_BUILD_BENCHMARKS=OFF
    ;;
  *) echo "usage: $0 [release|asan]" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
cmake --build "$dir" -j "$(nproc)"
