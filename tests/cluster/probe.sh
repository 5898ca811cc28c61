#!/usr/bin/env bash
# `tickertape probe` and `tickertape check` against a real cluster: two sockudo nodes sharing
# a Redis adapter, all on 127.0.0.1. Not part of CI (sockudo with the redis feature is a long
# build; setup.sh does it once).
#
#   tests/cluster/probe.sh            # SOCKUDO=… TICKERTAPE=… PROBE_FOR=20s to override
#
# 1. Redis up: a 20 s probe through both nodes, and a check on node B of events published
#    through node A, are expected OK (exit 0).
# 2. Redis stopped (before they connect): the same probe, an 8 s one (too short for any
#    canary to be answered: the subscriptions are never confirmed, the publishes hang) and
#    the check are expected CRITICAL
#    (exit 2), never UNKNOWN: a cluster that cannot deliver is critical. What sockudo does
#    is printed.
# 3. Redis restarted: the probe runs at once, and again 15 s later; their verdicts are
#    printed (not asserted).
# Only the processes this script starts are stopped, by their PIDs.
set -uo pipefail

SOCKUDO=${SOCKUDO:-/root/.cache/tickertape-bench/bin/sockudo}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TICKERTAPE=${TICKERTAPE:-$ROOT/target/debug/tickertape}
PROBE_FOR=${PROBE_FOR:-20s}
APP_ID=probe-app KEY=probe-key SECRET=probe-secret-$RANDOM$RANDOM

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
# Waits (at most 30 s) until COMMAND succeeds.
wait_for() {
    local what=$1; shift
    for _ in $(seq 1 300); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
    echo "timed out waiting for $what"; exit 3
}

REDIS_PORT=$(free_port) A=$(free_port) B=$(free_port) MA=$(free_port) MB=$(free_port)

start_redis() {
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$TMP" --save '' --appendonly no \
        >>"$TMP/redis.log" 2>&1 &
    REDIS_PID=$!
    PIDS+=("$REDIS_PID")
    wait_for "redis on $REDIS_PORT" redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping
}

start_node() { # PORT METRICS_PORT NAME
    (cd "$TMP" && exec env LOG_COLORS_ENABLED=false HOST=127.0.0.1 PORT="$1" METRICS_HOST=127.0.0.1 METRICS_PORT="$2" \
        ADAPTER_DRIVER=redis CACHE_DRIVER=redis QUEUE_DRIVER=memory \
        DATABASE_REDIS_HOST=127.0.0.1 DATABASE_REDIS_PORT="$REDIS_PORT" \
        SOCKUDO_DEFAULT_APP_ID=$APP_ID SOCKUDO_DEFAULT_APP_KEY=$KEY \
        SOCKUDO_DEFAULT_APP_SECRET=$SECRET "$SOCKUDO") >>"$TMP/$3.log" 2>&1 &
    PIDS+=("$!")
    eval "${3}_PID=$!"
    wait_for "sockudo $3 on $1" curl -sf "http://127.0.0.1:$1/up/$APP_ID"
}

# One probe through both nodes: its stdout and stderr in $TMP/$1.out and .err; its exit status.
probe() { # NAME [FOR]
    "$TICKERTAPE" probe --node "ws://127.0.0.1:$A" --node "ws://127.0.0.1:$B" \
        --key "$KEY" --app-id "$APP_ID" --secret "$SECRET" --for "${2:-$PROBE_FOR}" \
        --summary-every 1h >"$TMP/$1.out" 2>"$TMP/$1.err"
}

# One check through node B of what is published through node A: an event on a private
# channel at least every 3 s, while a loop triggers one every second through A's REST API.
# Its Nagios line in $TMP/$1.out; its status. (A check of node B alone, connected and
# subscribed, can pass with Redis stopped: sockudo may still take B's connections and
# subscriptions; what fails is what crosses from A to B.)
check() {
    (
        while :; do
            "$TICKERTAPE" trigger private-cluster-check tick '{}' --host 127.0.0.1 --port "$A" \
                --key "$KEY" --app-id "$APP_ID" --secret "$SECRET" --quiet >/dev/null 2>&1
            sleep 1
        done
    ) &
    local feeder=$!
    "$TICKERTAPE" check --expect 'private-cluster-check/tick<3s' --expect connected \
        --host 127.0.0.1 --port "$B" --key "$KEY" --app-id "$APP_ID" --secret "$SECRET" \
        --for 10s >"$TMP/$1.out" 2>"$TMP/$1.err"
    local status=$?
    kill "$feeder" 2>/dev/null; wait "$feeder" 2>/dev/null
    return "$status"
}

report() { # NAME STATUS: the verdict's line (the first), its parts and nodes, the alerts
    echo "--- $1: exit $2"
    head -1 "$TMP/$1.out" | cut -c1-400
    grep -E '^(node |[a-z]+: (CRITICAL|WARNING|UNKNOWN))' "$TMP/$1.out" | cut -c1-200
    grep -hoE '(ALERT|RECOVERED) [a-z_]+' "$TMP/$1.out" "$TMP/$1.err" | sort | uniq -c | sort -rn | head -8
}

start_redis
start_node "$A" "$MA" node_a
start_node "$B" "$MB" node_b
echo "redis 127.0.0.1:$REDIS_PORT, sockudo nodes ws://127.0.0.1:$A and ws://127.0.0.1:$B ($("$SOCKUDO" --version 2>/dev/null | head -1))"

probe up; UP=$?
report up "$UP"
check check_up; CHECK_UP=$?
report check_up "$CHECK_UP"

kill "$REDIS_PID"; wait "$REDIS_PID" 2>/dev/null
echo "--- redis stopped"
probe down; DOWN=$?
report down "$DOWN"
# Connected after about 4 s, but no publish answered by the end: the subscriptions are never
# confirmed (the first canary waits 5 s for them) and the publishes hang (5 s each). This
# was UNKNOWN ("nothing to judge") before the subscriptions were judged.
probe down_short 8s; DOWN_SHORT=$?
report down_short "$DOWN_SHORT"
check check_down; CHECK_DOWN=$?
report check_down "$CHECK_DOWN"
for n in node_a node_b; do
    pid_var=${n}_PID
    if kill -0 "${!pid_var}" 2>/dev/null; then state=running; else state=exited; fi
    echo "sockudo $n: $state; its errors and warnings so far, by kind:"
    sed 's/\x1b\[[0-9;]*m//g' "$TMP/$n.log" | grep -E ' (ERROR|WARN) ' \
        | sed -E 's/^[^ ]+ +(ERROR|WARN) .*(sockudo[a-z_:]*): /\1 \2: /' | cut -c1-150 \
        | sort | uniq -c | sort -rn | head -6 | sed 's/^/    /'
done

start_redis
echo "--- redis restarted"
sleep 2
probe again; AGAIN=$?
report again "$AGAIN"
sleep 15
probe later; LATER=$?
report later "$LATER"

figures() { # NAME: p50/p99/max and losses from the verdict's perfdata (its first line)
    local line; line=$(head -1 "$TMP/$1.out")
    local get; get() { echo "$line" | grep -oE "'$1'=[0-9.]+" | cut -d= -f2; }
    echo "$1: sent $(get sent), received $(get received), lost $(get lost), late $(get late), p50 $(get latency_p50)s, p99 $(get latency_p99)s, max $(get latency_max)s"
}
echo "--- figures"
figures up; figures down; figures again; figures later

if [ "$UP" -eq 0 ] && [ "$DOWN" -eq 2 ] && [ "$DOWN_SHORT" -eq 2 ] \
    && [ "$CHECK_UP" -eq 0 ] && [ "$CHECK_DOWN" -eq 2 ]; then
    echo "RESULT: as expected (probe and check OK with Redis, CRITICAL without)"
    exit 0
fi
echo "RESULT: unexpected (probe: up exit $UP, want 0; down exit $DOWN, want 2;" \
    "down for 8 s exit $DOWN_SHORT, want 2;" \
    "check: up exit $CHECK_UP, want 0; down exit $CHECK_DOWN, want 2)"
exit 1
