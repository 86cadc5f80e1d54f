#!/usr/bin/env bash
# Compares two edsd binaries on MLLP alone, in interleaved runs (A, B, A, B, ...), so a noisy
# machine drifts both sides alike:
#   bench/run_mllp_ab.sh WORKDIR EDSD_A EDSD_B
# The messages come from the ingest benchmark's corpus in WORKDIR (bench/run_ingest_benchmark.sh
# makes it), or from MESSAGES_FILE. Each run starts the binary on a fresh data dir, listening on
# 127.0.0.1 only, sends the messages with mllp_load, reads the daemon's CPU time from /proc around
# the load, and stops it. A binary that is not the build's own needs its shims beside it (copy
# BUILD/bin/*.so with it).
# Environment: RUNS (3), MESSAGES (20000), CONNECTIONS (8), THREADS (mllp.threads; edsd's default
#   when unset),
#   BUILD (build-bench), MESSAGES_FILE.
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
runs=${RUNS:-3}
messages=${MESSAGES:-20000}
connections=${CONNECTIONS:-8}
threads=${THREADS:-}
edsctl=$build/bin/edsctl
mllp_load=$build/bench/mllp_load
file=${MESSAGES_FILE:-$(ls -d "$work"/corpus-*/messages.hl7 2>/dev/null | head -n 1)}
for f in "$edsctl" "$mllp_load" "${binaries[@]}"; do
  [[ -x $f ]] || {
    echo "$0: $f is missing (cmake --preset bench && cmake --build build-bench)" >&2
    exit 1
  }
done
[[ -s $file ]] || {
  echo "$0: no messages: run bench/run_ingest_benchmark.sh $work first, or set MESSAGES_FILE" >&2
  exit 1
}

dir=
pid=
cleanup() {
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
  if [[ -n $dir ]]; then rm -rf "$dir"; fi
}
trap cleanup EXIT

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# run BINARY: prints "messages/s p50_ms cpu_ms_per_message".
run() {
  local ports out t0 t1 i
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
  out=$("$mllp_load" --port "${ports[0]}" --messages "$file" --count "$messages" \
    --connections "$connections")
  t1=$(cpu_ticks "$pid")
  kill -TERM "$pid"
  wait "$pid" || true
  pid=
  rm -rf "$dir"
  dir=
  if [[ $(field "$out" acks_aa) != "$messages" ]]; then
    echo "$0: $1: not every message was acknowledged AA: $out" >&2
    exit 1
  fi
  awk -v r="$(field "$out" messages_per_s)" -v p="$(field "$out" latency_ms_p50)" \
    -v c="$((t1 - t0))" -v hz="$(getconf CLK_TCK)" -v n="$messages" \
    'BEGIN {printf "%.0f %.2f %.3f\n", r, p, c * 1000 / hz / n}'
}

median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

declare -a results=("" "")
for ((r = 1; r <= runs; r++)); do
  for side in 0 1; do
    line=$(run "${binaries[side]}")
    echo "run $r ${binaries[side]}: messages/s, p50 ms, CPU ms per message: $line"
    results[side]+="$line"$'\n'
  done
done
for side in 0 1; do
  printf '%s: median messages/s %s, p50 ms %s, CPU ms per message %s\n' "${binaries[side]}" \
    "$(cut -d' ' -f1 <<<"${results[side]}" | grep . | median)" \
    "$(cut -d' ' -f2 <<<"${results[side]}" | grep . | median)" \
    "$(cut -d' ' -f3 <<<"${results[side]}" | grep . | median)"
done
