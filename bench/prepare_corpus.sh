#!/usr/bin/env bash
# Builds the store benchmark corpus (bench/store_corpus.h) from the Synthea R4 bundles.
#   bench/prepare_corpus.sh STORE_BENCHMARK_BINARY OUT.ndjson [TESTDATA_DIR]
# TESTDATA_DIR defaults to ../shared/testdata next to the repository. The bundles are unpacked
# into a temporary dir (about 450 MB) that is removed on exit; OUT is written atomically.
set -euo pipefail

if [[ $# -lt 2 || $# -gt 3 ]]; then
  echo "usage: $0 STORE_BENCHMARK_BINARY OUT.ndjson [TESTDATA_DIR]" >&2
  exit 2
fi
binary=$1
out=$2
repo=$(cd "$(dirname "$0")/.." && pwd)
testdata=${3:-$repo/../shared/testdata}
archive=$testdata/fhir/synthea/generated-sample-data-r4/bundles.tar.zst
[[ -f $archive ]] || { echo "$0: $archive not found" >&2; exit 1; }

unpacked=$(mktemp -d "${TMPDIR:-/tmp}/store-bench-bundles.XXXXXX")
trap 'rm -rf "$unpacked" "$out.partial"' EXIT
# The archive was written with a 128 MiB window; --long=27 lets zstd accept it.
zstd -q -dc --long=27 "$archive" | tar x -C "$unpacked"
"$binary" prepare --bundles "$unpacked" --out "$out.partial"
mv "$out.partial" "$out"
