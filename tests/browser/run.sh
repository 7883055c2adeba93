#!/usr/bin/env bash
# run.sh — the dashboard's browser test: starts `telluride pipeline` with a config of its own,
# connected to the test broker (TELLURIDE_TEST_AMQP_URL, from ctest) through broker_proxy.js (so
# the test can take the broker away), and `telluride sensors` publishing to the broker directly,
# then runs dashboard_test.js in Debian's headless chromium. Stops all three on exit.
#   tests/browser/run.sh OUT_DIR     # OUT_DIR: config, logs and the screenshot
# Needs: TELLURIDE_BIN, TELLURIDE_TEST_AMQP_URL, /usr/bin/chromium, node and
# tests/browser/node_modules (scripts/setup.sh runs `npm ci` there).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${1:?usage: run.sh OUT_DIR}
: "${TELLURIDE_BIN:?}" "${TELLURIDE_TEST_AMQP_URL:?}"
for need in /usr/bin/chromium "$here/node_modules/playwright-core"; do
  if [[ ! -e $need ]]; then
    echo "browser test: $need is missing (run scripts/setup.sh)" >&2
    exit 1
  fi
done
mkdir -p "$out"

# Free ports for the daemon's HTTP server and the broker proxy, a token for POST /api/config, and
# route names of this test alone (the same on every run, so reruns declare nothing new). Node
# does the JSON and the URLs.
token=browser-test-$RANDOM$RANDOM
free_port() {
  node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => {
    console.log(s.address().port); s.close(); });'
}
port=$(free_port)
proxy_port=$(free_port)
broker_port=$(node -e 'console.log(new URL(process.argv[1]).port || 5672)' "$TELLURIDE_TEST_AMQP_URL")
node - "$out/config.json" "$port" "$token" "$proxy_port" <<'JS'
const [path, port, token, proxyPort] = process.argv.slice(2);
const routes = {exchange: 'sensor_events', events_exchange: 'broadway_events',
  readings_queue: 'sensor_reading_queue', control_queue: 'broadway_config_queue',
  aggregates_queue: 'sensor_health_queue', metrics_queue: 'sensor_metric_queue',
  alerts_queue: 'sensor_alert_queue', throughput_queue: 'broadway_throughput_queue',
  events_queue: 'broadway_event_queue', dead_letter_queue: 'dlx_queue', shards_exchange: 'sensor_shards'};
const broker = new URL(process.env.TELLURIDE_TEST_AMQP_URL);
broker.port = proxyPort;  // the daemon reaches the broker through the proxy
const config = {amqp_url: broker.href, http_listen: `127.0.0.1:${port}`,
  http_token: token, state: 'memory', shards: 1, aggregate_interval_ms: 200, metrics_interval_ms: 200,
  routes: Object.fromEntries(Object.entries(routes).map(([k, v]) => [k, `browser-test.${v}`]))};
require('fs').writeFileSync(path, JSON.stringify(config, null, 1));
JS

pids=()
cleanup() {  # the last started first: the daemon drains through the proxy, which goes last
  for ((i = ${#pids[@]} - 1; i >= 0; --i)); do
    kill "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
}
trap cleanup EXIT

node "$here/broker_proxy.js" "$proxy_port" "$broker_port" >"$out/proxy.log" 2>&1 &
proxy_pid=$!
pids+=($proxy_pid)
for _ in $(seq 50); do
  grep -q '^open$' "$out/proxy.log" && break
  sleep 0.1
done
if ! grep -q '^open$' "$out/proxy.log"; then
  echo "browser test: the broker proxy did not start; its log:" >&2
  cat "$out/proxy.log" >&2
  exit 1
fi

"$TELLURIDE_BIN" pipeline --config "$out/config.json" >"$out/daemon.log" 2>&1 &
pids+=($!)
daemon_pid=$!
is_ready() {
  node -e 'fetch(process.argv[1]).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))' \
    "http://127.0.0.1:$port/readyz"
}
for _ in $(seq 100); do
  is_ready && break
  sleep 0.2
done
if ! is_ready; then
  echo "browser test: the daemon did not become ready within 20 s; its log:" >&2
  tail -20 "$out/daemon.log" >&2
  exit 1
fi
"$TELLURIDE_BIN" sensors --config "$out/config.json" --amqp "$TELLURIDE_TEST_AMQP_URL" --count 20 --rate 400 \
  --messages 2000 --seed 7 --quiet >"$out/sensors.log" 2>&1 &
pids+=($!)

DASHBOARD_URL=http://127.0.0.1:$port/ DASHBOARD_TOKEN=$token DASHBOARD_OUT=$out DAEMON_PID=$daemon_pid \
  PROXY_PID=$proxy_pid DASHBOARD_CONFIG=$out/config.json node "$here/dashboard_test.js"
