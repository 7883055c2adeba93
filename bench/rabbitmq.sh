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

# shellcheck source=private_broker.sh
source "$root/bench/private_broker.sh"
start_private_broker rabbitmq "$build/bench-broker" telluride-bench@localhost "${BENCH_BROKER_PORT:-12672}"

"$bench" --url "amqp://guest:guest@127.0.0.1:$TELLURIDE_BROKER_PORT/%2f" --broker-pid "$broker_pid" \
  --messages 200000 --size 100 --prefetch 1000 "$@" | log_lines_to_stderr
