#!/usr/bin/env bash
# sockudo sends webhooks to `tickertape webhooks`: a watcher subscribes to a channel on
# sockudo (in-memory, no redis), sockudo posts channel_occupied to the receiver, and the
# receiver must find its signature valid under the app's secret. Long (starts sockudo); not
# part of CI. One command:   bash tests/cluster/webhooks.sh
# SOCKUDO=path/to/sockudo and TT=path/to/tickertape override the binaries.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
SOCKUDO=${SOCKUDO:-/root/.cache/tickertape-bench/bin/sockudo}
TT=${TT:-$root/target/debug/tickertape}
APP_ID=1 KEY=hook-key SECRET=hook-secret CHANNEL=webhook-probe

source "$(dirname "$0")/setup.sh"
[ -x "$SOCKUDO" ] || { echo "no sockudo at $SOCKUDO (bench/run.sh installs it)" >&2; exit 2; }
[ -x "$TT" ] || (cd "$root" && cargo build --quiet)

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { # port, seconds
    for _ in $(seq $(($2 * 10))); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
ws_port=$(free_port)
hook_port=$(free_port)

# sockudo reads apps with webhooks only from its config file (the SOCKUDO_DEFAULT_APP_*
# variables would replace them with an app that has none).
cat > "$work/config.json" <<JSON
{
  "host": "127.0.0.1",
  "port": $ws_port,
  "adapter": { "driver": "local" },
  "app_manager": {
    "driver": "memory",
    "array": { "apps": [ {
      "id": "$APP_ID", "key": "$KEY", "secret": "$SECRET", "enabled": true,
      "max_connections": 100, "enable_client_messages": true, "max_client_events_per_second": 100,
      "webhooks": [ {
        "url": "http://127.0.0.1:$hook_port/sockudo",
        "event_types": ["channel_occupied", "channel_vacated"]
      } ]
    } ] }
  },
  "cache": { "driver": "memory" },
  "queue": { "driver": "memory" },
  "rate_limiter": { "enabled": false },
  "metrics": { "enabled": false }
}
JSON

"$TT" webhooks --listen "127.0.0.1:$hook_port" --app "$APP_ID:$KEY:$SECRET" --json \
    --count 1 --timeout 60s > "$work/webhooks.ndjson" 2> "$work/webhooks.err" &
receiver=$!
pids+=("$receiver")
wait_port "$hook_port" 10 || { echo "tickertape webhooks did not listen" >&2; cat "$work/webhooks.err" >&2; exit 1; }

(cd "$work" && exec env QUEUE_DRIVER=memory ADAPTER_DRIVER=local APP_MANAGER_DRIVER=memory \
    CACHE_DRIVER=memory RATE_LIMITER_ENABLED=false METRICS_ENABLED=false \
    HOST=127.0.0.1 PORT="$ws_port" "$SOCKUDO" --config "$work/config.json") \
    > "$work/sockudo.log" 2>&1 &
pids+=("$!")
wait_port "$ws_port" 30 || { echo "sockudo did not listen" >&2; tail -20 "$work/sockudo.log" >&2; exit 1; }

"$TT" watch "$CHANNEL" --json --key "$KEY" --host 127.0.0.1 --port "$ws_port" --timeout 20s \
    > /dev/null 2> "$work/watch.err" &
pids+=("$!")

status=0
wait "$receiver" || status=$?
echo "--- tickertape webhooks (stderr)"
cat "$work/webhooks.err"
echo "--- tickertape webhooks (stdout)"
cat "$work/webhooks.ndjson"
if [ "$status" -eq 0 ] && jq -e --arg c "$CHANNEL" \
    'select(.name == "channel_occupied" and .channel == $c and .valid == true and .app == "1")' \
    "$work/webhooks.ndjson" > /dev/null; then
    echo "PASS: sockudo's channel_occupied for $CHANNEL arrived with a valid signature"
else
    echo "FAIL: no valid channel_occupied for $CHANNEL (receiver exit $status)"
    echo "--- sockudo log (last lines)"
    tail -30 "$work/sockudo.log"
    echo "--- watch (stderr)"
    cat "$work/watch.err"
    exit 1
fi
