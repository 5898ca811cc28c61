#!/usr/bin/env python3
"""The cost of `watch --where` (a jq filter per event) on the P1 flood: `--json` and
`--json --where '.data.price > 0'` (true for every event, so both write the same lines;
the fast path answers it), and the same test through jaq (`(.data.price > 0) == true`)
read the same flood, round after round, interleaved, and the medians are compared.

Build first: cargo build --release --bin tickertape --example flood
Usage: bench/where.py [ROUNDS] [EVENTS]      (defaults: 7 rounds of 300,000 events)
Only 127.0.0.1 is used. Run it on a quiet machine: it says how busy the machine was.
"""

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REL = ROOT / "target" / "release"
TT, FLOOD = str(REL / "tickertape"), str(REL / "examples" / "flood")
ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 7
N = int(sys.argv[2]) if len(sys.argv) > 2 else 300_000
EXPR = ".data.price > 0"
# The same test in a form the fast path does not take: what jaq itself costs.
EXPR_JAQ = "(.data.price > 0) == true"


def run(port, extra):
    cmd = [TT, "watch", "stock_ticker", "--key", "k", "--port", str(port), "--json",
           "--count", str(N), *extra]
    before = os.times()
    t0 = time.perf_counter()
    reader = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    lines = sum(1 for _ in reader.stdout)
    reader.wait()
    wall = time.perf_counter() - t0
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    assert lines == N, f"{lines} lines of {N}"
    return wall, cpu


def main():
    load_before = os.getloadavg()
    flood = subprocess.Popen([FLOOD, "serve", str(N), "5", "0"], stdout=subprocess.PIPE, text=True)
    port = int(flood.stdout.readline())
    cases = (("--json", []), ("--json --where", ["--where", EXPR]),
             ("--where (jaq)", ["--where", EXPR_JAQ]))
    runs = {name: [] for name, _ in cases}
    try:
        for _ in range(ROUNDS):
            for name, extra in cases:
                runs[name].append(run(port, extra))
    finally:
        flood.kill()
        flood.wait()
    load_after = os.getloadavg()
    print(f"P1 flood, {N:,} update_event frames, {ROUNDS} interleaved rounds, medians; "
          f"--where {EXPR!r} (fast path), and {EXPR_JAQ!r} (through jaq)")
    rate = {}
    for name, r in runs.items():
        wall = statistics.median(w for w, _ in r)
        cpu = statistics.median(c for _, c in r)
        rate[name] = N / wall
        print(f"  {name:<16} {rate[name]:>12,.0f} ev/s   CPU {cpu:.2f} s   "
              f"({cpu / N * 1e6:.2f} us of CPU per event)")
    cost = 1 - rate["--json --where"] / rate["--json"]
    cpu_json = statistics.median(c for _, c in runs["--json"])
    cpu_where = statistics.median(c for _, c in runs["--json --where"])
    cpu_jaq = statistics.median(c for _, c in runs["--where (jaq)"])
    print(f"  throughput lost to --where: {cost * 100:.1f}% (target <= 30%); "
          f"filter CPU per event: {(cpu_where - cpu_json) / N * 1e6:.2f} us")
    print(f"  through jaq: {(1 - rate['--where (jaq)'] / rate['--json']) * 100:.1f}% lost, "
          f"{(cpu_jaq - cpu_json) / N * 1e6:.2f} us of CPU per event")
    for name, r in runs.items():
        print(f"  {name:<16} rounds (k ev/s): " + " ".join(f"{N / w / 1e3:.0f}" for w, _ in r))
    print(f"  load average before {load_before[0]:.2f}, after {load_after[0]:.2f} "
          f"({os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
