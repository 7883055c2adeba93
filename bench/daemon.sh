#!/usr/bin/env bash
# bench/daemon.sh BUILD_DIR [bench_daemon args...] — the `daemon` benchmark.
#
# Starts a private broker (own data folder under BUILD_DIR, own node name and ports), drains
# 200,000 preloaded readings of 1,000 sensors through the daemon (`telluride pipeline`,
# default config) in durable and in memory mode and, on an equal queue of the same broker,
# through a minimal rabbitmq-c consumer; then 200,000 readings of 10,000 sensors through the
# daemon in each mode. Prints the daemon's rate, the ratio, its CPU seconds per million
# readings, peak RSS, per-thread CPU and the idle reconfiguration time, and durable against
# memory mode (rate, CPU per reading, checkpoint bytes per second, restore time); stops the
# broker. The last line of stdout is one JSON object.
# Everything else (build, broker start/stop, progress, the daemons' logs) goes to stderr or
# to BUILD_DIR/bench-daemon/.
#
# Environment: BENCH_DAEMON_BROKER_PORT (AMQP port of the private broker, default 12700).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:?usage: bench/daemon.sh BUILD_DIR [args...]}
shift
build=$(cd "$build" && pwd)

# Both programs, up to date (a no-op when they are).
if ! cmake --build "$build" --target telluride bench_daemon >&2; then
  echo '{"name":"daemon","error":"building telluride and bench_daemon failed"}'
  exit 1
fi

# shellcheck source=private_broker.sh
source "$root/bench/private_broker.sh"
start_private_broker daemon "$build/bench-daemon-broker" telluride-bench-daemon@localhost \
  "${BENCH_DAEMON_BROKER_PORT:-12700}"

work=$build/bench-daemon
mkdir -p "$work"
echo "daemon.sh: daemon configs and logs in $work" >&2

"$build/bin/bench_daemon" --url "amqp://guest:guest@127.0.0.1:$TELLURIDE_BROKER_PORT/%2f" \
  --broker-pid "$broker_pid" --telluride "$build/bin/telluride" --work-dir "$work" \
  --messages 200000 --sensors 1000 --sensors-large 10000 "$@" | log_lines_to_stderr
