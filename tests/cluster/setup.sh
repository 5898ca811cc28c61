#!/usr/bin/env bash
# Installs what the cluster checks need, once: redis-server (Debian) and sockudo built with
# its redis feature (about 17 minutes on 2 cores; cached in ~/.cache/tickertape-bench, where
# bench/run.sh looks too). Sourced by probe.sh and webhooks.sh; prints nothing when all is there.
tools=${TICKERTAPE_BENCH_TOOLS:-$HOME/.cache/tickertape-bench/bin}
need_apt=()
command -v redis-server >/dev/null || need_apt+=(redis-server)
if [ ! -x "$tools/sockudo" ]; then
  command -v cmake >/dev/null || need_apt+=(cmake)
  command -v protoc >/dev/null || need_apt+=(protobuf-compiler)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if [ ! -x "$tools/sockudo" ]; then
  echo "building sockudo with the redis feature (about 17 minutes)…" >&2
  cargo install sockudo --locked --features redis --root "$(dirname "$tools")" >&2
fi
