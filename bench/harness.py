#!/usr/bin/env python3
"""The benchmark harness. Run it through bench/run.sh, which builds and installs
what it needs. Every figure is printed next to a baseline measured in the same run, because
this machine is small and noisy. Only 127.0.0.1 is used.

Usage: bench/harness.py [--quick] [--rounds N] [P1 P2 P3 P4 P5 P6 P7 ...]

Every ratio comes from rounds that alternate between the two sides (5 by default, 3 with
--quick), and goes through `ratio()`: the ratio is taken within each round and the median
reported; when the rounds' ratios spread by more than 20% ((max - min) / median), the ratio
is not reported, and the spread is printed instead. The rounds' order turns round from one
round to the next, and P1 runs each reader once, uncounted, before its rounds.
"""

import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REL = ROOT / "target" / "release"
TT = str(REL / "tickertape")
FLOOD = str(REL / "examples" / "flood")
LOAD = str(REL / "examples" / "load")
PACE = str(REL / "examples" / "pace")
TOOLS = Path(os.environ.get("TICKERTAPE_BENCH_TOOLS", Path.home() / ".cache" / "tickertape-bench" / "bin"))
QUICK = "--quick" in sys.argv


def rounds_arg():
    if "--rounds" in sys.argv:
        return max(1, int(sys.argv[sys.argv.index("--rounds") + 1]))
    return 3 if QUICK else 5


ROUNDS = rounds_arg()
ARGS = [a for i, a in enumerate(sys.argv[1:], 1) if not (a.startswith("--") or sys.argv[i - 1] == "--rounds")]
ONLY = [a.upper() for a in ARGS]
# Rounds that spread by more than this ((max - min) / median) give no ratio.
MAX_SPREAD = 0.20
TMP = Path(tempfile.mkdtemp(prefix="tickertape-bench-"))
SUBSCRIBE = '{"event":"pusher:subscribe","data":{"channel":"stock_ticker"}}'
rows = []  # (part, what, figure, ratio text)


def tool(name):
    path = TOOLS / name
    return str(path) if path.exists() else shutil.which(name)


def spread(values):
    """How far rounds spread: (max - min) / median; 0 for one round or a zero median."""
    m = statistics.median(values)
    return (max(values) - min(values)) / m if len(values) > 1 and m else 0.0


def ratio(part, what, num, den, fmt="{:.2f}x", target=None, higher_is_better=True):
    """The one place a ratio is reported: `num` over `den`, each a list of per-round figures.
    When the rounds were interleaved (one figure of each side per round, as every caller
    gives them), the ratio is taken within each round, next to each other in time, and the
    ratio reported is the median of those; otherwise it is the ratio of the medians. Refused,
    with the spreads printed, when there are fewer than 2 rounds or the rounds' ratios spread
    by more than MAX_SPREAD: a ratio from a noisy run is not a result. Each side's own spread
    is printed too (on this machine a side often drifts with its neighbours' load, which the
    same round's ratio cancels). `target` (a number) adds whether the ratio meets it.
    Returns the ratio, or None when refused."""
    sn, sd = spread(num), spread(den)
    paired = len(num) == len(den) and all(d > 0 for d in den)
    per_round = [n / d for n, d in zip(num, den)] if paired else []
    sr = spread(per_round) if paired else max(sn, sd)
    spreads = (f"ratio spread {sr:.0%} over {len(per_round)} rounds (sides {sn:.0%} / {sd:.0%})" if paired
               else f"spread {sn:.0%} / {sd:.0%} over {len(num)}/{len(den)} rounds")
    if min(len(num), len(den)) < 2 or sr > MAX_SPREAD:
        why = "too few rounds" if min(len(num), len(den)) < 2 else f"rounds spread > {MAX_SPREAD:.0%}"
        report(part, what, "no ratio", f"{why}: {spreads}")
        return None
    if paired:
        r = statistics.median(per_round)
    else:
        r = statistics.median(num) / max(statistics.median(den), 1e-9)
    verdict = ""
    if target is not None:
        met = r >= target if higher_is_better else r <= target
        verdict = "met, " if met else "NOT met, "
    report(part, what, fmt.format(r), verdict + spreads)
    return r


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def report(part, what, figure, ratio=""):
    rows.append((part, what, figure, ratio))
    print(f"  {part:<3} {what:<52} {figure:>18}  {ratio}", flush=True)


class Flood:
    """The flood source (bench/flood.rs) on a free port."""

    def __init__(self, n, keys=5, rate=0):
        self.proc = subprocess.Popen([FLOOD, "serve", str(n), str(keys), str(rate)], stdout=subprocess.PIPE, text=True)
        self.port = int(self.proc.stdout.readline())

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def timed(cmd, **kw):
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, **kw)
    return time.perf_counter() - t0


def watch_cmd(port, *extra):
    return [TT, "watch", "stock_ticker", "--key", "k", "--port", str(port), *extra]


# ---------------------------------------------------------------- P1: client ingest
def through_pipe(cmd, n, stdin_line=None):
    """Runs a reader whose stdout goes through a pipe into `head -n N > /dev/null`; returns
    the seconds until N lines arrived. The reader is reaped before this returns, so that the
    caller's os.times() counts its CPU time."""
    t0 = time.perf_counter()
    reader = subprocess.Popen(cmd, stdin=subprocess.PIPE if stdin_line else subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    if stdin_line:
        reader.stdin.write(stdin_line.encode() + b"\n")
        reader.stdin.flush()  # left open: websocat sends it and keeps reading
    sink = subprocess.Popen(["head", "-n", str(n)], stdin=reader.stdout, stdout=subprocess.DEVNULL)
    reader.stdout.close()
    sink.wait()
    wall = time.perf_counter() - t0
    try:
        reader.wait(timeout=5)
    except subprocess.TimeoutExpired:
        reader.kill()  # a reader that waits for more; its CPU time counts all the same
        reader.wait()
    return wall


def p1():
    n = 300_000 if QUICK else 1_000_000
    rounds = ROUNDS
    print(f"P1 client ingest: {n:,} update_event frames (pre-encoded, one write) over loopback, "
          f"median of {rounds} rounds; each reader writes a line per event into a pipe", flush=True)
    flood = Flood(n)
    # In this order, the two sides of every target ratio run next to each other (or one
    # apart): a ratio is taken within a round, and the machine's load drifts within one.
    readers = {
        "raw frame counter (no output)": ([FLOOD, "read", str(flood.port), str(n)], None, False),
        "tickertape watch --summary (count only)": (watch_cmd(flood.port, "--summary", "--count", str(n)), None, False),
        "websocat, piped to head": ([tool("websocat"), "--no-close", "-t", f"ws://127.0.0.1:{flood.port}/app/k"], SUBSCRIBE, True),
        "tickertape watch --json, piped to head": (watch_cmd(flood.port, "--json", "--count", str(n)), None, True),
        "pusher-js (Node), piped to head": (["node", str(ROOT / "bench" / "pusher-js-reader.mjs"), str(flood.port), str(n)], None, True),
    }
    if not tool("websocat"):
        del readers["websocat, piped to head"]
    wall = {k: [] for k in readers}
    cpu = {k: [] for k in readers}

    def run_once(cmd, line, piped):
        """One reader's run: its wall time, and the CPU time of the children it left."""
        before = os.times()
        if piped:
            t = through_pipe(cmd, n, line)
        else:
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            t = time.perf_counter() - t0
        after = os.times()
        # CPU of the children reaped meanwhile: the reader (and `head`, a few ms).
        return t, (after.children_user - before.children_user) + (after.children_system - before.children_system)

    # One run of each reader first, not counted: the first run of a binary also pays for
    # loading it and for the page cache.
    for cmd, line, piped in readers.values():
        run_once(cmd, line, piped)
    # The order turns round from one round to the next (A B C, C B A, ...), as the servers'
    # rounds do, so that a drift of the load falls on both sides of a ratio alike.
    for r in range(rounds):
        order = list(readers.items())
        for name, (cmd, line, piped) in order if r % 2 == 0 else reversed(order):
            t, c = run_once(cmd, line, piped)
            wall[name].append(t)
            cpu[name].append(c)
    flood.stop()
    rates = {k: [n / t for t in v] for k, v in wall.items()}
    for name, r in rates.items():
        report("P1", name, f"{statistics.median(r):,.0f} ev/s",
               f"CPU {statistics.median(cpu[name]):.2f} s, spread {spread(r):.0%} over {len(r)} rounds")
        print(f"        rounds: {', '.join(f'{x / 1000:,.0f}k' for x in r)}", flush=True)
    tt, summ = "tickertape watch --json, piped to head", "tickertape watch --summary (count only)"
    ratio("P1", "target: --json vs pusher-js (>= 8x)", rates[tt], rates["pusher-js (Node), piped to head"], target=8)
    if "websocat, piped to head" in rates:
        ws = "websocat, piped to head"
        ratio("P1", "target: --json vs websocat, speed (>= 1.5x)", rates[tt], rates[ws], target=1.5)
        ratio("P1", "target: --json vs websocat, CPU time (<= 1.0x)", cpu[tt], cpu[ws], target=1.0,
              higher_is_better=False)
        ratio("P1", "target: --summary vs websocat, speed (>= 3x)", rates[summ], rates[ws], target=3)
    raw = [k for k in rates if k.startswith("raw")]
    if raw:
        ratio("P1", "target: --summary vs the raw frame counter (>= 0.5x)", rates[summ], rates[raw[0]], target=0.5)


# ---------------------------------------------------------------- tmux helpers
def tmux(*args):
    return subprocess.run(["tmux", "-L", "tickertape-bench", *args], check=False, capture_output=True, text=True)


def in_tmux(name, cmd, width, height):
    tmux("kill-session", "-t", name)
    shell = " ".join(f"'{c}'" for c in cmd)
    tmux("new-session", "-d", "-s", name, "-x", str(width), "-y", str(height), f"{shell}; tmux -L tickertape-bench wait-for -S {name}-done")


def wait_tmux(name, timeout):
    subprocess.run(["timeout", str(timeout), "tmux", "-L", "tickertape-bench", "wait-for", f"{name}-done"], check=False)
    tmux("kill-session", "-t", name)


# ---------------------------------------------------------------- P2: dashboard under load
def dashboard_run(rate, seconds, keys_every=0.1):
    n = rate * (seconds + 5)
    flood = Flood(n, keys=500, rate=rate)
    stats = TMP / f"stats-{rate}.json"
    in_tmux("p2", watch_cmd(flood.port, "--stats", str(stats), "--timeout", f"{seconds}s",
                            "--bind", "update_event=ticker(key=name,value=price)"), 120, 40)
    time.sleep(1.0)
    end = time.time() + seconds - 2
    keys = ["j", "k", "Tab", "Tab"]
    i = 0
    while time.time() < end:
        tmux("send-keys", "-t", "p2", keys[i % len(keys)])
        i += 1
        time.sleep(keys_every)
    wait_tmux("p2", seconds + 10)
    flood.stop()
    return json.loads(stats.read_text())


def p2():
    seconds = 6 if QUICK else 12
    print(f"P2 dashboard in tmux 120x40, {seconds} s, a key every 100 ms, 500 ticker keys (--stats)", flush=True)
    runs = {"idle": [], "busy": []}
    for r in range(ROUNDS):  # interleaved: baseline, load, baseline, load, ...
        runs["idle"].append(dashboard_run(1_000, seconds))
        runs["busy"].append(dashboard_run(50_000, seconds))
    for label, key in (("1 000 ev/s (baseline)", "idle"), ("50 000 ev/s", "busy")):
        ss = runs[key]
        p50 = statistics.median(s["key_to_frame_ms"]["p50"] for s in ss)
        p99 = [s["key_to_frame_ms"]["p99"] for s in ss]
        report("P2", f"{label}: key-to-frame p50 / p99", f"{p50} / {statistics.median(p99)} ms",
               f"p99 spread {spread(p99):.0%} over {len(ss)} rounds")
        s = ss[-1]
        report("P2", f"{label}: frames, max in any 1 s (cap {s['fps_cap']}), last round",
               f"{s['frames']}, {s['fps_max_1s']}/s")
        report("P2", f"{label}: CPU, events, dropped, last round", f"{s['cpu_percent']}%, {s['events']:,}, {s['dropped']}")
    ratio("P2", "key-to-frame p99 at 50 000 ev/s vs the baseline", [s["key_to_frame_ms"]["p99"] for s in runs["busy"]],
          [max(s["key_to_frame_ms"]["p99"], 0.001) for s in runs["idle"]], fmt="{:.1f}x")


# ---------------------------------------------------------------- P3: bounded memory
def peak_rss_json(n):
    flood = Flood(n, keys=500)
    out = subprocess.run(["/usr/bin/time", "-f", "%M", *watch_cmd(flood.port, "--json", "--count", str(n))],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True)
    flood.stop()
    return int(out.stderr.strip().splitlines()[-1])


def peak_rss_dashboard(n):
    flood = Flood(n, keys=500)
    rss = TMP / f"rss-{n}"
    stats = TMP / f"rss-stats-{n}.json"
    in_tmux("p3", ["/usr/bin/time", "-o", str(rss), "-f", "%M",
                   *watch_cmd(flood.port, "--count", str(n), "--timeout", "300s", "--stats", str(stats),
                              "--bind", "update_event=ticker(key=name,value=price)")], 120, 40)
    wait_tmux("p3", 320)
    flood.stop()
    s = json.loads(stats.read_text())
    return int(rss.read_text().strip().splitlines()[-1]), s


def p3():
    small, big = (100_000, 1_000_000) if QUICK else (1_000_000, 10_000_000)
    print(f"P3 peak RSS after {small:,} and {big:,} events, 500 distinct keys", flush=True)
    js, jb, ds, db = [], [], [], []
    for _ in range(ROUNDS):  # interleaved: small, big, small, big, ...
        js.append(peak_rss_json(small))
        jb.append(peak_rss_json(big))
        ds.append(peak_rss_dashboard(small)[0])
        big_d, s = peak_rss_dashboard(big)
        db.append(big_d)
    report("P3", f"watch --json: {small:,} events (baseline)", f"{statistics.median(js) / 1024:.1f} MB")
    report("P3", f"watch --json: {big:,} events", f"{statistics.median(jb) / 1024:.1f} MB")
    ratio("P3", "watch --json: peak RSS, big vs baseline (<= 1.05)", jb, js, target=1.05, higher_is_better=False)
    report("P3", f"dashboard: {small:,} events (baseline)", f"{statistics.median(ds) / 1024:.1f} MB")
    report("P3", f"dashboard: {s['events']:,} events, {s['dropped']} dropped (last round)",
           f"{statistics.median(db) / 1024:.1f} MB")
    ratio("P3", "dashboard: peak RSS, big vs baseline (<= 1.05)", db, ds, target=1.05, higher_is_better=False)


# ---------------------------------------------------------------- P4: redraw bandwidth
def p4():
    seconds = 20 if QUICK else 60
    print(f"P4 redraw bandwidth: the demo at 80x24 for {seconds} s, captured with tmux pipe-pane", flush=True)
    capture, stats = TMP / "pane.bytes", TMP / "demo-stats.json"
    in_tmux("p4", [TT, "demo", "--stats", str(stats)], 80, 24)
    time.sleep(3)  # the first full draw and the first prices
    tmux("pipe-pane", "-t", "p4", f"cat > {capture}")
    time.sleep(seconds)
    tmux("pipe-pane", "-t", "p4")
    tmux("send-keys", "-t", "p4", "q")
    wait_tmux("p4", 10)
    size = capture.stat().st_size
    s = json.loads(stats.read_text())
    frames_in_window = s["frames"] * seconds / max(s["seconds"], 1)
    report("P4", "bytes to the terminal per second (target <= 20 KB/s)", f"{size / seconds / 1024:.2f} KB/s")
    report("P4", "bytes per frame drawn", f"{size / max(frames_in_window, 1):.0f} B", f"{s['frames']} frames in {s['seconds']:.0f} s")


# ---------------------------------------------------------------- servers for P5 and P6
APP = ("1", "app-key", "app-secret")
PER_ADDRESS = ["--max-connections-per-ip", "1000000", "--max-channels-per-ip", "1000000",
               "--subscribe-rate-per-ip", "1000000"]


def start_server(kind, port):
    if kind == "tickertape":
        # Every socket of the load tool comes from 127.0.0.1: the per-address caps (a
        # quarter of the connections, a tenth of the channels, 1000 subscribes a second)
        # are raised so that one address may open 10 000 sockets on 10 000 channels.
        proc = subprocess.Popen([TT, "serve", "--listen", f"127.0.0.1:{port}", "--app", ":".join(APP),
                                 *PER_ADDRESS],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    else:
        env = dict(os.environ, HOST="127.0.0.1", PORT=str(port), ADAPTER_DRIVER="local", APP_MANAGER_DRIVER="memory",
                   CACHE_DRIVER="memory", QUEUE_DRIVER="memory", RATE_LIMITER_ENABLED="false", METRICS_ENABLED="false",
                   SOCKUDO_DEFAULT_APP_ID=APP[0], SOCKUDO_DEFAULT_APP_KEY=APP[1], SOCKUDO_DEFAULT_APP_SECRET=APP[2],
                   SOCKUDO_DEFAULT_APP_MAX_CONNECTIONS="100000", DEBUG="false")
        proc = subprocess.Popen([tool("sockudo")], env=env, cwd=TMP, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            time.sleep(0.3)
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{kind} did not start on {port}")


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def rss_kb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def servers():
    return ["tickertape"] + (["sockudo"] if tool("sockudo") else [])


# ---------------------------------------------------------------- P5: server fan-out
def interleaved(kinds, rounds):
    """The order of runs: every round runs each server once, the order alternating from one
    round to the next (A B, B A, ...), so that a drift of the machine's load falls on both."""
    for r in range(rounds):
        yield r, (kinds if r % 2 == 0 else kinds[::-1])


def run_tool(kind, cmd, timeout):
    """Starts a fresh server of `kind`, runs the load tool `cmd` (its address filled in)
    against it, stops the server; the tool's JSON line, or its error text."""
    port = free_port()
    proc = start_server(kind, port)
    try:
        out = subprocess.run([a.replace("ADDR", f"127.0.0.1:{port}") for a in cmd],
                             capture_output=True, text=True, timeout=timeout)
    finally:
        stop(proc)
    if out.returncode != 0:
        return None, out.stderr.strip()[-200:]
    return json.loads(out.stdout), ""


def rounds_of(part, what, kinds, cmd, timeout):
    """Runs the load tool `cmd` against a fresh server of each kind, ROUNDS times,
    interleaved; each kind's JSON results, round by round (a failed run is reported, and
    its round left out for every kind)."""
    got = {k: [] for k in kinds}
    for _, order in interleaved(kinds, ROUNDS):
        this_round = {}
        for kind in order:
            r, err = run_tool(kind, cmd, timeout)
            if r is None:
                report(part, f"{kind}, {what}", "failed", err)
                continue
            this_round[kind] = r
        # A round counts whole or not at all, so that each kind's n-th figure is from the
        # same round (ratio() divides them round by round).
        if len(this_round) == len(kinds):
            for kind, r in this_round.items():
                got[kind].append(r)
        elif this_round:
            report(part, what, "round left out", "another server's run in it failed")
    return got


def medians(runs, key):
    return statistics.median(r[key] for r in runs)


def p5():
    kinds = servers()
    print(f"P5 server fan-out: batch_events (10 per request) from 4 HTTP connections; servers: {', '.join(kinds)}; "
          f"{ROUNDS} rounds, interleaved", flush=True)
    total = 500_000 if QUICK else 2_000_000
    for subs in (1, 100, 1000):
        events = min(100_000 if not QUICK else 30_000, max(total // subs, 200))
        got = rounds_of("P5", f"{subs} subscribers", kinds,
                        [LOAD, "fanout", "ADDR", *APP, str(subs), str(events), "4"], 600)
        for kind, runs in got.items():
            if not runs:
                continue
            missing = sum(r["expected"] - r["deliveries"] for r in runs)
            silent = sum(r["silent_loss"] for r in runs)
            loss = "no loss" if missing == 0 and silent == 0 else \
                f"{missing} missing, {sum(r['disconnected'] for r in runs)} disconnected, {silent} SILENT"
            rate = [r["deliveries_per_s"] for r in runs]
            report("P5", f"{kind}, {subs} sub x {events:,} ev: deliveries/s", f"{statistics.median(rate):,.0f}/s",
                   f"{loss}; spread {spread(rate):.0%} over {len(runs)} rounds")
            report("P5", f"{kind}, {subs} sub: publish-to-deliver p50 / p99",
                   f"{medians(runs, 'p50_ms'):.1f} / {medians(runs, 'p99_ms'):.1f} ms",
                   f"p99 spread {spread([r['p99_ms'] for r in runs]):.0%}")
        if all(got.get(k) for k in ("tickertape", "sockudo")):
            tt, sk = got["tickertape"], got["sockudo"]
            ratio("P5", f"target: tickertape vs sockudo at {subs} sub (>= 3x at 100 and 1000)",
                  [r["deliveries_per_s"] for r in tt], [r["deliveries_per_s"] for r in sk],
                  target=3 if subs > 1 else None)
            ratio("P5", f"target: publish-to-deliver p99, tickertape vs sockudo at {subs} sub (<= 1x)",
                  [r["p99_ms"] for r in tt], [max(r["p99_ms"], 1e-3) for r in sk], target=1.0, higher_is_better=False)


# ---------------------------------------------------------------- P7: latency at a fixed rate
P7_LOADS = [(100, 1), (500, 1), (2000, 1), (200, 50), (200, 500)]  # (events/s, subscribers)


def p7():
    kinds = servers()
    base = 2 if QUICK else 5
    print(f"P7 publish-to-deliver latency at a fixed rate: one REST event per request over one keep-alive "
          f"connection, open-loop schedule (latency from each event's due time), subscribers on plain "
          f"WebSockets; servers: {', '.join(kinds)}; {ROUNDS} rounds, interleaved; "
          f"load average {os.getloadavg()[0]:.2f}", flush=True)
    for rate, subs in P7_LOADS:
        seconds = max(base, 1000 / rate)  # at least 1000 events a round
        got = rounds_of("P7", f"{rate} ev/s to {subs} sub", kinds,
                        [PACE, "ADDR", *APP, str(subs), str(rate), str(seconds)], 120 + seconds)
        for kind, runs in got.items():
            if not runs:
                continue
            missing = sum(r["expected"] - r["deliveries"] for r in runs)
            failed = sum(r["publish_failed"] for r in runs)
            p99 = [r["p99_ms"] for r in runs]
            report("P7", f"{kind}, {rate} ev/s to {subs} sub: p50 / p99 / max",
                   f"{medians(runs, 'p50_ms'):.2f} / {statistics.median(p99):.2f} / {max(r['max_ms'] for r in runs):.1f} ms",
                   f"p99 spread {spread(p99):.0%} over {len(runs)} rounds; send lag p99 "
                   f"{medians(runs, 'send_lag_p99_ms'):.2f} ms; "
                   + ("no loss" if missing == 0 and failed == 0 else f"{missing} missing, {failed} publishes failed"))
        if all(got.get(k) for k in ("tickertape", "sockudo")):
            tt = [r["p99_ms"] for r in got["tickertape"]]
            sk = [max(r["p99_ms"], 1e-3) for r in got["sockudo"]]
            under = statistics.median(tt) < 2.0
            ratio("P7", f"target: p99 tickertape vs sockudo, {rate} ev/s to {subs} sub (<= 1.2x or < 2 ms)",
                  tt, sk, target=1.2, higher_is_better=False)
            if under:
                report("P7", f"target: p99 tickertape under 2 ms, {rate} ev/s to {subs} sub", "met",
                       f"{statistics.median(tt):.2f} ms")


# ---------------------------------------------------------------- P6: idle connections
def p6_once(kind, n):
    """Server RSS per idle connection, in bytes; None when the run failed."""
    port = free_port()
    proc = start_server(kind, port)
    before = rss_kb(proc.pid)
    load = subprocess.Popen([LOAD, "idle", f"127.0.0.1:{port}", APP[1], str(n)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = load.stdout.readline()
    time.sleep(1)
    after = rss_kb(proc.pid)
    load.stdin.close()
    load.wait()
    stop(proc)
    if not line.startswith("ready"):
        return None
    return (after - before) * 1024 / n


def p6():
    n = 2000 if QUICK else 10_000
    kinds = servers()
    print(f"P6 {n:,} idle WebSockets, each subscribed to its own channel: server RSS per connection; "
          f"{ROUNDS} rounds, interleaved", flush=True)
    per = {k: [] for k in kinds}
    for _, order in interleaved(kinds, ROUNDS):
        this_round = {}
        for kind in order:
            got = p6_once(kind, n)
            if got is None:
                report("P6", kind, "failed")
            else:
                this_round[kind] = got
        # Whole rounds only, as in rounds_of().
        if len(this_round) == len(kinds):
            for kind, got in this_round.items():
                per[kind].append(got)
    for kind, v in per.items():
        if v:
            report("P6", f"{kind}: RSS per idle connection", f"{statistics.median(v) / 1024:.1f} KB/conn",
                   f"spread {spread(v):.0%} over {len(v)} rounds")
    if per.get("tickertape") and per.get("sockudo"):
        ratio("P6", "tickertape vs sockudo, memory per connection (lower is better)", per["tickertape"], per["sockudo"])
    if per.get("tickertape"):
        report("P6", "target: tickertape memory per idle connection (<= 20 KB)",
               f"{statistics.median(per['tickertape']) / 1024:.1f} KB")


def main():
    parts = {"P1": p1, "P2": p2, "P3": p3, "P4": p4, "P5": p5, "P6": p6, "P7": p7}
    load = os.getloadavg()
    machine = (f"{os.cpu_count()} cores, {os.uname().machine}, {time.strftime('%Y-%m-%d')}, "
               f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"tickertape benchmarks on {machine}{' (quick)' if QUICK else ''}", flush=True)
    for name, run in parts.items():
        if ONLY and name not in ONLY:
            continue
        try:
            run()
        except Exception as e:  # one part failing must not hide the others' figures
            report(name, "FAILED", type(e).__name__, str(e)[:120])
    print("\n| part | what | figure | against the same run's baseline |\n| --- | --- | --- | --- |")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    shutil.rmtree(TMP, ignore_errors=True)
    tmux("kill-server")
    return 1 if any(r[1] == "FAILED" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
