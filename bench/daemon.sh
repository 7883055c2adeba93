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

# shellcheck source=private_broker.sh
source "$root/bench/private_broker.sh"
run_daemon_bench daemon "$build" "${BENCH_DAEMON_BROKER_PORT:-12700}" --messages 200000 --sensors 1000 --sensors-large 10000 "$@"
