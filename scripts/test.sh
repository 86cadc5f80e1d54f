#!/bin/sh
# Sets up, builds and runs the whole test suite through ctest, twice: the normal build, then the
# AddressSanitizer + UndefinedBehaviorSanitizer build. Extra arguments go to ctest
# (e.g. -LE image to skip the slow image test).
set -eu
cd "$(dirname "$0")/.."
./scripts/setup.sh
./tools/check_format.sh
for flavour in release asan; do
  ./scripts/build.sh "$flavour"
  dir=build; [ "$flavour" = asan ] && dir=build-asan
  echo "== ctest ($flavour)"
  ctest --test-dir "$dir" --output-on-failure -j "$(nproc)" "$@"
done
