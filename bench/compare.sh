#!/usr/bin/env bash
# The server's fan-out (P5) of a base revision against the work tree, in interleaved
# rounds, on a quiet machine. One command:
#   bench/compare.sh [BASE_REV] [ROUNDS]        (default: main, 5 rounds)
# The base is exported with git archive and built in a temporary directory with its own
# target directory; the work tree is built in ./target. Set BASE_BIN to a base
# tickertape binary already built to skip that build. Only 127.0.0.1 is used.
set -euo pipefail
cd "$(dirname "$0")/.."
base_rev=${1:-main}
rounds=${2:-5}
cargo build --release --quiet --bin tickertape --example load
if [ -z "${BASE_BIN:-}" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  git archive "$base_rev" | tar -x -C "$tmp"
  (cd "$tmp" && CARGO_TARGET_DIR="$tmp/target" cargo build --release --quiet --bin tickertape)
  BASE_BIN="$tmp/target/release/tickertape"
fi
# 1000 subscribers and the publishers' connections on each side.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
exec python3 bench/compare.py "$BASE_BIN" target/release/tickertape target/release/examples/load "$rounds"
