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

if ! cmake --build "$build" --target telluride bench_shards >&2; then
  echo '{"name":"shards","error":"building telluride and bench_shards failed"}'
  exit 1
fi

# shellcheck source=private_broker.sh
source "$root/bench/private_broker.sh"
start_private_broker shards "$build/bench-shards-broker" telluride-bench-shards@localhost \
  "${BENCH_SHARDS_BROKER_PORT:-12710}"

work=$build/bench-shards
mkdir -p "$work"
echo "shards.sh: daemon configs and logs in $work" >&2

"$build/bin/bench_shards" --url "amqp://guest:guest@127.0.0.1:$TELLURIDE_BROKER_PORT/%2f" \
  --broker-pid "$broker_pid" --telluride "$build/bin/telluride" --work-dir "$work" \
  --messages 300000 --sensors 2000 --shards 12 "$@" | log_lines_to_stderr
