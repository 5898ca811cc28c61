#!/usr/bin/env bash
# The tests on a fresh machine: checks for the programs the tests run as real processes,
# installs the missing ones with apt-get when it can (as root on Debian or Ubuntu), else
# says exactly what to install and stops; then runs `cargo test --locked` with any
# arguments given (`./test.sh --test it metrics::`). CI runs this same script.
#
#   tmux          the terminal screens, driven end to end
#   promtool      every metrics page is checked with it (Debian's `prometheus` package;
#                 its service is not started)
#   redis-server  the backplane tap against a real Redis (each test starts its own)
#   nats-server   the backplane tap against a real NATS server (each test starts its own)
#   node          a misbehaving Pusher node (tests/it/support/rogue.mjs, Node's own modules)
#   openssl       a private CA and certificates for the TLS tests
#   kill          signals to the processes the tests start (procps)
#   python3       the benchmark harness's rule for ratios (bench/harness.py)
# and, for the build itself, a C compiler and linker (`cc`: ring's C code, and the link).
set -euo pipefail
cd "$(dirname "$0")"

# program:Debian packages (comma-separated)
needs=(cc:gcc,libc6-dev tmux:tmux promtool:prometheus redis-server:redis-server
  nats-server:nats-server node:nodejs openssl:openssl kill:procps
  python3:python3)
# A program counts when PATH leads to an executable file of that name.
present() {
  local path
  path=$(type -P "$1") && [[ -f $path && -x $path ]]
}
missing=() programs=()
for need in "${needs[@]}"; do
  if ! present "${need%%:*}"; then
    programs+=("${need%%:*}")
    IFS=, read -r -a packages <<<"${need#*:}"
    missing+=("${packages[@]}")
  fi
done

if ((${#missing[@]})); then
  if [[ $(id -u) == 0 ]] && present apt-get; then
    echo "== installing what the tests need: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "The tests need programs that are not on PATH: ${programs[*]}" >&2
    if present apt-get; then
      echo "Install them, then run ./test.sh again:" >&2
      echo "  sudo apt-get install ${missing[*]}" >&2
    else
      echo "Install them with your system's packages (Debian's: ${missing[*]}), then run ./test.sh again." >&2
    fi
    exit 1
  fi
fi

if ! present cargo; then
  echo "cargo is not on PATH: install Rust 1.95 or newer (https://rustup.rs), then run ./test.sh again." >&2
  exit 1
fi

echo "== cargo test"
exec cargo test --locked "$@"
