#!/usr/bin/env bash
# One command for every benchmark: builds tickertape and the bench tools, installs
# the peers once (websocat, sockudo: cached in ~/.cache/tickertape-bench, sockudo takes about
# 17 minutes to build on 2 cores; pusher-js from tests/interop), then runs bench/harness.py,
# which prints each figure against a baseline measured in the same run, and a Markdown table.
# Usage: bench/run.sh [--quick] [--rounds N] [P1 P2 P3 P4 P5 P6 P7]     then: cargo bench (divan micro-benchmarks)
set -euo pipefail
cd "$(dirname "$0")/.."
tools=${TICKERTAPE_BENCH_TOOLS:-$HOME/.cache/tickertape-bench/bin}
root=$(dirname "$tools")

need_apt=()
command -v tmux >/dev/null || need_apt+=(tmux)
command -v node >/dev/null || need_apt+=(nodejs npm)
[ -x /usr/bin/time ] || need_apt+=(time)
if [ ! -x "$tools/sockudo" ]; then
  command -v cmake >/dev/null || need_apt+=(cmake)
  command -v protoc >/dev/null || need_apt+=(protobuf-compiler)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -qq && apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
[ -x "$tools/websocat" ] || cargo install websocat --locked --root "$root"
[ -x "$tools/sockudo" ] || cargo install sockudo --locked --features redis --root "$root"
[ -d tests/interop/node_modules/pusher-js ] || npm ci --prefix tests/interop --no-audit --no-fund

cargo build --release --quiet --bin tickertape --example flood --example load --example pace
# 10 000 idle sockets on each side of P6.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
TICKERTAPE_BENCH_TOOLS="$tools" exec python3 bench/harness.py "$@"
