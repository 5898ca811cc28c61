"""Interop: the official pusher Python SDK (PyPI `pusher`) against `tickertape serve` on
127.0.0.1: trigger (reaching a real subscriber, `tickertape watch --json`), batch, the channel
queries with counts, presence users, a socket id excluded, a wrong secret refused. Prints "N passed, M failed";
exits 1 on failure."""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

import pusher

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.environ.get("TICKERTAPE_BIN", os.path.join(HERE, "../../target/debug/tickertape"))
APP = ("1", "app-key", "app-secret")

serve = subprocess.Popen(
    [BIN, "serve", "--listen", "127.0.0.1:0", "--app", ":".join(APP)],
    stdin=subprocess.DEVNULL,
    stdout=subprocess.DEVNULL,
    stderr=subprocess.PIPE,
    text=True,
)
serve_err = []
port = None
deadline = time.time() + 10
while port is None and time.time() < deadline:
    line = serve.stderr.readline()
    serve_err.append(line)
    m = re.search(r"ws://127\.0\.0\.1:(\d+)", line)
    if m:
        port = int(m.group(1))
if port is None:
    sys.exit("tickertape serve did not start")
threading.Thread(target=lambda: serve_err.extend(serve.stderr), daemon=True).start()

client = pusher.Pusher(app_id=APP[0], key=APP[1], secret=APP[2], host="127.0.0.1", port=port, ssl=False)
results = []


def check(name, fn):
    try:
        fn()
        print(f"ok   {name}")
        results.append((name, None))
    except Exception as e:  # noqa: BLE001 (a check's failure, whatever it is)
        print(f"FAIL {name}: {e!r}")
        results.append((name, e))


def watcher(*channels):
    """`tickertape watch --json` on `channels`: its NDJSON lines, as they come."""
    args = [BIN, "watch", "--json", "--host", "127.0.0.1", "--port", str(port), "--key", APP[1], "--secret", APP[2], "--app-id", APP[0], *channels]
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    lines = []
    threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True).start()
    return proc, lines


def wait_for(what, pred, within=5.0):
    deadline = time.time() + within
    while time.time() < deadline:
        found = pred()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out: {what}")


def occupied(channel, n):
    return lambda: client.channel_info(channel, ["subscription_count"]).get("subscription_count") == n


watch, lines = watcher("py-public", "presence-py")


def events(name):
    out = []
    for line in list(lines):
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if item.get("event") == name:
            out.append(item)
    return out


def trigger_reaches_a_subscriber():
    wait_for("the watcher's subscription", occupied("py-public", 1))
    client.trigger("py-public", "py-hello", {"from": "python"})
    got = wait_for("py-hello", lambda: events("py-hello"))
    assert got[0]["channel"] == "py-public", got


def batch_reaches_a_subscriber():
    client.trigger_batch([
        {"channel": "py-public", "name": "py-b1", "data": "one"},
        {"channel": "py-public", "name": "py-b2", "data": "two"},
    ])
    wait_for("both batch events", lambda: events("py-b1") and events("py-b2"))


def channel_queries():
    one = client.channel_info("py-public", ["subscription_count"])
    assert one["occupied"] is True and one["subscription_count"] == 1, one
    listed = client.channels_info(prefix_filter="py-")
    assert "py-public" in listed["channels"], listed
    users = client.users_info("presence-py")
    assert len(users["users"]) == 1 and users["users"][0]["id"].startswith("tickertape-"), users
    present = client.channels_info(prefix_filter="presence-", attributes=["user_count"])
    assert present["channels"]["presence-py"]["user_count"] == 1, present


def a_socket_id_is_excluded():
    # A socket id the SDK accepts, that no subscriber has: the event still reaches the watcher.
    client.trigger("py-public", "py-excl", {}, socket_id="123.456")
    wait_for("py-excl", lambda: events("py-excl"))


def a_wrong_secret_is_refused():
    bad = pusher.Pusher(app_id=APP[0], key=APP[1], secret="wrong-secret", host="127.0.0.1", port=port, ssl=False)
    try:
        bad.trigger("py-public", "nope", {})
    except pusher.errors.PusherBadAuth:
        return
    raise AssertionError("the trigger was accepted")


check("trigger reaches a subscriber", trigger_reaches_a_subscriber)
check("trigger_batch reaches a subscriber", batch_reaches_a_subscriber)
check("channel_info, channels_info, users_info", channel_queries)
check("trigger with a socket_id to exclude", a_socket_id_is_excluded)
check("a wrong secret is refused (401)", a_wrong_secret_is_refused)

watch.terminate()
watch.wait(10)
serve.send_signal(signal.SIGTERM)
try:
    serve.wait(10)
    results.append(("serve exits after SIGTERM", None))
except subprocess.TimeoutExpired as e:
    serve.kill()
    results.append(("serve exits after SIGTERM", e))
panicked = any("panicked" in line for line in serve_err)
print(f"{'FAIL' if panicked else 'ok  '} serve's stderr shows no panic")
results.append(("serve's stderr shows no panic", AssertionError("".join(serve_err)) if panicked else None))
failed = sum(1 for _, e in results if e)
print(f"{len(results) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
