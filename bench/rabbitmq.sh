#!/usr/bin/env bash
# bench/rabbitmq.sh BUILD_DIR [bench_rabbitmq args...] — the `rabbitmq` benchmark.
#
# Starts a private broker (own data folder under BUILD_DIR, own node name and ports), drains
# a preloaded queue of 200,000 ~100-byte persistent messages through Causeway and, on an equal
# queue of the same broker, through a minimal rabbitmq-c consumer; prints both rates, the ratio
# and the broker's CPU seconds per 100k messages; stops the broker. The last line of stdout is
# one JSON object. Everything else (broker start/stop, progress) goes to stderr.
#
# Environment: BENCH_BROKER_PORT (AMQP port of the private broker, default 12672).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:?usage: bench/rabbitmq.sh BUILD_DIR [args...]}
shift
build=$(cd "$build" && pwd)
bench=$build/bin/bench_rabbitmq
if [[ ! -x $bench ]]; then
  cmake --build "$build" --target bench_rabbitmq >&2
fi

export TELLURIDE_BROKER_DIR=$build/bench-broker
export TELLURIDE_BROKER_NODE=telluride-bench@localhost
export TELLURIDE_BROKER_PORT=${BENCH_BROKER_PORT:-12672}
export TELLURIDE_BROKER_MGMT_PORT=0
broker=$root/deploy/rabbitmq-local.sh

stop_broker() { "$broker" stop >/dev/null 2>&1 || true; }  # quiet: the JSON line stays last
trap stop_broker EXIT

if ! "$broker" start >&2; then
  echo '{"name":"rabbitmq","error":"the private broker did not start"}'
  exit 1
fi
pid_file=$TELLURIDE_BROKER_DIR/rabbitmq.pid
broker_pid=$(tr -dc '0-9' <"$pid_file" 2>/dev/null || true)
if [[ -z $broker_pid ]]; then
  echo "rabbitmq.sh: no broker pid in $pid_file; broker CPU will read 0" >&2
  broker_pid=0
fi

# Log lines of the library ("[2026-...] [info] ...") go to stderr with the progress.
"$bench" --url "amqp://guest:guest@127.0.0.1:$TELLURIDE_BROKER_PORT/%2f" --broker-pid "$broker_pid" \
  --messages 200000 --size 100 --prefetch 1000 "$@" |
  while IFS= read -r line; do
    if [[ $line == "["[0-9]* ]]; then echo "$line" >&2; else echo "$line"; fi
  done
