#!/usr/bin/env bash
# bench/shards.sh BUILD_DIR [bench_shards args...] — the `shards` benchmark.
#
# Starts a private broker (own data folder under BUILD_DIR, own node name and ports), then
# bench_shards: 1, 2 and 3 daemons (`telluride pipeline`, durable mode, `shards: 12`) drain the
# same 300,000 preloaded readings of 2,000 sensors; the rate, the CPU per reading of each daemon
# and of the broker, and with 2 and 3 daemons the handover of a kill -9'd daemon's shards
# (kill -> active on a survivor, kill -> consumed again). Stops the broker. The last line of
# stdout is one JSON object; the daemons' configs and logs are in BUILD_DIR/bench-shards/.
#
# Environment: BENCH_SHARDS_BROKER_PORT (AMQP port of the private broker, default 12710).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:?usage: bench/shards.sh BUILD_DIR [args...]}
shift
build=$(cd "$build" && pwd)

# shellcheck source=private_broker.sh
source "$root/bench/private_broker.sh"
# Before each drain the broker garbage-collects the shard queues' processes (--broker-ctl; as
# bench/daemon.sh does, for the reason given there); --no-queue-gc leaves them alone.
run_daemon_bench shards "$build" "${BENCH_SHARDS_BROKER_PORT:-12710}" --messages 300000 --sensors 2000 --shards 12 \
  --broker-ctl "$root/deploy/rabbitmq-local.sh" "$@"
