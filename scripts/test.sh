#!/bin/sh
# Sets up, builds and runs the whole test suite through ctest: the normal build, then the
# AddressSanitizer + UndefinedBehaviorSanitizer build, then the parsers' libFuzzer targets for a
# bounded time. Extra arguments go to the first two ctest runs (e.g. -LE e2e).
# The appliance image test (label image: builds a disk image and boots it under qemu, about ten
# minutes here) runs when EDS_TEST_IMAGE=1, or alone with `ctest --test-dir build -L image`.
set -eu
cd "$(dirname "$0")/.."
./scripts/setup.sh
./tools/check_format.sh
for flavour in release asan; do
  ./scripts/build.sh "$flavour"
  dir=build; [ "$flavour" = asan ] && dir=build-asan
  echo "== ctest ($flavour)"
  if [ "${EDS_TEST_IMAGE:-0}" = 1 ]; then
    ctest --test-dir "$dir" --output-on-failure -j "$(nproc)" "$@"
  else
    ctest --test-dir "$dir" --output-on-failure -j "$(nproc)" -LE image "$@"
  fi
done
# libFuzzer (clang) on the HL7 v2, FHIR, MLLP and TUF metadata parsers, for a bounded time each.
cmake -S tests/fuzz -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 >/dev/null
cmake --build build-fuzz -j "$(nproc)"
echo "== ctest (fuzz, ${EDS_FUZZ_SECONDS:-20} s per target)"
ctest --test-dir build-fuzz --output-on-failure
