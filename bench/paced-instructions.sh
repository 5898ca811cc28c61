#!/usr/bin/env bash
# Instructions per event for `watch --summary` on a quiet stream: `stocks` publishing one
# event every 10 ms (100/s) through `serve`, counted with callgrind. At such rates each event
# is read on its own, so what a read costs (waking, polling, buffers) is what an event costs.
# Two runs, of SMALL and BIG events; the difference leaves start-up and shutdown out. Only
# 127.0.0.1 is used.
# Build first: cargo build --release --bin tickertape
# Usage: bench/paced-instructions.sh [BIG] [SMALL]   (defaults: 1200 200;
# TICKERTAPE_BIN_DIR=DIR runs the binary in DIR instead of target/release)
set -euo pipefail
cd "$(dirname "$0")/.."
big=${1:-1200}
small=${2:-200}
bin=${TICKERTAPE_BIN_DIR:-target/release}/tickertape
dir=$(mktemp -d)
count() { # N: the instructions of one `watch --summary --count N`
  "$bin" serve --listen 127.0.0.1:0 --lines 2> "$dir/serve" &
  local serve=$! port=""
  trap 'kill "$serve" 2>/dev/null' EXIT
  for _ in $(seq 50); do
    port=$(sed -n 's|.*serving on ws://127.0.0.1:\([0-9]*\).*|\1|p' "$dir/serve")
    [ -n "$port" ] && break
    sleep 0.1
  done
  valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.$1" -q \
    "$bin" watch stock_ticker --key app-key --host 127.0.0.1 --port "$port" --summary \
    --count "$1" > /dev/null 2>&1 &
  local watch=$!
  sleep 2 # valgrind starts slowly: the watcher subscribes before the first event
  "$bin" stocks --interval 10ms --key app-key --secret app-secret --app-id 1 \
    --host 127.0.0.1 --port "$port" > /dev/null 2>&1 &
  local stocks=$!
  wait "$watch"
  kill "$stocks" "$serve" 2>/dev/null
  wait "$stocks" "$serve" 2>/dev/null || true
  awk '/^summary:|^totals:/ { print $2; exit }' "$dir/callgrind.$1"
}
a=$(count "$small")
b=$(count "$big")
echo "--summary at 100 events/s: $(( (b - a) / (big - small) )) instructions per event (runs of $big and $small events: $b and $a; profiles in $dir)"
