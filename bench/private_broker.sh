# bench/private_broker.sh — sourced by the benchmark scripts (bash, set -euo pipefail).
#
#   start_private_broker NAME DIR NODE PORT
#       Starts deploy/rabbitmq-local.sh with its own data folder DIR (emptied first), node name
#       NODE and AMQP port PORT (management off), stops it when the script exits, and sets
#       broker_pid (0 when unknown). On failure prints the benchmark NAME's JSON error line and
#       exits 1.
#   log_lines_to_stderr
#       A filter: the library's log lines ("[2026-...] [info] ...") go to stderr, the rest to
#       stdout, so the benchmark's JSON line stays last on stdout.
#   run_daemon_bench NAME BUILD PORT [ARGS...]
#       The benchmarks that run `telluride pipeline` (daemon, shards): builds telluride,
#       bench_NAME and noisy_neighbour (the daemon benchmark's --noise) in BUILD, starts a private broker (BUILD/bench-NAME-broker, node
#       telluride-bench-NAME@localhost, AMQP port PORT), and runs bench_NAME against it with the
#       daemons' configs and logs in BUILD/bench-NAME, then ARGS.

start_private_broker() {
  local name=$1
  export TELLURIDE_BROKER_DIR=$2
  export TELLURIDE_BROKER_NODE=$3
  export TELLURIDE_BROKER_PORT=$4
  export TELLURIDE_BROKER_MGMT_PORT=0
  private_broker_script=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/deploy/rabbitmq-local.sh
  # A fresh broker every run: what an interrupted run left in the data folder (its queues, a
  # message store of preloaded readings) would otherwise weigh on every later run.
  "$private_broker_script" stop >/dev/null 2>&1 || true
  rm -rf "$TELLURIDE_BROKER_DIR"
  # Quiet: the JSON line stays last.
  trap '"$private_broker_script" stop >/dev/null 2>&1 || true' EXIT
  if ! "$private_broker_script" start >&2; then
    echo "{\"name\":\"$name\",\"error\":\"the private broker did not start\"}"
    exit 1
  fi
  local pid_file=$TELLURIDE_BROKER_DIR/rabbitmq.pid
  broker_pid=$(tr -dc '0-9' <"$pid_file" 2>/dev/null || true)
  if [[ -z $broker_pid ]]; then
    echo "$name: no broker pid in $pid_file; broker CPU will read 0 and idle waits are fixed 2 s" >&2
    broker_pid=0
  fi
}

log_lines_to_stderr() {
  while IFS= read -r line; do
    if [[ $line == "["[0-9]* ]]; then echo "$line" >&2; else echo "$line"; fi
  done
}

run_daemon_bench() {
  local name=$1 build=$2 port=$3
  shift 3
  # The programs, up to date (a no-op when they are).
  if ! cmake --build "$build" --target telluride "bench_$name" noisy_neighbour >&2; then
    echo "{\"name\":\"$name\",\"error\":\"building telluride and bench_$name failed\"}"
    exit 1
  fi
  start_private_broker "$name" "$build/bench-$name-broker" "telluride-bench-$name@localhost" "$port"
  local work=$build/bench-$name
  mkdir -p "$work"
  echo "$name: daemon configs and logs in $work" >&2
  "$build/bin/bench_$name" --url "amqp://guest:guest@127.0.0.1:$TELLURIDE_BROKER_PORT/%2f" \
    --broker-pid "$broker_pid" --telluride "$build/bin/telluride" --work-dir "$work" "$@" | log_lines_to_stderr
}
