# shellcheck shell=bash
# Helpers shared by the image tests (test-boot.sh, test-update.sh); sourced, not run. The caller
# defines log and fail.

# Packages this build's binaries (cpack) and prints the newest eds-node .deb of BUILD_DIR.
package_deb() {  # package_deb BUILD_DIR
  log "packaging eds-node from $1"
  (cd "$1" && cpack -G DEB >"$1/cpack.log" 2>&1) ||
    { tail -n 20 "$1/cpack.log" >&2; fail "cpack failed"; }
  find "$1" -maxdepth 1 -name 'eds-node_*.deb' -printf '%T@ %p\n' | sort -n | tail -n 1 |
    cut -d' ' -f2
}

# Prints a free TCP port on 127.0.0.1 (a bounded number of tries).
free_port() {
  local candidate
  for _ in $(seq 1 20); do
    candidate=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}
