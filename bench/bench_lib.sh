# Helpers the benchmark scripts share (sourced, not run).

# free_ports N: N distinct free TCP ports on 127.0.0.1, one a line.
free_ports() {
  python3 -c 'import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
for s in socks: print(s.getsockname()[1])' "$1"
}

# field JSON_LINE NAME: a numeric field of a JSON result line, 0 when absent.
field() {
  local v
  v=$(sed -n "s/.*\"$2\":\([-0-9.eE+]*\).*/\1/p" <<<"$1")
  echo "${v:-0}"
}

# write_edsd_config FILE MLLP_PORT FHIR_PORT ADMIN_PORT [MLLP_THREADS]: edsd's config for a
# measurement, loopback only, with its data, development key and certificate beside FILE;
# mllp.threads is edsd's default unless given.
write_edsd_config() {
  cat >"$1" <<CONFIG
# Written by a benchmark script: loopback only, development key and certificate.
[storage]
data_dir = "data"
master_key_file = "master.key"
create_master_key_file = true

[admin]
bind = "127.0.0.1"
port = $4
tls_cert = "tls/admin.crt"
tls_key = "tls/admin.key"
generate_dev_certificate = true

[control]
socket = "edsd.sock"

[mllp]
bind = "127.0.0.1"
port = $2
${5:+threads = $5}

[fhir]
bind = "127.0.0.1"
port = $3
CONFIG
}
