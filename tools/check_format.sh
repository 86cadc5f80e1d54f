#!/bin/sh
# Fails when a C++ file in the tree is not clang-formatted (.clang-format at the root).
set -eu
cd "$(dirname "$0")/.."
bad=$(git ls-files '*.h' '*.cc' '*.c' | while read -r f; do
  clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || echo "$f"
done)
if [ -n "$bad" ]; then
  echo "not clang-formatted (run clang-format -i):" >&2
  echo "$bad" >&2
  exit 1
fi
