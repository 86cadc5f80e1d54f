#!/bin/sh
# Sets up, builds and runs edsd on its embedded development defaults: the store under var/ in the
# checkout, a generated master key file and a self-signed TLS certificate (config/edsd.dev.toml).
set -eu
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh release
mkdir -p var
echo "edsd: starting; admin interface at https://127.0.0.1:8443/ (self-signed development certificate)"
echo "edsd: stop with Ctrl-C; 'build/bin/edsctl --config config/edsd.dev.toml status' in another shell"
exec ./build/bin/edsd --config config/edsd.dev.toml
