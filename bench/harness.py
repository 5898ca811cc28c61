#!/usr/bin/env python3
"""The benchmark harness (issue 6). Run it through bench/run.sh, which builds and installs
what it needs. Every figure is printed next to a baseline measured in the same run, because
this machine is small and noisy. Only 127.0.0.1 is used.

Usage: bench/harness.py [--quick] [P1 P2 P3 P4 P5 P6 ...]
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
TOOLS = Path(os.environ.get("TICKERTAPE_BENCH_TOOLS", Path.home() / ".cache" / "tickertape-bench" / "bin"))
QUICK = "--quick" in sys.argv
ONLY = [a.upper() for a in sys.argv[1:] if not a.startswith("--")]
TMP = Path(tempfile.mkdtemp(prefix="tickertape-bench-"))
SUBSCRIBE = '{"event":"pusher:subscribe","data":{"channel":"stock_ticker"}}'
rows = []  # (part, what, figure, ratio text)


def tool(name):
    path = TOOLS / name
    return str(path) if path.exists() else shutil.which(name)


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
    rounds = 1 if QUICK else 3
    print(f"P1 client ingest: {n:,} update_event frames (pre-encoded, one write) over loopback, "
          f"median of {rounds} rounds; each reader writes a line per event into a pipe", flush=True)
    flood = Flood(n)
    readers = {
        "raw frame counter (no output)": ([FLOOD, "read", str(flood.port), str(n)], None, False),
        "websocat, piped to head": ([tool("websocat"), "--no-close", "-t", f"ws://127.0.0.1:{flood.port}/app/k"], SUBSCRIBE, True),
        "pusher-js (Node), piped to head": (["node", str(ROOT / "bench" / "pusher-js-reader.mjs"), str(flood.port), str(n)], None, True),
        "tickertape watch --json, piped to head": (watch_cmd(flood.port, "--json", "--count", str(n)), None, True),
        "tickertape watch --summary (count only)": (watch_cmd(flood.port, "--summary", "--count", str(n)), None, False),
    }
    if not tool("websocat"):
        del readers["websocat, piped to head"]
    wall = {k: [] for k in readers}
    cpu = {k: [] for k in readers}
    for _ in range(rounds):
        for name, (cmd, line, piped) in readers.items():
            before = os.times()
            if piped:
                t = through_pipe(cmd, n, line)
            else:
                t0 = time.perf_counter()
                subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                t = time.perf_counter() - t0
            after = os.times()
            wall[name].append(t)
            # CPU of the children reaped meanwhile: the reader (and `head`, a few ms).
            cpu[name].append((after.children_user - before.children_user) + (after.children_system - before.children_system))
    flood.stop()
    rate = {k: n / statistics.median(v) for k, v in wall.items()}
    cpus = {k: statistics.median(v) for k, v in cpu.items()}
    for name, r in rate.items():
        report("P1", name, f"{r:,.0f} ev/s", f"CPU {cpus[name]:.2f} s")
    tt, summ = rate["tickertape watch --json, piped to head"], rate["tickertape watch --summary (count only)"]
    report("P1", "target: --json vs pusher-js (>= 8x)", f"{tt / rate['pusher-js (Node), piped to head']:.2f}x")
    if "websocat, piped to head" in rate:
        ws = rate["websocat, piped to head"]
        report("P1", "target: --json vs websocat, speed (>= 1.5x)", f"{tt / ws:.2f}x")
        report("P1", "target: --json vs websocat, CPU time (<= 1.0x)",
               f"{cpus['tickertape watch --json, piped to head'] / cpus['websocat, piped to head']:.2f}x")
        report("P1", "target: --summary vs websocat, speed (>= 2x)", f"{summ / ws:.2f}x")


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
    idle = dashboard_run(1_000, seconds)
    busy = dashboard_run(50_000, seconds)
    for label, s in (("1 000 ev/s (baseline)", idle), ("50 000 ev/s", busy)):
        k = s["key_to_frame_ms"]
        report("P2", f"{label}: key-to-frame p50 / p99", f"{k['p50']} / {k['p99']} ms",
               "" if s is idle else f"p99 {k['p99'] / max(idle['key_to_frame_ms']['p99'], 0.001):.1f}x baseline")
        report("P2", f"{label}: frames, max in any 1 s (cap {s['fps_cap']})", f"{s['frames']}, {s['fps_max_1s']}/s")
        report("P2", f"{label}: CPU, events, dropped", f"{s['cpu_percent']}%, {s['events']:,}, {s['dropped']}")


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
    small_j, big_j = peak_rss_json(small), peak_rss_json(big)
    report("P3", f"watch --json: {small:,} events (baseline)", f"{small_j / 1024:.1f} MB")
    report("P3", f"watch --json: {big:,} events", f"{big_j / 1024:.1f} MB", f"{big_j / small_j:.2f}x (target <= 1.05)")
    (small_d, _), (big_d, s) = peak_rss_dashboard(small), peak_rss_dashboard(big)
    report("P3", f"dashboard: {small:,} events (baseline)", f"{small_d / 1024:.1f} MB")
    report("P3", f"dashboard: {s['events']:,} events, {s['dropped']} dropped", f"{big_d / 1024:.1f} MB",
           f"{big_d / small_d:.2f}x (target <= 1.05)")


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
def p5():
    kinds = servers()
    print(f"P5 server fan-out: batch_events (10 per request) from 4 HTTP connections; servers: {', '.join(kinds)}", flush=True)
    total = 500_000 if QUICK else 2_000_000
    for subs in (1, 100, 1000):
        events = min(100_000 if not QUICK else 30_000, max(total // subs, 200))
        got = {}
        for kind in kinds:
            port = free_port()
            proc = start_server(kind, port)
            out = subprocess.run([LOAD, "fanout", f"127.0.0.1:{port}", *APP, str(subs), str(events), "4"],
                                 capture_output=True, text=True, timeout=600)
            stop(proc)
            if out.returncode != 0:
                report("P5", f"{kind}, {subs} subscribers", "failed", out.stderr.strip()[-200:])
                continue
            r = json.loads(out.stdout)
            got[kind] = r
            loss = "no loss" if r["silent_loss"] == 0 and r["deliveries"] == r["expected"] else \
                f"{r['expected'] - r['deliveries']} missing, {r['disconnected']} disconnected, {r['silent_loss']} SILENT"
            report("P5", f"{kind}, {subs} sub x {events:,} ev: deliveries/s", f"{r['deliveries_per_s']:,.0f}/s", loss)
            report("P5", f"{kind}, {subs} sub: publish-to-deliver p50 / p99", f"{r['p50_ms']:.1f} / {r['p99_ms']:.1f} ms")
        if len(got) == 2:
            ratio = got["tickertape"]["deliveries_per_s"] / got["sockudo"]["deliveries_per_s"]
            report("P5", f"target: tickertape vs sockudo at {subs} sub (>= 3x at 100 and 1000)", f"{ratio:.2f}x")
            p99 = got["tickertape"]["p99_ms"] / max(got["sockudo"]["p99_ms"], 1e-3)
            report("P5", f"target: publish-to-deliver p99, tickertape vs sockudo at {subs} sub (<= 1x)", f"{p99:.2f}x")


# ---------------------------------------------------------------- P6: idle connections
def p6():
    n = 2000 if QUICK else 10_000
    print(f"P6 {n:,} idle WebSockets, each subscribed to its own channel: server RSS per connection", flush=True)
    per = {}
    for kind in servers():
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
            report("P6", kind, "failed")
            continue
        per[kind] = (after - before) * 1024 / n
        report("P6", f"{kind}: RSS {before / 1024:.1f} -> {after / 1024:.1f} MB", f"{per[kind] / 1024:.1f} KB/conn")
    if len(per) == 2:
        report("P6", "tickertape vs sockudo, memory per connection", f"{per['tickertape'] / per['sockudo']:.2f}x", "(lower is better)")
    if "tickertape" in per:
        report("P6", "target: tickertape memory per idle connection (<= 20 KB)", f"{per['tickertape'] / 1024:.1f} KB")


def main():
    parts = {"P1": p1, "P2": p2, "P3": p3, "P4": p4, "P5": p5, "P6": p6}
    machine = f"{os.cpu_count()} cores, {os.uname().machine}, {time.strftime('%Y-%m-%d')}"
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
