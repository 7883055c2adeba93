#!/usr/bin/env bash
# bench/restore.sh BUILD_DIR [bench_restore args...] — the `restore` benchmark.
#
# Starts a private broker (own data folder under BUILD_DIR, own node name and ports) and runs
# bench_restore against it: a shard of 100,000 sensors (and deltas) written to a state stream
# and restored from its indexed snapshot and from the first record, on a fresh stream and on
# one holding many older records (bench_restore.cpp says what exactly); stops the broker. The
# last line of stdout is one JSON object; everything else goes to stderr.
#
# Environment: BENCH_RESTORE_BROKER_PORT (AMQP port of the private broker, default 12720).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:?usage: bench/restore.sh BUILD_DIR [args...]}
shift
build=$(cd "$build" && pwd)

if ! cmake --build "$build" --target bench_restore >&2; then
  echo '{"name":"restore","error":"building bench_restore failed"}'
  exit 1
fi

# shellcheck source=private_broker.sh
source "$root/bench/private_broker.sh"
start_private_broker restore "$build/bench-restore-broker" telluride-bench-restore@localhost \
  "${BENCH_RESTORE_BROKER_PORT:-12720}"

"$build/bin/bench_restore" --url "amqp://guest:guest@127.0.0.1:$TELLURIDE_BROKER_PORT/%2f" "$@" | log_lines_to_stderr
