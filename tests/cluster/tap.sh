#!/usr/bin/env bash
# `tickertape tap` and `tickertape trace` against a real cluster: two sockudo nodes sharing
# a Redis adapter, all on 127.0.0.1. Not part of CI (sockudo with the redis feature is a long
# build; setup.sh does it once).
#
#   tests/cluster/tap.sh              # SOCKUDO=… TICKERTAPE=… to override
#
# 1. `tap --json` runs while a REST publish goes through node A: the tap shows its broadcast
#    (channel and event); PUBSUB NUMSUB of sockudo_adapter::#requests stays 2; GET /channels
#    through node A answers well under a second.
# 2. `trace` through both nodes (with --tap) exits 0, received on both; ten traces too.
#    Then, for contrast, a plain SUBSCRIBE to the requests channel (what a counted observer
#    does) is measured: NUMSUB 3 and GET /channels waiting for the cluster's timeout.
# 3. Redis stopped: `trace` exits 1 and names the node that never received the event.
# Only the processes this script starts are stopped, by their PIDs.
set -uo pipefail

SOCKUDO=${SOCKUDO:-/root/.cache/tickertape-bench/bin/sockudo}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TICKERTAPE=${TICKERTAPE:-$ROOT/target/debug/tickertape}
APP_ID=tap-app KEY=tap-key SECRET=tap-secret-$RANDOM$RANDOM

source "$(dirname "$0")/setup.sh"
[ -x "$SOCKUDO" ] || { echo "no sockudo at $SOCKUDO (cargo install sockudo --features redis)"; exit 3; }
command -v redis-server >/dev/null || { echo "no redis-server (apt-get install redis-server)"; exit 3; }
[ -x "$TICKERTAPE" ] || (cd "$ROOT" && CARGO_INCREMENTAL=0 cargo build --quiet) || exit 3

TMP=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_for() { # WHAT COMMAND…: at most 30 s
    local what=$1; shift
    for _ in $(seq 1 300); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
    echo "timed out waiting for $what"; exit 3
}

REDIS_PORT=$(free_port) A=$(free_port) B=$(free_port) MA=$(free_port) MB=$(free_port)
CREDS=(--key "$KEY" --app-id "$APP_ID" --secret "$SECRET")
rcli() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }

start_redis() {
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$TMP" --save '' --appendonly no \
        >>"$TMP/redis.log" 2>&1 &
    REDIS_PID=$!
    PIDS+=("$REDIS_PID")
    wait_for "redis on $REDIS_PORT" rcli ping
}

start_node() { # PORT METRICS_PORT NAME
    (cd "$TMP" && exec env LOG_COLORS_ENABLED=false HOST=127.0.0.1 PORT="$1" METRICS_HOST=127.0.0.1 METRICS_PORT="$2" \
        ADAPTER_DRIVER=redis CACHE_DRIVER=redis QUEUE_DRIVER=memory \
        DATABASE_REDIS_HOST=127.0.0.1 DATABASE_REDIS_PORT="$REDIS_PORT" \
        SOCKUDO_DEFAULT_APP_ID=$APP_ID SOCKUDO_DEFAULT_APP_KEY=$KEY \
        SOCKUDO_DEFAULT_APP_SECRET=$SECRET "$SOCKUDO") >>"$TMP/$3.log" 2>&1 &
    PIDS+=("$!")
    wait_for "sockudo $3 on $1" curl -sf "http://127.0.0.1:$1/up/$APP_ID"
}

numsub() { rcli PUBSUB NUMSUB 'sockudo_adapter::#requests' | sed -n 2p; }
# GET /channels through node A, in seconds.
channels_time() {
    local t0 t1
    t0=$(date +%s.%N)
    "$TICKERTAPE" channels --host 127.0.0.1 --port "$A" "${CREDS[@]}" >/dev/null 2>&1
    t1=$(date +%s.%N)
    python3 -c "print(f'{$t1 - $t0:.3f}')"
}
lt() { python3 -c "import sys; sys.exit(0 if $1 < $2 else 1)"; }

start_redis
start_node "$A" "$MA" node_a
start_node "$B" "$MB" node_b
echo "redis 127.0.0.1:$REDIS_PORT, sockudo nodes ws://127.0.0.1:$A (a) and ws://127.0.0.1:$B (b) ($("$SOCKUDO" --version 2>/dev/null | head -1))"
FAILS=()

# --- 1. tap
BEFORE=$(numsub); GET_BEFORE=$(channels_time)
"$TICKERTAPE" tap "redis://127.0.0.1:$REDIS_PORT" --json >"$TMP/tap.out" 2>"$TMP/tap.err" &
TAP_PID=$!; PIDS+=("$TAP_PID")
wait_for "the tap to subscribe" grep -q pattern-subscribed "$TMP/tap.err"
# A subscriber on node b, so the publish is delivered across the nodes.
"$TICKERTAPE" watch cluster-tap --json --host 127.0.0.1 --port "$B" "${CREDS[@]}" --timeout 20s \
    >"$TMP/watch.out" 2>"$TMP/watch.err" &
PIDS+=("$!")
wait_for "the subscriber on b" grep -q "subscribed to cluster-tap" "$TMP/watch.err"
"$TICKERTAPE" trigger cluster-tap price_update '{"price":42}' --host 127.0.0.1 --port "$A" "${CREDS[@]}" 2>"$TMP/trigger.err"
DURING=$(numsub); GET_DURING=$(channels_time)
sleep 12   # a heartbeat period, for the nodes' heartbeats and the NUMSUB comparison
DURING_LATER=$(numsub); GET_LATER=$(channels_time)
kill "$TAP_PID"; wait "$TAP_PID" 2>/dev/null
echo "--- tap"
echo "PUBSUB NUMSUB sockudo_adapter::#requests: before $BEFORE, while tapping $DURING and $DURING_LATER"
echo "GET /channels via a: before ${GET_BEFORE}s, while tapping ${GET_DURING}s and ${GET_LATER}s"
echo "trigger: $(cat "$TMP/trigger.err")"
BROADCAST=$(grep '"type":"broadcast"' "$TMP/tap.out" | grep '"channel":"cluster-tap"' | grep '"event":"price_update"' | head -1)
echo "the publish on the backplane: ${BROADCAST:0:400}"
echo "tap lines by type: $(python3 -c '
import json, sys, collections
c = collections.Counter()
for l in open(sys.argv[1]):
    v = json.loads(l); c[v["type"] + ("/" + v["request_type"] if "request_type" in v else "") + ("/" + v["notice"] if "notice" in v else "")] += 1
print(", ".join(f"{k} {n}" for k, n in c.most_common(12)))' "$TMP/tap.out")"
grep '"type":"notice"' "$TMP/tap.out" | cut -c1-220 | sed 's/^/    /'
[ -n "$BROADCAST" ] || FAILS+=("the tap did not show the publish's broadcast")
[ "$DURING" = 2 ] && [ "$DURING_LATER" = 2 ] || FAILS+=("NUMSUB was $DURING/$DURING_LATER while tapping, not 2")
lt "$GET_DURING" 1 && lt "$GET_LATER" 1 || FAILS+=("GET /channels took ${GET_DURING}s/${GET_LATER}s while tapping")

# --- 2. trace, healthy
echo "--- trace, healthy"
"$TICKERTAPE" trace cluster-trace --node "a=ws://127.0.0.1:$A" --node "b=ws://127.0.0.1:$B" "${CREDS[@]}" \
    --tap "redis://127.0.0.1:$REDIS_PORT" >"$TMP/trace_up.out" 2>"$TMP/trace_up.err"
TRACE_UP=$?
cat "$TMP/trace_up.out" "$TMP/trace_up.err"; echo "exit $TRACE_UP"
[ "$TRACE_UP" = 0 ] || FAILS+=("trace exited $TRACE_UP on the healthy cluster")
"$TICKERTAPE" trace cluster-trace --node "a=ws://127.0.0.1:$A" --node "b=ws://127.0.0.1:$B" "${CREDS[@]}" \
    --count 10 --interval 200ms >"$TMP/trace_10.out" 2>&1
TRACE_10=$?
echo "trace --count 10: $(tail -1 "$TMP/trace_10.out") (exit $TRACE_10)"
[ "$TRACE_10" = 0 ] || FAILS+=("trace --count 10 exited $TRACE_10 on the healthy cluster")

# The contrast: a counted observer (plain SUBSCRIBE to the requests channel).
redis-cli -h 127.0.0.1 -p "$REDIS_PORT" SUBSCRIBE 'sockudo_adapter::#requests' >/dev/null 2>&1 &
SUB_PID=$!; PIDS+=("$SUB_PID")
sleep 12   # sockudo reads NUMSUB again from time to time
COUNTED=$(numsub); GET_COUNTED=$(channels_time)
kill "$SUB_PID"; wait "$SUB_PID" 2>/dev/null
echo "for contrast, a plain SUBSCRIBE: NUMSUB $COUNTED, GET /channels ${GET_COUNTED}s"

# --- 3. trace, Redis stopped
kill "$REDIS_PID"; wait "$REDIS_PID" 2>/dev/null
echo "--- trace, redis stopped"
"$TICKERTAPE" trace cluster-trace --node "a=ws://127.0.0.1:$A" --node "b=ws://127.0.0.1:$B" "${CREDS[@]}" \
    --tap "redis://127.0.0.1:$REDIS_PORT" >"$TMP/trace_down.out" 2>"$TMP/trace_down.err"
TRACE_DOWN=$?
cat "$TMP/trace_down.out" "$TMP/trace_down.err"; echo "exit $TRACE_DOWN"
[ "$TRACE_DOWN" = 1 ] || FAILS+=("trace exited $TRACE_DOWN with Redis stopped, not 1")
grep -q "never received on b" "$TMP/trace_down.out" || FAILS+=("trace did not name b with Redis stopped")

if [ ${#FAILS[@]} -eq 0 ]; then
    echo "RESULT: as expected (tap shown and never counted; trace 0 healthy, 1 naming b without Redis)"
    exit 0
fi
printf 'RESULT: unexpected: %s\n' "${FAILS[@]}"
exit 1
