#!/usr/bin/env bash
# Runs the admin API benchmark by hand: wrk on loopback against GET /api/status of a real edsd
# (signed in, 50 connections, 30 s) and, in the same run, against CivetWeb serving a static file
# with the same TLS set-up (bench/static_server). Prints requests/s and latency percentiles of both.
#   bench/run_webadmin_benchmark.sh WORKDIR
# Nothing is built here: the tools come from build-bench/ (cmake --preset bench && cmake --build
# build-bench --target edsd edsctl static_server). wrk is installed with apt-get when missing.
# Environment: DURATION (30s), CONNECTIONS (50), THREADS (2, wrk's), ADMIN_THREADS (8, edsd's).
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 WORKDIR" >&2
  exit 2
fi
repo=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
work=$(cd "$1" && pwd)
build=${BUILD:-$repo/build-bench}
# shellcheck source=bench/bench_lib.sh
. "$repo/bench/bench_lib.sh"
duration=${DURATION:-30s}
connections=${CONNECTIONS:-50}
threads=${THREADS:-2}
admin_threads=${ADMIN_THREADS:-8}
command -v wrk >/dev/null || apt-get install -y -q --no-install-recommends wrk >/dev/null

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

rm -rf "$work/node" && mkdir -p "$work/node" "$work/static"
port=$(free_ports 1)
cat > "$work/node/edsd.toml" <<TOML
[storage]
data_dir = "data"
master_key_file = "master.key"
create_master_key_file = true
[admin]
bind = "127.0.0.1"
port = $port
tls_cert = "tls/admin.crt"
tls_key = "tls/admin.key"
generate_dev_certificate = true
threads = $admin_threads
[control]
socket = "edsd.sock"
[mllp]
enabled = false
[fhir]
enabled = false
[aggregate]
packs_dir = "$repo/packs"
[update]
slots = "directory"
slots_dir = "slots"
download_dir = "update"
TOML
EDS_SSL_SHIM="$build/bin/libeds_ssl_shim.so" "$build/bin/edsd" --config "$work/node/edsd.toml" \
  > "$work/node/edsd.log" 2>&1 &
pids+=($!)
base="https://127.0.0.1:$port"
for _ in $(seq 1 100); do
  curl -skf "$base/api/health" >/dev/null && break
  sleep 0.2
done
token=$(grep -o 'setup token [0-9a-f]\{64\}' "$work/node/edsd.log" | head -1 | cut -d' ' -f3)
password="bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
curl -skf -H 'Content-Type: application/json' -X POST "$base/api/setup" -d \
  "{\"token\":\"$token\",\"admin\":{\"name\":\"bench\",\"password\":\"$password\",\"language\":\"en\"},\"settings\":{\"hospital_name\":\"bench\",\"time_zone\":\"Europe/Paris\"}}" >/dev/null
cookie=$(curl -sk -D - -o /dev/null -H 'Content-Type: application/json' -X POST "$base/api/login" \
  -d "{\"name\":\"bench\",\"password\":\"$password\"}" | tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p')
curl -skf -H "Cookie: $cookie" "$base/api/status" > "$work/status.json"

# The static side: the same certificate, a file the size of the /api/status answer.
static_port=$(free_ports 1)
cat "$work/node/tls/admin.crt" "$work/node/tls/admin.key" > "$work/static/server.pem"
head -c "$(wc -c < "$work/status.json")" /dev/zero | tr '\0' 'x' > "$work/static/status.json"
EDS_SSL_SHIM="$build/bin/libeds_ssl_shim.so" "$build/bench/static_server" --root "$work/static" \
  --cert "$work/static/server.pem" --key "$work/static/server.pem" --port "$static_port" \
  --threads "$admin_threads" > "$work/static.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  curl -skf "https://127.0.0.1:$static_port/status.json" >/dev/null && break
  sleep 0.2
done

run() {  # name url [header]
  local name=$1 url=$2
  shift 2
  wrk -t"$threads" -c"$connections" -d"$duration" --latency "$@" "$url" > "$work/wrk-$name.txt"
  local rps p99 p50
  rps=$(awk '/^Requests\/sec/ {print $2}' "$work/wrk-$name.txt")
  p50=$(awk '$1 == "50%" {print $2}' "$work/wrk-$name.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$work/wrk-$name.txt")
  printf '%-22s %12s req/s   p50 %8s   p99 %8s\n' "$name" "$rps" "$p50" "$p99"
}
echo "wrk -t$threads -c$connections -d$duration on 127.0.0.1 ($(nproc) cores, wrk on the same machine)"
echo "answer sizes: /api/status $(wc -c < "$work/status.json") B, static file the same"
run api-status "$base/api/status" -H "Cookie: $cookie"
run static-file "https://127.0.0.1:$static_port/status.json"
