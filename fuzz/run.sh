#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60) with cargo-fuzz on nightly.
# Setup once: cargo install cargo-fuzz --locked
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
for target in frame_decode rest_verify binding_parse filter_parse server_frames backplane_decode; do
  echo "== $target for ${seconds}s"
  cargo +nightly fuzz run "$target" -- -max_total_time="$seconds" -max_len=4096
done
