#!/usr/bin/env bash
# run.sh — the dashboard's browser test: starts `telluride pipeline` against the test broker
# (TELLURIDE_TEST_AMQP_URL, from ctest) with a config of its own, and `telluride sensors`
# publishing to it, then runs dashboard_test.js in Debian's headless chromium. Stops both on exit.
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

# A free port for the daemon's HTTP server, a token for POST /api/config, and route names of
# this test alone (the same on every run, so reruns declare nothing new). Node does the JSON.
token=browser-test-$RANDOM$RANDOM
port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => {
  console.log(s.address().port); s.close(); });')
node - "$out/config.json" "$port" "$token" <<'JS'
const [path, port, token] = process.argv.slice(2);
const routes = {exchange: 'sensor_events', events_exchange: 'broadway_events',
  readings_queue: 'sensor_reading_queue', control_queue: 'broadway_config_queue',
  aggregates_queue: 'sensor_health_queue', metrics_queue: 'sensor_metric_queue',
  alerts_queue: 'sensor_alert_queue', throughput_queue: 'broadway_throughput_queue',
  events_queue: 'broadway_event_queue', dead_letter_queue: 'dlx_queue', shards_exchange: 'sensor_shards'};
const config = {amqp_url: process.env.TELLURIDE_TEST_AMQP_URL, http_listen: `127.0.0.1:${port}`,
  http_token: token, state: 'memory', shards: 1, aggregate_interval_ms: 200, metrics_interval_ms: 200,
  routes: Object.fromEntries(Object.entries(routes).map(([k, v]) => [k, `browser-test.${v}`]))};
require('fs').writeFileSync(path, JSON.stringify(config, null, 1));
JS

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

"$TELLURIDE_BIN" pipeline --config "$out/config.json" >"$out/daemon.log" 2>&1 &
pids+=($!)
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
"$TELLURIDE_BIN" sensors --config "$out/config.json" --count 20 --rate 400 --messages 2000 --seed 7 --quiet \
  >"$out/sensors.log" 2>&1 &
pids+=($!)

DASHBOARD_URL=http://127.0.0.1:$port/ DASHBOARD_TOKEN=$token DASHBOARD_OUT=$out DAEMON_PID=${pids[0]} \
  node "$here/dashboard_test.js"
