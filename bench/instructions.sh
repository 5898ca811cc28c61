#!/usr/bin/env bash
# Instructions per event for `watch --summary` and `watch --json` on the P1 flood, counted
# with callgrind: unlike a wall clock, the count does not change with the machine's load.
# Each reader runs twice, on SMALL and on BIG events; the difference over BIG - SMALL events
# leaves start-up and shutdown out. Only 127.0.0.1 is used.
# Build first: cargo build --release --bin tickertape --example flood
# Usage: bench/instructions.sh [BIG] [SMALL] [OUTDIR]   (defaults: 50000 5000, a temporary dir;
# TICKERTAPE_BIN_DIR=DIR runs the binaries in DIR instead of target/release)
set -euo pipefail
cd "$(dirname "$0")/.."
big=${1:-50000}
small=${2:-5000}
dir=${3:-$(mktemp -d)}
mkdir -p "$dir"
bin=${TICKERTAPE_BIN_DIR:-target/release}
count() { # MODE N: the instructions of one run (every thread), against a flood of exactly N
  # events, so that neither run reads frames past its count before it stops.
  local out="$dir/callgrind.$1.$2"
  rm -f "$dir/port"
  "$bin/examples/flood" serve "$2" > "$dir/port" &
  local flood=$!
  # Each count runs in its own subshell ($(...)): its flood goes with it, even on Ctrl-C.
  trap 'kill "$flood" 2>/dev/null' EXIT
  for _ in $(seq 50); do [ -s "$dir/port" ] && break; sleep 0.1; done
  local port
  port=$(cat "$dir/port")
  local cmd=("$bin/tickertape" watch stock_ticker --key k --port "$port" "--$1" --count "$2")
  [ "$1" = raw ] && cmd=("$bin/examples/flood" read "$port" "$2")
  valgrind --tool=callgrind --callgrind-out-file="$out" -q "${cmd[@]}" > /dev/null 2>&1
  kill "$flood" 2>/dev/null
  wait "$flood" 2>/dev/null || true
  awk '/^summary:|^totals:/ { print $2; exit }' "$out"
}
for mode in raw summary json; do
  a=$(count "$mode" "$small")
  b=$(count "$mode" "$big")
  what="--$mode"
  [ "$mode" = raw ] && what="raw frame counter"
  echo "$what: $(( (b - a) / (big - small) )) instructions per event (runs of $big and $small events: $b and $a; profiles in $dir)"
done
