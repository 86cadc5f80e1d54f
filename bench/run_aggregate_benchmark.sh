#!/usr/bin/env bash
# Runs the aggregate benchmark by hand: edsd's aggregate engine computes the default measure
# pack over facts of repeated Synthea data, and PostgreSQL 15 and SQLite compute the same
# aggregations (COUNT / COUNT DISTINCT patients by the same strata) over the same fact rows,
# side by side in one run; one table compares them (see bench/README.md).
#   bench/run_aggregate_benchmark.sh WORKDIR
# WORKDIR keeps the unpacked bundles, the stores (store-N/) and the exported rows between
# invocations: a store already loaded is reused. Nothing is built here: the tool comes from
# build-bench/ (cmake --preset bench && cmake --build build-bench --target aggregate_benchmark).
# PostgreSQL is started here in a fresh data dir, listens on 127.0.0.1 only, on a free port, and
# is stopped on exit whatever happens.
# Environment:
#   SIZES ("1000000")      resources loaded per measured size, space-separated
#   PERIOD (2019-06)       the release period computed
#   RUNS (3)               timed runs of every computation and query; the table shows medians
#   MEASURES (hospital-stays,diabetes-patients,ambulatory-visits)  the measures also written
#                          as SQL and compared cell by cell
#   STEP_TIMEOUT (3600)    seconds allowed to one step (load, compute, export, a database)
#   BUILD (build-bench), TESTDATA (../shared/testdata next to the repository),
#   PG_BIN (/usr/lib/postgresql/15/bin; postgresql-15 is installed with apt-get when missing;
#   sqlite3 likewise)
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
sizes=${SIZES:-1000000}
period=${PERIOD:-2019-06}
runs=${RUNS:-3}
measures=${MEASURES:-hospital-stays,diabetes-patients,ambulatory-visits}
step_timeout=${STEP_TIMEOUT:-3600}
pg_bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
pack=$repo/packs/eds-default.json

tool=$build/bench/aggregate_benchmark
[[ -x $tool ]] || {
  echo "$0: $tool not built (cmake --preset bench && cmake --build build-bench)" >&2
  exit 1
}

apt_install() {
  if [[ $EUID -ne 0 ]]; then
    echo "$0: $1 missing; install it" >&2
    exit 1
  fi
  echo "apt-get install $1"
  timeout 600 apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -q "$1" >/dev/null
}
[[ -x $pg_bin/initdb ]] || apt_install postgresql-15
command -v sqlite3 >/dev/null || apt_install sqlite3
# initdb refuses to run as root: the cluster belongs to the postgres user.
as_pg=()
if [[ $EUID -eq 0 ]]; then as_pg=(runuser -u postgres --); fi

# --- cleanup: whatever happens, no server is left running -------------------------------------
pg_data=
scratch=()
cleanup() {
  if [[ -n $pg_data && -f $pg_data/postmaster.pid ]]; then
    "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_data" -m immediate -w -t 30 stop >/dev/null 2>&1 ||
      kill -KILL "$(head -n 1 "$pg_data/postmaster.pid")" 2>/dev/null || true
  fi
  if [[ -n $pg_data ]]; then rm -rf "$pg_data"; fi
  for d in "${scratch[@]}"; do rm -rf "$d"; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# field JSON_LINE NAME: a numeric field of a JSON result line, 0 when absent.
field() {
  local v
  v=$(sed -n "s/.*\"$2\":\([-0-9.eE+]*\).*/\1/p" <<<"$1")
  echo "${v:-0}"
}
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.2f", b - a}'; }
# median_of_runs FILE: per statement i of a block of $n statements repeated $runs times (one
# value a line, in order), the median of its runs; prints one median a line.
median_of_runs() {
  awk -v n="$2" -v runs="$runs" '
    { v[NR - 1] = $1 }
    END {
      for (i = 0; i < n; i++) {
        k = 0
        for (r = 0; r < runs; r++) a[k++] = v[r * n + i]
        for (x = 1; x < k; x++) for (y = x; y > 0 && a[y - 1] + 0 > a[y] + 0; y--) {
          t = a[y]; a[y] = a[y - 1]; a[y - 1] = t
        }
        print (k % 2) ? a[(k - 1) / 2] : (a[k / 2 - 1] + a[k / 2]) / 2
      }
    }' "$1"
}

# --- the SQL of the compared measures ----------------------------------------------------------
# The same rows as the engine counts: facts(patient, type, system, code, day, age_months, sex,
# class, unit, code_no), one row per fact and code (code_no 0 = one row per fact). Types and
# systems are the store's fact numbers: Encounter 2, Condition 3; ICD-10 1, SNOMED CT 3.
# sql_measure DIALECT MEASURE FIRST_DAY LAST_DAY: one statement on one line whose rows are
# "measure, stratifier, value, count", as the engine's --cells.
sql_measure() {
  local month age sex unit
  if [[ $1 == pg ]]; then
    month="to_char(date '1970-01-01' + day, 'YYYY-MM')"
  else
    month="strftime('%Y-%m', day * 86400, 'unixepoch')"
  fi
  age="CASE WHEN age_months < 0 THEN 'unknown' WHEN age_months / 12 >= 75 THEN '75+'"
  age+=" WHEN age_months / 12 >= 65 THEN '65-74' WHEN age_months / 12 >= 45 THEN '45-64'"
  age+=" WHEN age_months / 12 >= 18 THEN '18-44' ELSE '0-17' END"
  sex="CASE sex WHEN 1 THEN 'male' WHEN 2 THEN 'female' WHEN 3 THEN 'other' ELSE 'unknown' END"
  unit="CASE WHEN unit = '' THEN 'unknown' ELSE unit END"
  local first=$3 last=$4
  case $2 in
    hospital-stays | ambulatory-visits)
      local class=IMP
      if [[ $2 == ambulatory-visits ]]; then class=AMB; fi
      printf '%s' "WITH e AS MATERIALIZED (SELECT day, age_months, sex, unit FROM facts" \
        " WHERE type = 2 AND code_no = 0 AND class = '$class' AND day BETWEEN $first AND $last)" \
        " SELECT '$2', 'population', 'all', count(*) FROM e"
      if [[ $2 == hospital-stays ]]; then
        printf '%s' " UNION ALL SELECT '$2', 'age-band', $age, count(*) FROM e GROUP BY 3" \
          " UNION ALL SELECT '$2', 'month', $month, count(*) FROM e GROUP BY 3" \
          " UNION ALL SELECT '$2', 'care-unit', $unit, count(*) FROM e GROUP BY 3"
      else
        printf '%s' " UNION ALL SELECT '$2', 'month', $month, count(*) FROM e GROUP BY 3" \
          " UNION ALL SELECT '$2', 'sex', $sex, count(*) FROM e GROUP BY 3"
      fi
      ;;
    diabetes-patients)
      printf '%s' "WITH e AS MATERIALIZED (SELECT patient, age_months, sex FROM facts" \
        " WHERE type = 3 AND day BETWEEN $((first - 3650)) AND $last AND" \
        " ((system = 1 AND substr(code, 1, 3) IN ('E10', 'E11', 'E12', 'E13', 'E14')) OR" \
        " (system = 3 AND code IN ('44054006', '46635009', '73211009', '190330002', '190331003'))))" \
        " SELECT '$2', 'population', 'all', count(DISTINCT patient) FROM e" \
        " UNION ALL SELECT '$2', 'sex', $sex, count(DISTINCT patient) FROM e GROUP BY 3" \
        " UNION ALL SELECT '$2', 'age-band', $age, count(DISTINCT patient) FROM e GROUP BY 3"
      ;;
    *)
      echo "$0: no SQL for measure $2 (hospital-stays, diabetes-patients, ambulatory-visits)" >&2
      return 1
      ;;
  esac
  echo ";"
}

# compare NAME FILE: the measures' cells in FILE against the engine's; records OK/MISMATCH.
compare() {
  local m verdict
  for m in "${measure_list[@]}"; do
    if cmp -s <(grep -P "^$m\t" "$engine_cells" | sort) <(grep -P "^$m\t" "$2" | sort); then
      verdict=OK
    else
      verdict=MISMATCH
      diff <(grep -P "^$m\t" "$engine_cells" | sort) <(grep -P "^$m\t" "$2" | sort) |
        head -n 10 >&2 || true
    fi
    printf '%s\t%s\t%s\t%s\n' "$size" "$1" "$m" "$verdict" >>"$checks"
    echo "check $1 $m: $verdict"
  done
}

results=$work/aggregate_benchmark_results.tsv
log=$work/aggregate_benchmark.log  # the tool's stderr: load progress, per-measure populations
: >"$log"
checks=$work/aggregate_benchmark_checks.tsv
: >"$results"
: >"$checks"
IFS=, read -r -a measure_list <<<"$measures"
n_measures=${#measure_list[@]}
# record SIZE SIDE WHAT SECONDS RSS_MIB NOTE
record() {
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$results"
  printf '%9s  %-16s %-22s %9.3f s  RSS %7.1f MiB  %s\n' "$@"
}

# --- unpacked bundles ----------------------------------------------------------------------------
unpacked=$work/unpacked
if [[ ! -f $unpacked/.complete ]]; then
  archive=$testdata/fhir/synthea/generated-sample-data-r4/bundles.tar.zst
  [[ -f $archive ]] || {
    echo "$0: $archive not found" >&2
    exit 1
  }
  rm -rf "$unpacked"
  mkdir -p "$unpacked"
  # The archive was written with a 128 MiB window; --long=27 lets zstd accept it.
  zstd -q -dc --long=27 "$archive" | tar x -C "$unpacked"
  touch "$unpacked/.complete"
fi

# --- PostgreSQL ----------------------------------------------------------------------------------
pg_base=$work/pg
mkdir -p "$pg_base"
if [[ $EUID -eq 0 ]]; then chown postgres: "$pg_base"; fi
if ! "${as_pg[@]}" test -w "$pg_base" 2>/dev/null; then
  pg_base=$(mktemp -d "${TMPDIR:-/tmp}/aggregate-bench-pg.XXXXXX")
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
  pg_port=$(free_port)
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
psql_run() {
  timeout "$step_timeout" psql -X -q -A -t -F $'\t' -v ON_ERROR_STOP=1 \
    -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres "$@"
}

facts_ddl="CREATE TABLE facts (patient bigint, type int, system int, code text, day int,"
facts_ddl+=" age_months int, sex int, class text, unit text, code_no int);"

# queries DIALECT FIRST LAST: the compared measures' statements, one a line.
queries() {
  local m
  for m in "${measure_list[@]}"; do sql_measure "$1" "$m" "$2" "$3"; done
}

for size in $sizes; do
  echo "== $size resources"
  store=$work/store-$size
  if [[ ! -s $store/load.json ]]; then
    rm -rf "$store"
    echo "load: $size resources into $store"
    timeout "$step_timeout" "$tool" load --out "$store" --bundles "$unpacked" \
      --resources "$size" >"$work/load-$size.json.new" 2>>"$log"
    mv "$work/load-$size.json.new" "$store/load.json"
  fi
  load=$(cat "$store/load.json")
  echo "store: $(field "$load" stored) resources stored ($(field "$load" rejected) rejected," \
    "$(field "$load" passes) passes), $(field "$load" patients) patients," \
    "loaded in $(field "$load" seconds) s, $(field "$load" disk_bytes) B on disk"

  # The engine: the compared measures alone (their cells are the reference), then the pack.
  engine_cells=$work/cells-$size-engine.tsv
  out=$(timeout "$step_timeout" "$tool" compute --store "$store" --period "$period" \
    --pack "$pack" --runs "$runs" --measures "$measures" --cells "$engine_cells" 2>>"$log")
  first=$(field "$out" first_day)
  last=$(field "$out" last_day)
  engine_measures=$(field "$out" seconds)
  record "$size" "edsd engine" "$n_measures measures" "$engine_measures" \
    "$(field "$out" peak_rss_mib)" "facts scanned $(field "$out" facts_scanned)"
  record "$size" "edsd facts load" "once per start" "$(field "$out" load_seconds)" \
    "$(field "$out" load_peak_rss_mib)" "$(field "$out" index_rows) facts into memory"
  out=$(timeout "$step_timeout" "$tool" compute --store "$store" --period "$period" \
    --pack "$pack" --runs "$runs" --cells "$work/cells-$size-pack.tsv" 2>>"$log")
  record "$size" "edsd engine" "whole pack ($(field "$out" measures))" "$(field "$out" seconds)" \
    "$(field "$out" peak_rss_mib)" \
    "facts scanned $(field "$out" facts_scanned), patients $(field "$out" patients_scanned)"

  tsv=$work/facts-$size.tsv
  if [[ ! -s $tsv.json ]]; then
    out=$(timeout "$step_timeout" "$tool" export --store "$store" --out "$tsv" 2>>"$log")
    echo "$out" >"$tsv.json"
  fi
  export_json=$(cat "$tsv.json")
  rows=$(field "$export_json" rows)
  echo "export: $rows fact rows of $(field "$export_json" patients) patients" \
    "($(field "$export_json" characters_replaced) characters replaced)"
  if [[ $EUID -eq 0 ]]; then chmod a+r "$tsv"; fi

  # PostgreSQL 15: COPY without index, VACUUM ANALYZE, then the statements $runs times.
  pg_start
  t0=$(now)
  psql_run -c "$facts_ddl" -c "COPY facts FROM STDIN" <"$tsv"
  pg_load=$(elapsed "$t0")
  psql_run -c "VACUUM ANALYZE facts"
  pg_cells=$work/cells-$size-pg.tsv
  {
    printf '%s\n' '\timing on' "\\o $pg_cells"
    queries pg "$first" "$last"
    printf '%s\n' '\o /dev/null'
    for ((r = 1; r < runs; r++)); do queries pg "$first" "$last"; done
    # The plans, for the record (parallel or not), after the timed runs.
    printf '%s\n' "\\o $work/pg-$size.plans"
    queries pg "$first" "$last" | sed 's/^/EXPLAIN (COSTS OFF) /'
    # The backend's peak RSS, read while the session is still open.
    # shellcheck disable=SC2016
    printf '%s\n' 'SELECT pg_backend_pid() AS backend \gset' '\setenv BACKEND :backend' \
      '\! awk '"'"'/^VmHWM:/ {print "VmHWM", $2}'"'"' /proc/$BACKEND/status'
  } >"$work/pg-$size.sql"
  psql_run -f "$work/pg-$size.sql" >"$work/pg-$size.out"
  pg_stop
  grep '^Time:' "$work/pg-$size.out" | awk '{print $2 / 1000}' >"$work/pg-$size.times"
  mapfile -t pg_medians < <(median_of_runs "$work/pg-$size.times" "$n_measures")
  pg_rss=$(awk '$1 == "VmHWM" {printf "%.1f", $2 / 1024}' "$work/pg-$size.out")
  pg_sum=$(printf '%s\n' "${pg_medians[@]}" | awk '{s += $1} END {print s}')
  record "$size" "PostgreSQL 15" "$n_measures measures" "$pg_sum" "${pg_rss:-0}" \
    "$(for i in "${!measure_list[@]}"; do printf '%s %.3f s; ' "${measure_list[$i]}" \
      "${pg_medians[$i]}"; done)COPY $rows rows $pg_load s"
  compare "PostgreSQL 15" "$pg_cells"

  # SQLite: .import without index, ANALYZE, then the statements $runs times.
  db=$work/facts-$size.sqlite
  rm -f "$db"
  t0=$(now)
  printf '%s\n' "$facts_ddl" '.mode tabs' ".import $tsv facts" 'ANALYZE;' |
    timeout "$step_timeout" sqlite3 -bail "$db"
  sqlite_load=$(elapsed "$t0")
  sqlite_cells=$work/cells-$size-sqlite.tsv
  {
    echo '.mode tabs'
    echo '.timer on'
    echo ".output $sqlite_cells"
    queries sqlite "$first" "$last"
    echo '.output /dev/null'
    for ((r = 1; r < runs; r++)); do queries sqlite "$first" "$last"; done
  } >"$work/sqlite-$size.sql"
  timeout "$step_timeout" /usr/bin/time -f 'maxrss_kib %M' -o "$work/sqlite-$size.rss" \
    sqlite3 -bail "$db" <"$work/sqlite-$size.sql" >"$work/sqlite-$size.out"
  # The shell's timer writes to stdout whatever .output says.
  grep '^Run Time:' "$work/sqlite-$size.out" | awk '{print $4}' >"$work/sqlite-$size.times"
  mapfile -t sqlite_medians < <(median_of_runs "$work/sqlite-$size.times" "$n_measures")
  sqlite_rss=$(awk '$1 == "maxrss_kib" {printf "%.1f", $2 / 1024}' "$work/sqlite-$size.rss")
  sqlite_sum=$(printf '%s\n' "${sqlite_medians[@]}" | awk '{s += $1} END {print s}')
  record "$size" "SQLite $(sqlite3 --version | cut -d' ' -f1)" "$n_measures measures" \
    "$sqlite_sum" "${sqlite_rss:-0}" \
    "$(for i in "${!measure_list[@]}"; do printf '%s %.3f s; ' "${measure_list[$i]}" \
      "${sqlite_medians[$i]}"; done).import $rows rows $sqlite_load s"
  compare "SQLite" "$sqlite_cells"
  rm -f "$db"
done

# --- table -------------------------------------------------------------------------------------
echo
echo "Medians of $runs runs, period $period ($(nproc) cores):"
printf '%-9s  %-16s %-22s %9s %9s %12s\n' size side what seconds RSS_MiB "x engine"
awk -F'\t' '
  $2 == "edsd engine" && $3 !~ /^whole/ { engine[$1] = $4 }
  { rows[NR] = $0 }
  END {
    for (i = 1; i <= NR; i++) {
      split(rows[i], f, "\t")
      ratio = (f[2] !~ /^edsd/ && engine[f[1]] > 0) ? sprintf("%.1f", f[4] / engine[f[1]]) : "-"
      printf "%-9s  %-16s %-22s %9.3f %9.1f %12s\n", f[1], f[2], f[3], f[4], f[5], ratio
    }
  }' "$results"
echo
echo "Cells of the compared measures against the engine's:"
awk -F'\t' '{printf "%-9s  %-16s %-22s %s\n", $1, $2, $3, $4}' "$checks"
cat <<EOF

Notes:
- x engine: the side's seconds over the engine's for the same $n_measures measures
  ($measures) in the same run.
- edsd facts load: the store's facts decrypted and decoded into the in-memory FactIndex, as
  edsd does once, at its first release after a start (ingest keeps it current afterwards).
- edsd engine: aggregate::ComputeMeasures over that FactIndex, in-process, RSS = VmHWM of that
  process (the index included).
- PostgreSQL 15 defaults (shared_buffers 128 MB, parallel workers on), table facts
  loaded by COPY, no index, VACUUM ANALYZE; RSS = VmHWM of the session's backend (parallel
  workers not counted). SQLite on disk, .import, no index, ANALYZE; RSS = its process's.
- SQL: one statement per measure, a MATERIALIZED CTE of the population's rows then one
  GROUP BY per stratifier, COUNT(*) for events, COUNT(DISTINCT patient) for patients.
EOF
if grep -q MISMATCH "$checks"; then exit 1; fi
