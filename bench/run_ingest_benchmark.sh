#!/usr/bin/env bash
# Runs the ingest benchmark by hand: PostgreSQL 15 and edsd take in the same Synthea resources,
# side by side in one run, and one table compares them (see bench/README.md).
#   bench/run_ingest_benchmark.sh WORKDIR
# WORKDIR keeps the corpus between invocations (about 3.5 GB at 1 M resources) and holds the
# data dirs of the measurements, each deleted once measured. Nothing is built here: the tools and
# the daemon come from build-bench/ (cmake --preset bench && cmake --build build-bench).
# Every server is started here, listens on 127.0.0.1 only, on a free port, in a fresh data dir,
# and is stopped on exit whatever happens.
# Environment:
#   RESOURCES (1000000)     resources of the COPY, import and FHIR measurements
#   MESSAGES (200000)       HL7 v2 messages of each MLLP measurement
#   CONNECTIONS (8)         connections of the PostgreSQL INSERT and the multi-connection MLLP runs
#   FHIR_CONNECTIONS (4)    concurrent HTTPS connections of the FHIR run
#   PG_INSERT_ROWS (200000) rows of the PostgreSQL INSERT run (at most RESOURCES)
#   RUNS (1)                repetitions of every measurement; with RUNS > 1 the table shows medians
#   STEP_TIMEOUT (1800)     seconds allowed to one measurement
#   BUILD (build-bench), TESTDATA (../shared/testdata next to the repository),
#   PG_BIN (/usr/lib/postgresql/15/bin; postgresql-15 is installed with apt-get when missing)
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 WORKDIR" >&2
  exit 2
fi
repo=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
work=$(cd "$1" && pwd)
build=${BUILD:-$repo/build-bench}
testdata=${TESTDATA:-$repo/../shared/testdata}
# shellcheck source=bench/bench_lib.sh
. "$repo/bench/bench_lib.sh"
resources=${RESOURCES:-1000000}
messages=${MESSAGES:-200000}
connections=${CONNECTIONS:-8}
fhir_connections=${FHIR_CONNECTIONS:-4}
pg_insert_rows=${PG_INSERT_ROWS:-200000}
runs=${RUNS:-1}
step_timeout=${STEP_TIMEOUT:-1800}
pg_bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
if ((pg_insert_rows > resources)); then pg_insert_rows=$resources; fi
# The corpus always holds at least 200 000 messages; MESSAGES bounds what one run sends.
corpus_messages=$((messages > 200000 ? messages : 200000))

edsd=$build/bin/edsd
edsctl=$build/bin/edsctl
ingest_corpus=$build/bench/ingest_corpus
pg_ingest=$build/bench/pg_ingest
fhir_load=$build/bench/fhir_load
mllp_load=$build/bench/mllp_load
for b in "$edsd" "$edsctl" "$ingest_corpus" "$pg_ingest" "$fhir_load" "$mllp_load"; do
  [[ -x $b ]] || {
    echo "$0: $b not built (cmake --preset bench && cmake --build build-bench)" >&2
    exit 1
  }
done

if [[ ! -x $pg_bin/initdb ]]; then
  if [[ $EUID -ne 0 ]]; then
    echo "$0: PostgreSQL 15 not found in $pg_bin; install postgresql-15 or set PG_BIN" >&2
    exit 1
  fi
  echo "PostgreSQL 15 not found: apt-get install postgresql-15"
  timeout 600 apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -q postgresql-15 >/dev/null
fi
# initdb refuses to run as root: the cluster belongs to the postgres user.
as_pg=()
if [[ $EUID -eq 0 ]]; then as_pg=(runuser -u postgres --); fi

free_kib=$(df -Pk "$work" | awk 'NR == 2 {print $4}')
need_kib=$((resources * 8))  # corpus, one PostgreSQL cluster and one edsd data dir at a time
if ((free_kib < need_kib)); then
  echo "$0: less than $((need_kib / 1024 / 1024)) GiB free under $work" >&2
  exit 1
fi

# --- cleanup: whatever happens, no server is left running -------------------------------------
edsd_pid=
pg_data=
scratch=()
cleanup() {
  if [[ -n $edsd_pid ]] && kill -0 "$edsd_pid" 2>/dev/null; then
    kill -KILL "$edsd_pid" 2>/dev/null || true
    wait "$edsd_pid" 2>/dev/null || true
  fi
  if [[ -n $pg_data && -f $pg_data/postmaster.pid ]]; then
    "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_data" -m immediate -w -t 30 stop >/dev/null 2>&1 ||
      kill -KILL "$(head -n 1 "$pg_data/postmaster.pid")" 2>/dev/null || true
  fi
  if [[ -n $pg_data ]]; then rm -rf "$pg_data"; fi
  for d in "${scratch[@]}"; do rm -rf "$d"; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
du_bytes() { du -sb "$1" | cut -f1; }

# --- corpus ------------------------------------------------------------------------------------
corpus=$work/corpus-r$resources-m$corpus_messages
if [[ ! -s $corpus/summary.json ]]; then
  archive=$testdata/fhir/synthea/generated-sample-data-r4/bundles.tar.zst
  [[ -f $archive ]] || {
    echo "$0: $archive not found" >&2
    exit 1
  }
  echo "preparing the corpus in $corpus"
  rm -rf "$corpus.partial"
  scratch+=("$corpus.partial")
  mkdir -p "$corpus.partial/unpacked"
  # The archive was written with a 128 MiB window; --long=27 lets zstd accept it.
  zstd -q -dc --long=27 "$archive" | tar x -C "$corpus.partial/unpacked"
  "$ingest_corpus" --bundles "$corpus.partial/unpacked" --out "$corpus.partial" \
    --resources "$resources" --messages "$corpus_messages" >"$corpus.partial/summary.json.new"
  rm -rf "$corpus.partial/unpacked"
  mv "$corpus.partial/summary.json.new" "$corpus.partial/summary.json"
  mv "$corpus.partial" "$corpus"
fi
summary=$(cat "$corpus/summary.json")
bundles=$(field "$summary" bundles)
echo "corpus: $(field "$summary" resources) resources ($(field "$summary" resource_passes) passes" \
  "over $(field "$summary" resources_per_pass) Synthea resources), $bundles Bundles of" \
  "$(field "$summary" bundle_entries), $(field "$summary" messages) HL7 messages"

results=$work/ingest_benchmark_results.tsv
: >"$results"
# record SIDE UNIT COUNT SECONDS RESOURCES RSS_MIB DISK_BYTES FAILURES NOTE
record() {
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$results"
  printf 'run %s: %-16s %9s %-9s %8.1f s  %s resources  RSS %.1f MiB  disk %s B  failures %s  %s\n' \
    "$run" "$1" "$3" "$2" "$4" "$5" "$6" "$7" "$8" "$9"
}

# --- PostgreSQL --------------------------------------------------------------------------------
pg_base=$work/pg
mkdir -p "$pg_base"
if [[ $EUID -eq 0 ]]; then chown postgres: "$pg_base"; fi
if ! "${as_pg[@]}" test -w "$pg_base" 2>/dev/null; then
  # WORKDIR is not reachable by the postgres user (e.g. under /root): use the temp dir.
  pg_base=$(mktemp -d "${TMPDIR:-/tmp}/ingest-bench-pg.XXXXXX")
  scratch+=("$pg_base")
  if [[ $EUID -eq 0 ]]; then chown postgres: "$pg_base"; fi
fi

pg_start() {
  pg_data=$pg_base/data
  rm -rf "$pg_data"
  "${as_pg[@]}" "$pg_bin/initdb" -D "$pg_data" -U postgres -A trust -E UTF8 --no-locale \
    >"$pg_base/initdb.log" 2>&1 || {
    cat "$pg_base/initdb.log" >&2
    return 1
  }
  pg_port=$(free_ports 1)
  "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_data" -l "$pg_base/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $pg_port -c unix_socket_directories=$pg_data" \
    start >/dev/null || {
    tail -n 20 "$pg_base/server.log" >&2
    return 1
  }
}
pg_stop() {
  "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_data" -m fast -w -t 60 stop >/dev/null
  rm -rf "$pg_data"
  pg_data=
}
# pg_measure copy|insert
pg_measure() {
  local mode=$1 rows=$resources extra=() out du side
  if [[ $mode == insert ]]; then
    rows=$pg_insert_rows
    extra=(--connections "$connections")
  fi
  pg_start
  out=$(timeout "$step_timeout" "$pg_ingest" "$mode" \
    --conninfo "host=127.0.0.1 port=$pg_port user=postgres dbname=postgres" \
    --ndjson "$corpus/resources.ndjson" --rows "$rows" "${extra[@]}") || {
    echo "$0: pg_ingest $mode failed" >&2
    return 1
  }
  du=$(du_bytes "$pg_data")  # after the CHECKPOINT pg_ingest ends with
  pg_stop
  side="pg COPY"
  if [[ $mode == insert ]]; then side="pg INSERT x$connections"; fi
  record "$side" rows "$(field "$out" rows)" "$(field "$out" seconds)" "$(field "$out" rows)" \
    "$(field "$out" peak_rss_mib)" "$(field "$out" table_total_bytes)" "$(field "$out" failures)" \
    "du $du B, WAL $(field "$out" wal_bytes) B"
}

# --- edsd --------------------------------------------------------------------------------------
edsd_start() {
  eds_dir=$(mktemp -d "$work/edsd.XXXXXX")
  scratch+=("$eds_dir")
  eds_sock=$eds_dir/edsd.sock
  local ports
  mapfile -t ports < <(free_ports 3)
  mllp_port=${ports[0]}
  fhir_port=${ports[1]}
  write_edsd_config "$eds_dir/edsd.toml" "$mllp_port" "$fhir_port" "${ports[2]}"
  "$edsd" --config "$eds_dir/edsd.toml" >"$eds_dir/edsd.log" 2>&1 &
  edsd_pid=$!
  local i
  for ((i = 0; i < 150; i++)); do
    if "$edsctl" --socket "$eds_sock" status >/dev/null 2>&1; then return 0; fi
    kill -0 "$edsd_pid" 2>/dev/null || break
    sleep 0.2
  done
  echo "$0: edsd did not come up:" >&2
  tail -n 20 "$eds_dir/edsd.log" >&2
  return 1
}
edsd_rss_mib() { awk '/^VmHWM:/ {printf "%.1f", $2 / 1024}' "/proc/$edsd_pid/status"; }
edsd_stop() {
  local i
  kill -TERM "$edsd_pid"
  for ((i = 0; i < 300; i++)); do
    kill -0 "$edsd_pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$edsd_pid" 2>/dev/null; then
    echo "$0: edsd did not stop within 60 s: killed" >&2
    kill -KILL "$edsd_pid"
  fi
  wait "$edsd_pid" 2>/dev/null || true
  edsd_pid=
}
# edsd_finish SIDE UNIT COUNT SECONDS RESOURCES FAILURES NOTE: stop, measure, record, delete
# (the daemon's log is kept in WORKDIR when something failed).
edsd_finish() {
  local rss disk log
  rss=$(edsd_rss_mib)
  edsd_stop
  disk=$(du_bytes "$eds_dir/data")
  record "$1" "$2" "$3" "$4" "$5" "$rss" "$disk" "$6" "${7:-}"
  if (($6 > 0)); then
    log=$work/edsd-$(tr ' ' '-' <<<"$1")-run$run.log
    cp "$eds_dir/edsd.log" "$log"
    echo "$0: $1: $6 failures; edsd's log kept in $log" >&2
  fi
  rm -rf "$eds_dir"
}
# latency JSON_LINE: the per-request latency note of a driver's result.
latency() {
  printf 'latency ms p50 %.1f p99 %.1f max %.1f' "$(field "$1" latency_ms_p50)" \
    "$(field "$1" latency_ms_p99)" "$(field "$1" latency_ms_max)"
}

eds_import() {
  local t0 t1 rc=0
  edsd_start
  t0=$(now)
  timeout "$step_timeout" "$edsctl" --socket "$eds_sock" import --report "$eds_dir/import.report.tsv" \
    "$corpus/resources.ndjson" \
    >"$eds_dir/import.log" 2>&1 || rc=$?
  t1=$(now)
  if ((rc != 0)); then
    echo "$0: edsctl import failed ($rc):" >&2
    tail -n 5 "$eds_dir/import.log" >&2
  fi
  edsd_finish "edsd import" resources "$resources" "$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')" \
    "$((rc == 0 ? resources : 0))" "$((rc == 0 ? 0 : resources))" "edsctl import, exit $rc"
}

eds_fhir() {
  local token out
  edsd_start
  token=$("$edsctl" --socket "$eds_sock" token create ingest-bench | head -n 1)
  out=$(timeout "$step_timeout" "$fhir_load" --port "$fhir_port" --token "$token" \
    --bundles "$corpus/bundles.ndjson" --count "$bundles" --connections "$fhir_connections") ||
    echo "$0: fhir_load reported failures" >&2
  edsd_finish "edsd FHIR x$fhir_connections" bundles "$(field "$out" bundles)" \
    "$(field "$out" seconds)" "$(field "$out" entries_ok)" \
    "$(($(field "$out" bundles_failed) + $(field "$out" entries_failed) + $(field "$out" errors) + \
      $(field "$out" unsent)))" \
    "$(latency "$out"), TLS handshakes $(field "$out" tls_handshakes), resumed $(field "$out" tls_resumed)"
}

# eds_mllp CONNECTIONS
eds_mllp() {
  local out
  edsd_start
  out=$(timeout "$step_timeout" "$mllp_load" --port "$mllp_port" --messages "$corpus/messages.hl7" \
    --count "$messages" --connections "$1") || echo "$0: mllp_load reported failures" >&2
  edsd_finish "edsd MLLP x$1" messages "$(field "$out" acks_aa)" "$(field "$out" seconds)" \
    "$(field "$out" resources)" \
    "$(($(field "$out" acks_other) + $(field "$out" lost) + $(field "$out" unsent)))" \
    "$(latency "$out"), ACKs not AA $(field "$out" acks_other), connection errors $(field "$out" errors)"
}

have_import=1
if ! "$edsctl" import --help >/dev/null 2>&1; then
  have_import=0
  echo "edsctl import not available: skipped"
fi

for ((run = 1; run <= runs; run++)); do
  pg_measure copy
  pg_measure insert
  if ((have_import)); then eds_import; fi
  eds_fhir
  eds_mllp 1
  if ((connections > 1)); then eds_mllp "$connections"; fi
done

# --- table -------------------------------------------------------------------------------------
echo
if ((runs > 1)); then echo "Medians of $runs runs:"; fi
printf '%-18s %-9s %9s %9s %10s %10s %12s %9s %14s %8s %8s\n' side unit count seconds rate/s \
  resources resources/s RSS_MiB bytes_on_disk B/res failures
awk -F'\t' '
  function median(list, n,   a, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
      t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
    }
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  !($1 in unit) { order[++sides] = $1; unit[$1] = $2 }
  {
    count[$1] = count[$1] " " $3; secs[$1] = secs[$1] " " $4; res[$1] = res[$1] " " $5
    rate[$1] = rate[$1] " " ($4 > 0 ? $3 / $4 : 0); rrate[$1] = rrate[$1] " " ($4 > 0 ? $5 / $4 : 0)
    rss[$1] = rss[$1] " " $6; disk[$1] = disk[$1] " " $7
    bpr[$1] = bpr[$1] " " ($5 > 0 ? $7 / $5 : 0); fail[$1] = fail[$1] " " $8
  }
  END {
    for (i = 1; i <= sides; i++) {
      s = order[i]
      printf "%-18s %-9s %9d %9.1f %10.0f %10d %12.0f %9.1f %14d %8.0f %8d\n", s, unit[s],
        median(count[s]), median(secs[s]), median(rate[s]), median(res[s]), median(rrate[s]),
        median(rss[s]), median(disk[s]), median(bpr[s]), median(fail[s])
    }
  }' "$results"

cat <<EOF

Notes:
- Same corpus on every side: $resources Synthea resources (pass p adds "-p<p>" to every id,
  reference and patient identifier), $bundles transaction Bundles of $(field "$summary" bundle_entries)
  PUT entries, $messages HL7 v2.5 messages (ADT^A04 + ORU^R01) per MLLP run.
- PostgreSQL 15 defaults (fsync on, synchronous_commit on, shared_buffers 128 MB), table
  resources(id bigserial, type text, resource jsonb) without any index. COPY: one statement,
  one transaction. INSERT: $connections connections, one INSERT per transaction, each waiting for
  its commit, $pg_insert_rows rows. RSS: VmHWM of the backend (largest of the $connections for
  INSERT), shared buffers it touched included. Bytes on disk: pg_total_relation_size (heap,
  TOAST, indexes) after CHECKPOINT; du of the whole data dir and the WAL written per run above.
- edsd: a fresh daemon and data dir per measurement, product defaults; a 2xx or an AA means the
  write is durable. RSS: VmHWM of edsd after the run. Bytes on disk: du of the data dir after
  the daemon stopped. MLLP resources: the FHIR resources the accepted messages map to
  (ADT: Patient + Encounter; ORU: Patient + Observations + DiagnosticReport); edsd also keeps
  the original message.
- FHIR: $fhir_connections connections kept alive, one Bundle in flight on each (TLS handshakes
  counted above).
- The load drivers run on the same machine ($(nproc) cores) and take CPU from the server.
EOF
