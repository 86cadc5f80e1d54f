#!/bin/bash
# The A/B update of the appliance, end to end, in qemu-system-x86_64 (TCG, UEFI firmware OVMF):
#   1. builds three images from this build's package: v1 (1.0.0), an update v2 (1.1.0) and a
#      deliberately broken v3 (1.2.0, whose edsd fails to start, so its health check fails);
#      the same RAUC signing key and TUF root for all three;
#   2. boots v1 (slot A), sets the box up through the admin API (setup token from the console),
#      uploads v2 as a signed offline update bundle (TUF metadata from eds-update-sign around the
#      RAUC bundle) to POST /api/system/update;
#   3. sees the box reboot into slot B, pass its health check and commit v2;
#   4. uploads v3, sees it boot slot A on trial, fail its health check and come back on slot B,
#      v2 still committed.
# Every boot is a new qemu process on the same disk overlay (-no-reboot: a guest reboot ends
# qemu), so each boot has its own console log and every wait is bounded. The guest's network is
# restricted (user networking, restrict=on) to forwarded ports on 127.0.0.1.
#
#   image/test-update.sh --build-dir DIR [--timeout SECONDS]
#
# --timeout bounds each boot (qemu start to the expected state); default 900. Needs root.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
build_dir="$repo/build"
timeout_s=900

while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build_dir="$2"; shift 2 ;;
    --timeout) timeout_s="$2"; shift 2 ;;
    *) echo "usage: $0 --build-dir DIR [--timeout SECONDS]" >&2; exit 2 ;;
  esac
done

test_start=$(date +%s)
log() { echo "ab-test: [$(($(date +%s) - test_start)) s] $*" >&2; }
fail() { echo "ab-test: FAIL: $*" >&2; exit 1; }
# shellcheck source=image/test-lib.sh
. "$repo/image/test-lib.sh"

firmware=/usr/share/ovmf/OVMF.fd
for tool in qemu-system-x86_64 qemu-img curl base64 python3; do
  command -v "$tool" >/dev/null || fail "$tool is missing: run scripts/setup.sh"
done
[ -f "$firmware" ] || fail "$firmware is missing (package ovmf): run scripts/setup.sh"
build_dir="$(cd "$build_dir" && pwd)"
sign="$build_dir/bin/eds-update-sign"
[ -x "$sign" ] || fail "$sign is missing: build the eds-update-sign target"

# Keys and the TUF root are kept between runs (an unchanged root keeps the built images).
state="$build_dir/image-ab"
mkdir -p "$state"
run="$(mktemp -d)"
qemu_pid=""
cleanup() {
  if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
    kill "$qemu_pid"
    wait "$qemu_pid" 2>/dev/null || true
  fi
  if [ -n "${EDS_IMAGE_TEST_KEEP_LOG:-}" ]; then
    cat "$run"/serial-*.log >"$EDS_IMAGE_TEST_KEEP_LOG" 2>/dev/null || true
  fi
  rm -rf "$run"
}
trap cleanup EXIT

# --- Images and bundles ------------------------------------------------------------------------
deb="$(package_deb "$build_dir")"

tuf="$state/tuf"
if [ ! -f "$tuf/repo/metadata/1.root.json" ]; then
  log "TUF keys and root in $tuf"
  rm -rf "$tuf"
  mkdir -p "$tuf"
  for role in root targets snapshot timestamp; do
    "$sign" keygen "$tuf/$role.key" >/dev/null
  done
  "$sign" init --repo "$tuf/repo" --root-key "$tuf/root.key" --targets-key "$tuf/targets.key" \
    --snapshot-key "$tuf/snapshot.key" --timestamp-key "$tuf/timestamp.key" --expires-days 3650 \
    >/dev/null || fail "eds-update-sign init failed"
fi

# v3 is broken on purpose: its edsd exits at once, so edsctl self-test cannot pass.
mkdir -p "$run/broken/usr/sbin"
printf '#!/bin/sh\necho "edsd: deliberately broken image for the A/B test" >&2\nexit 1\n' \
  >"$run/broken/usr/sbin/edsd"
chmod 0755 "$run/broken/usr/sbin/edsd"

build_image() {  # build_image VERSION [build.sh options...]: prints the image folder
  local version="$1" image
  shift
  image="$("$repo/image/build.sh" --deb "$deb" --out "$state/images" --version "$version" \
    --rauc-key "$state/rauc-key" --tuf-root "$tuf/repo/metadata/1.root.json" "$@")" ||
    fail "image $version did not build"
  dirname "$image"
}
build_start=$(date +%s)
v1="$(build_image 1.0.0)"
v2="$(build_image 1.1.0)"
v3="$(build_image 1.2.0 --overlay "$run/broken")"
log "images built in $(($(date +%s) - build_start)) s: $(basename "$v1"), $(basename "$v2"), $(basename "$v3")"

# Offline update bundles: the RAUC bundle as the firmware target of signed TUF metadata. The
# repository is copied so that every run starts at the same targets version as a new box.
cp -a "$tuf/repo" "$run/repo"
make_bundle() {  # make_bundle VERSION RAUC_BUNDLE OUT
  # eds-update-sign bundle takes every target file of the repository: the superseded image goes,
  # or the v3 bundle would carry v2 as well.
  rm -rf "$run/repo/targets/firmware"
  "$sign" add-target --repo "$run/repo" --targets-key "$tuf/targets.key" \
    --snapshot-key "$tuf/snapshot.key" --timestamp-key "$tuf/timestamp.key" \
    --name firmware/eds-node.raucb --file "$2" --kind firmware --version "$1" >/dev/null ||
    fail "eds-update-sign add-target $1 failed"
  "$sign" bundle --repo "$run/repo" --out "$3" >/dev/null || fail "eds-update-sign bundle $1 failed"
  # The admin API takes the bundle as base64 in JSON.
  { printf '{"bundle":"'; base64 -w 0 "$3"; printf '"}'; } >"$3.json"
}
make_bundle 1.1.0 "$v2/update.raucb" "$run/v2.bundle"
make_bundle 1.2.0 "$v3/update.raucb" "$run/v3.bundle"
log "update bundles: v2 $(stat -c %s "$run/v2.bundle") bytes, v3 $(stat -c %s "$run/v3.bundle") bytes"

# --- The box -----------------------------------------------------------------------------------
qemu-img create -q -f qcow2 -b "$v1/disk.img" -F raw "$run/disk.qcow2"
port="$(free_port)" || fail "no free loopback port"
api="https://127.0.0.1:$port"

boots=0
serial=""
start_qemu() {
  boots=$((boots + 1))
  serial="$run/serial-$boots.log"
  boot_start=$(date +%s)
  # 3 GiB: edsd holds the uploaded bundle (base64 and decoded) in memory while it verifies it.
  qemu-system-x86_64 -machine q35 -accel tcg -cpu max -smp 2 -m 3072 \
    -bios "$firmware" \
    -drive "file=$run/disk.qcow2,format=qcow2,if=virtio" \
    -netdev "user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:$port-:8443" \
    -device virtio-net-pci,netdev=net0 \
    -display none -serial "file:$serial" -monitor none -no-reboot &
  qemu_pid=$!
  log "boot $boots: qemu started"
}
wait_console() {  # wait_console REGEX: until the console of this boot shows it
  local deadline=$((boot_start + timeout_s))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    if grep -Eaq "$1" "$serial" 2>/dev/null; then return 0; fi
    kill -0 "$qemu_pid" 2>/dev/null || { tail -n 40 "$serial" >&2; fail "qemu exited waiting for /$1/"; }
    sleep 3
  done
  tail -n 60 "$serial" >&2
  fail "boot $boots: no /$1/ on the console within $timeout_s s"
}
wait_reboot() {  # the guest reboots: qemu ends (-no-reboot)
  local deadline=$((boot_start + timeout_s))
  while kill -0 "$qemu_pid" 2>/dev/null; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      tail -n 60 "$serial" >&2
      fail "boot $boots: the box did not reboot within $timeout_s s"
    fi
    sleep 2
  done
  wait "$qemu_pid" 2>/dev/null || true
  qemu_pid=""
  log "boot $boots ended (reboot) after $(($(date +%s) - boot_start)) s"
}
wait_api() {
  local deadline=$((boot_start + timeout_s)) health=""
  while [ "$(date +%s)" -lt "$deadline" ]; do
    kill -0 "$qemu_pid" 2>/dev/null || { tail -n 40 "$serial" >&2; fail "qemu exited during boot $boots"; }
    health="$(curl -sk --max-time 5 "$api/api/health" 2>/dev/null || true)"
    if echo "$health" | grep -Eq '"status" *: *"ok"'; then
      log "boot $boots: /api/health ok $(($(date +%s) - boot_start)) s after qemu started"
      return 0
    fi
    sleep 5
  done
  tail -n 60 "$serial" >&2
  fail "boot $boots: no /api/health ok within $timeout_s s"
}

# JSON field of a file or string, with Python (no jq on the box's builders).
json_get() {  # json_get EXPR: reads JSON on stdin, prints EXPR of it (d is the document)
  python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"
}
cookie=""
csrf=""
login() {
  local body
  body="$(curl -sk --max-time 30 -D "$run/login.headers" -H 'Content-Type: application/json' \
    --data '{"name":"ab-admin","password":"Ab-test!update-2024"}' "$api/api/login")" ||
    fail "login failed"
  cookie="$(sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p' "$run/login.headers" | head -n 1)"
  csrf="$(echo "$body" | json_get 'd["csrf_token"]')" || fail "login answered $body"
}
api_get() {  # api_get PATH
  curl -sk --max-time 30 -H "Cookie: $cookie" -H "X-CSRF-Token: $csrf" "$api$1"
}
upload() {  # upload JSON_FILE: POST /api/system/update; prints the HTTP status (000: cut off)
  curl -sk --max-time 1800 -o "$run/upload.out" -w '%{http_code}' -H "Cookie: $cookie" \
    -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' --data-binary "@$1" \
    "$api/api/system/update" || true
}
slots_line() {  # the slots of GET /api/system/update, on one line
  api_get /api/system/update | json_get \
    '"booted=%s committed=%s pending=%s version=%s" % (d["slots"]["booted"], d["slots"]["committed"], d["slots"]["pending"], d["slots"]["installed_version"])'
}
wait_slots() {  # wait_slots EXPECTED: GET /api/system/update until its slots say so (bounded)
  local deadline=$(($(date +%s) + 300)) line=""
  while [ "$(date +%s)" -lt "$deadline" ]; do
    line="$(slots_line 2>/dev/null || true)"
    if [ "$line" = "$1" ]; then
      log "boot $boots: GET /api/system/update: $line"
      return 0
    fi
    sleep 5
  done
  fail "boot $boots: slots are '$line', expected '$1'"
}

# Boot 1: v1 in slot A; the admin account through the setup token on the console.
start_qemu
wait_api
wait_console 'Admin setup token'
setup_token="$(grep -a -A1 'Admin setup token' "$serial" | tail -n 1 | tr -d ' \r\n')"
[[ "$setup_token" =~ ^[0-9a-f]{64}$ ]] || fail "no admin setup token on the console: '$setup_token'"
code="$(curl -sk --max-time 60 -o "$run/setup.out" -w '%{http_code}' -H 'Content-Type: application/json' \
  --data "{\"token\":\"$setup_token\",\"admin\":{\"name\":\"ab-admin\",\"password\":\"Ab-test!update-2024\",\"language\":\"en\"},\"settings\":{\"hospital_name\":\"A/B test\",\"time_zone\":\"Europe/Paris\"}}" \
  "$api/api/setup")"
[ "$code" = 200 ] || fail "POST /api/setup answered $code: $(cat "$run/setup.out")"
login
wait_slots "booted=a committed=a pending= version=1.0.0"
wait_console 'eds-boot-report: slot a \(image 1\.0\.0\): edsd READY=1'

# Uploads NAME's bundle and waits for the box to reboot (the answer may be cut by the reboot).
install_update() {  # install_update NAME
  local code start
  start=$(date +%s)
  code="$(upload "$run/$1.bundle.json")"
  log "POST /api/system/update ($1) answered $code after $(($(date +%s) - start)) s: $(head -c 300 "$run/upload.out" 2>/dev/null)"
  [ "$code" = 200 ] || [ "$code" = 000 ] || fail "the $1 upload was refused: $(head -c 4000 "$run/upload.out")"
  wait_reboot
}

# v2: uploaded, installed into slot B, then the box reboots.
log "uploading v2 ($(stat -c %s "$run/v2.bundle.json") bytes of JSON)"
upload_start=$(date +%s)
install_update v2

# Boot 2: slot B on trial passes its health check and is committed.
start_qemu
wait_console 'eds-health: slot b on trial'
wait_console 'eds-health: slot b passed its health check'
wait_api
login
wait_slots "booted=b committed=b pending= version=1.1.0"
wait_console 'eds-boot-report: slot b \(image 1\.1\.0\): edsd READY=1'
boots_to_commit=$boots
commit_s=$(($(date +%s) - upload_start))
log "v2 committed in slot B: $((boots_to_commit - 1)) boot after the upload, $commit_s s from upload to commit"

# v3: broken. Installed into slot A, it boots on trial, fails and the box returns to slot B.
log "uploading v3 (broken on purpose)"
upload_start=$(date +%s)
install_update v3

# Boot 3: slot A on trial (its boot counter used once), health check fails, reboot.
start_qemu
wait_console 'eds-health: slot a on trial \(eds-[0-9]+-a\+[0-9]+-[0-9]+\.conf\)'
grep -a 'eds-health: slot a on trial' "$serial" >&2
wait_console 'eds-health: slot a FAILED its health check'
wait_reboot

# Boot 4: back on slot B, v2 still committed, nothing pending.
start_qemu
wait_console 'eds-health: slot b is committed'
wait_api
login
wait_slots "booted=b committed=b pending= version=1.1.0"
wait_console 'eds-boot-report: slot b \(image 1\.1\.0\): edsd READY=1'
rollback_s=$(($(date +%s) - upload_start))
log "v3 rolled back: $((boots - boots_to_commit)) boots after the upload (trial, then slot B), $rollback_s s from upload to slot B again"
log "PASS: $boots boots in $(($(date +%s) - test_start)) s (v2 committed $commit_s s after its upload, v3 rolled back $rollback_s s after its upload)"
