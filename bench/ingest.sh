#!/usr/bin/env bash
# Client ingest over loopback: events per second for `watch --json`, as a ratio to a raw
# frame-counting reader measured in the same run (this machine is small and noisy).
# Usage: bench/ingest.sh [EVENTS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-300000}
rounds=${2:-3}
cargo build --release --quiet --example flood --bin tickertape
bin=target/release
"$bin/examples/flood" serve "$n" > /tmp/tickertape-flood.port &
flood=$!
trap 'kill $flood 2>/dev/null' EXIT
sleep 0.5
port=$(cat /tmp/tickertape-flood.port)
now() { date +%s.%N; }
echo "events per round: $n"
printf '%-8s %14s %22s %22s\n' round "raw reader" "watch --json >/dev/null" "watch --json | wc -l"
for round in $(seq "$rounds"); do
  t0=$(now); "$bin/examples/flood" read "$port" "$n"; t1=$(now)
  "$bin/tickertape" watch stock_ticker --json --count "$n" --key k --port "$port" > /dev/null 2>&1; t2=$(now)
  lines=$("$bin/tickertape" watch stock_ticker --json --count "$n" --key k --port "$port" 2>/dev/null | wc -l); t3=$(now)
  [ "$lines" -eq "$n" ] || { echo "lost events: $lines of $n"; exit 1; }
  python3 - "$n" "$t0" "$t1" "$t2" "$t3" "$round" <<'PY'
import sys
n, t0, t1, t2, t3, r = int(sys.argv[1]), *map(float, sys.argv[2:6]), sys.argv[6]
raw, a, b = n / (t1 - t0), n / (t2 - t1), n / (t3 - t2)
print(f"{r:<8} {raw:>11,.0f}/s {a:>13,.0f}/s ({a/raw:.2f}x) {b:>13,.0f}/s ({b/raw:.2f}x)")
PY
done
