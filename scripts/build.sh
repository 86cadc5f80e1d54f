#!/bin/sh
# Configures and builds one flavour of the tree: "release" (build/) or "asan" (build-asan/,
# AddressSanitizer + UndefinedBehaviorSanitizer).
set -eu
cd "$(dirname "$0")/.."
flavour="${1:-release}"
case "$flavour" in
  release) dir=build; cxx=/c++; flags="-DCMAKE_BUILD_TYPE=RelWithDebInfo" ;;
  # clang compiles the instrumented tree in about two thirds of GCC's time, and checks the
  # thread-safety annotations (-Wthread-safety), which GCC ignores.
  asan) dir=build-asan; cxx=clang++-14
        flags="-DCMAKE_BUILD_TYPE=Debug -DEDS_SANITIZE=ON -DEDS_BUILD_BENCHMARKS=OFF"
        flags="$flags -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=$cxx" ;;
  *) echo "usage: $0 [release|asan]" >&2; exit 2 ;;
esac
# A tree configured with another compiler cannot switch in place: start it again.
if [ -f "$dir/CMakeCache.txt" ] && ! grep -q "^CMAKE_CXX_COMPILER:[A-Z]*=.*$cxx\$" "$dir/CMakeCache.txt"; then
  rm -rf "$dir"
fi
cmake -S . -B "$dir" -G Ninja $flags >/dev/null
cmake --build "$dir" -j "$(nproc)"
