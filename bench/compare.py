#!/usr/bin/env python3
"""Server fan-out (P5) of two builds of tickertape, in interleaved rounds: each round runs
both servers at each size, in alternating order, so that a noisy machine slows both alike.
Prints every figure, then the median, the lowest and the highest per build and size, and
the ratio of the medians. Only 127.0.0.1 is used.

Usage: bench/compare.py BASE_TICKERTAPE NEW_TICKERTAPE LOAD_TOOL [ROUNDS]
"""

import json
import socket
import statistics
import subprocess
import sys
import time

APP = ("1", "app-key", "app-secret")
SIZES = (1, 100, 1000)
TOTAL = 2_000_000


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def per_address_flags(binary):
    """The load tool's sockets all come from 127.0.0.1: lift the per-address caps of a
    build that has them."""
    helptext = subprocess.run([binary, "serve", "--help"], capture_output=True, text=True).stdout
    if "--max-connections-per-ip" not in helptext:
        return []
    return ["--max-connections-per-ip", "1000000", "--max-channels-per-ip", "1000000",
            "--subscribe-rate-per-ip", "1000000"]


def run(binary, load, subs, events):
    port = free_port()
    proc = subprocess.Popen([binary, "serve", "--listen", f"127.0.0.1:{port}", "--app", ":".join(APP),
                             *per_address_flags(binary)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        out = subprocess.run([load, "fanout", f"127.0.0.1:{port}", *APP, str(subs), str(events), "4"],
                             capture_output=True, text=True, timeout=600)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip()[-300:])
    r = json.loads(out.stdout)
    if r["deliveries"] != r["expected"] or r["silent_loss"] or r["disconnected"]:
        raise RuntimeError(f"lost deliveries: {r}")
    return r


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    builds = {"base": sys.argv[1], "new": sys.argv[2]}
    load = sys.argv[3]
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 5
    got = {(b, s): [] for b in builds for s in SIZES}
    for r in range(rounds):
        for subs in SIZES:
            events = min(100_000, max(TOTAL // subs, 200))
            order = list(builds) if r % 2 == 0 else list(reversed(list(builds)))
            for b in order:
                res = run(builds[b], load, subs, events)
                got[(b, subs)].append(res)
                print(f"round {r + 1} {b:<4} {subs:>5} sub: {res['deliveries_per_s']:>12,.0f} deliveries/s, "
                      f"p50 {res['p50_ms']:.1f} ms, p99 {res['p99_ms']:.1f} ms", flush=True)
    print("\n| subscribers | build | deliveries/s median (min-max) | p50 ms median (min-max) | p99 ms median (min-max) |")
    print("| --- | --- | --- | --- | --- |")
    for subs in SIZES:
        for b in builds:
            rs = got[(b, subs)]

            def spread(key, fmt):
                v = [x[key] for x in rs]
                return f"{fmt(statistics.median(v))} ({fmt(min(v))}-{fmt(max(v))})"
            print(f"| {subs} | {b} | {spread('deliveries_per_s', lambda x: f'{x:,.0f}')} | "
                  f"{spread('p50_ms', lambda x: f'{x:.1f}')} | {spread('p99_ms', lambda x: f'{x:.1f}')} |")
    print()
    for subs in SIZES:
        base = statistics.median(x["deliveries_per_s"] for x in got[("base", subs)])
        new = statistics.median(x["deliveries_per_s"] for x in got[("new", subs)])
        print(f"{subs} subscribers: new / base deliveries/s (medians) = {new / base:.3f}")


if __name__ == "__main__":
    main()
