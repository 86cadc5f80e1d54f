#!/usr/bin/env bash
# Compares two edsd binaries on one feed alone, in interleaved runs (A, B, A, B, ...), so a noisy
# machine drifts both sides alike:
#   bench/run_feed_ab.sh WORKDIR EDSD_A EDSD_B
# FEED=mllp (the default) sends HL7 v2 messages with mllp_load; FEED=fhir POSTs transaction
# Bundles of 100 with fhir_load; FEED=import runs `edsctl import` of the first MESSAGES resources.
# All come from the ingest benchmark's corpus in WORKDIR (bench/run_ingest_benchmark.sh makes
# it), or from MESSAGES_FILE / BUNDLES_FILE / RESOURCES_FILE. Each run starts
# the binary on a fresh data dir, listening on 127.0.0.1 only, sends the load, reads the daemon's
# CPU time from /proc around it, and stops it. A binary that is not the build's own needs its
# shims beside it (copy BUILD/bin/*.so with it).
# Environment: FEED (mllp), RUNS (3), MESSAGES (20000; FHIR: Bundles, 2000; import: resources,
#   300000), CONNECTIONS (8; FHIR: 4), THREADS (mllp.threads; edsd's default when unset), BUILD
#   (build-bench), MESSAGES_FILE, BUNDLES_FILE, RESOURCES_FILE.
set -euo pipefail

if (($# != 3)); then
  echo "usage: $0 WORKDIR EDSD_A EDSD_B" >&2
  exit 2
fi
work=$1
binaries=("$2" "$3")
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/bench_lib.sh
. "$here/bench/bench_lib.sh"
build=${BUILD:-$here/build-bench}
feed=${FEED:-mllp}
runs=${RUNS:-3}
threads=${THREADS:-}
edsctl=$build/bin/edsctl
case $feed in
  mllp)
    load=$build/bench/mllp_load
    count=${MESSAGES:-20000}
    connections=${CONNECTIONS:-8}
    file=${MESSAGES_FILE:-$(ls -d "$work"/corpus-*/messages.hl7 2>/dev/null | head -n 1)}
    unit=messages
    ;;
  fhir)
    load=$build/bench/fhir_load
    count=${MESSAGES:-2000}
    connections=${CONNECTIONS:-4}
    file=${BUNDLES_FILE:-$(ls -d "$work"/corpus-*/bundles.ndjson 2>/dev/null | head -n 1)}
    unit=Bundles
    ;;
  import)
    load=$edsctl
    count=${MESSAGES:-300000}
    file=${RESOURCES_FILE:-$(ls -d "$work"/corpus-*/resources.ndjson 2>/dev/null | head -n 1)}
    unit=resources
    ;;
  *)
    echo "$0: FEED is mllp, fhir or import, not $feed" >&2
    exit 2
    ;;
esac
for f in "$edsctl" "$load" "${binaries[@]}"; do
  [[ -x $f ]] || {
    echo "$0: $f is missing (cmake --preset bench && cmake --build build-bench)" >&2
    exit 1
  }
done
[[ -s $file ]] || {
  echo "$0: no $unit: run bench/run_ingest_benchmark.sh $work first, or set MESSAGES_FILE or" \
    "BUNDLES_FILE" >&2
  exit 1
}

if [[ $feed == import ]]; then
  # The same first resources on both sides, taken once.
  slice=$work/ab-import-$count.ndjson
  [[ -s $slice ]] || head -n "$count" "$file" >"$slice"
  file=$slice
fi

dir=
pid=
cleanup() {
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
  if [[ -n $dir ]]; then rm -rf "$dir"; fi
}
trap cleanup EXIT

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# send PORTS...: runs the feed's load driver against the daemon; prints its JSON result line.
send() {
  if [[ $feed == mllp ]]; then
    "$load" --port "$1" --messages "$file" --count "$count" --connections "$connections"
  elif [[ $feed == import ]]; then
    local t0 t1 stored
    t0=$(date +%s.%N)
    "$edsctl" --socket "$dir/edsd.sock" --json import --report "$dir/report.tsv" "$file" \
      >"$dir/import.json"
    t1=$(date +%s.%N)
    stored=$(sed -n 's/^  "stored": \([0-9]*\).*/\1/p' "$dir/import.json")
    echo "{\"seconds\":$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}'),\"stored\":${stored:-0}}"
  else
    local token
    token=$("$edsctl" --socket "$dir/edsd.sock" token create feed-ab | head -n 1)
    "$load" --port "$2" --token "$token" --bundles "$file" --count "$count" \
      --connections "$connections"
  fi
}

# run BINARY: prints "units/s p50_ms cpu_ms_per_unit".
run() {
  local ports out t0 t1 i done_ok
  dir=$(mktemp -d "$work/ab.XXXXXX")
  mapfile -t ports < <(free_ports 3)
  write_edsd_config "$dir/edsd.toml" "${ports[0]}" "${ports[1]}" "${ports[2]}" "$threads"
  "$1" --config "$dir/edsd.toml" >"$dir/edsd.log" 2>&1 &
  pid=$!
  for ((i = 0; i < 150; i++)); do
    "$edsctl" --socket "$dir/edsd.sock" status >/dev/null 2>&1 && break
    sleep 0.2
  done
  t0=$(cpu_ticks "$pid")
  out=$(send "${ports[0]}" "${ports[1]}")
  t1=$(cpu_ticks "$pid")
  kill -TERM "$pid"
  wait "$pid" || true
  pid=
  rm -rf "$dir"
  dir=
  # The run's dirty pages are written back now, not during the next run: without this the
  # second binary of each pair ran about a tenth slower than the first, the same binary too.
  sync
  sleep 2
  # Every message acknowledged AA; every Bundle's every entry stored; every resource stored.
  case $feed in
    mllp) done_ok=$(field "$out" acks_aa) ;;
    fhir) done_ok=$(field "$out" bundles) ;;
    import) done_ok=$(field "$out" stored) ;;
  esac
  if [[ $done_ok != "$count" || $(field "$out" entries_failed) != 0 ]]; then
    echo "$0: $1: not everything was stored: $out" >&2
    exit 1
  fi
  awk -v n="$count" -v s="$(field "$out" seconds)" -v p="$(field "$out" latency_ms_p50)" \
    -v c="$((t1 - t0))" -v hz="$(getconf CLK_TCK)" \
    'BEGIN {printf "%.0f %.2f %.3f\n", n / s, p, c * 1000 / hz / n}'
}

median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

declare -a results=("" "")
for ((r = 1; r <= runs; r++)); do
  for side in 0 1; do
    line=$(run "${binaries[side]}")
    echo "run $r ${binaries[side]}: $unit/s, p50 ms, CPU ms per ${unit%s}: $line"
    results[side]+="$line"$'\n'
  done
done
for side in 0 1; do
  printf '%s: median %s/s %s, p50 ms %s, CPU ms per %s %s\n' "${binaries[side]}" "$unit" \
    "$(cut -d' ' -f1 <<<"${results[side]}" | grep . | median)" \
    "$(cut -d' ' -f2 <<<"${results[side]}" | grep . | median)" "${unit%s}" \
    "$(cut -d' ' -f3 <<<"${results[side]}" | grep . | median)"
done
