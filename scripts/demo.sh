#!/usr/bin/env bash
# The whole demo on one machine: installs what is missing and builds (scripts/setup.sh),
# starts the project-local RabbitMQ (management UI on), the pipeline daemon and the sensor
# simulator, prints where to look, and waits. Ctrl-C stops the sensors, then the daemon (which
# drains), then the broker if this script started it.
#   scripts/demo.sh        # from any directory, as root
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
build_dir=${TELLURIDE_BUILD_DIR:-build}
telluride=$build_dir/bin/telluride
config=config/telluride.json
demo_dir=$build_dir/demo
broker=deploy/rabbitmq-local.sh
export TELLURIDE_BROKER_MGMT_PORT=${TELLURIDE_BROKER_MGMT_PORT:-15672}
amqp_port=${TELLURIDE_BROKER_PORT:-5672}

say() { echo "demo: $*"; }

bash scripts/setup.sh

broker_was_running=0
if "$broker" status >/dev/null 2>&1; then broker_was_running=1; fi
"$broker" start

if [[ ! -x $telluride ]]; then
  echo "pipeline not yet built: the broker is running on amqp://127.0.0.1:$amqp_port"
  exit 0
fi
# The programs default to amqp://guest:guest@127.0.0.1:5672/%2f; follow a moved broker.
if [[ $amqp_port != 5672 && -z ${TELLURIDE_AMQP_URL:-} ]]; then
  export TELLURIDE_AMQP_URL="amqp://guest:guest@127.0.0.1:$amqp_port/%2f"
fi

# Where the daemon serves HTTP: "http_listen" of the config file, else the default.
http_listen=$(sed -n 's/.*"http_listen"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$config" 2>/dev/null | head -n1 || true)
http_listen=${http_listen:-127.0.0.1:9464}
http_host=${http_listen%:*}
http_port=${http_listen##*:}
[[ $http_host == 0.0.0.0 || -z $http_host ]] && http_host=127.0.0.1

mkdir -p "$demo_dir"
pipeline_log=$demo_dir/pipeline.log
sensors_log=$demo_dir/sensors.log

alive() { [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null; }
read_pid() { if [[ -f $1 ]]; then tr -dc '0-9' <"$1"; fi; }

where_to_look() {
  cat <<EOF

  dashboard          http://$http_host:$http_port/   (metrics: /metrics)
  aggregates         $telluride tail aggregates
  RabbitMQ UI        http://127.0.0.1:$TELLURIDE_BROKER_MGMT_PORT/  (guest / guest)
  reconfigure        $telluride config set processor_concurrency=4 --wait 10
  statistics         $telluride stats
  logs               $pipeline_log, $sensors_log

EOF
}

# Idempotent: a demo started earlier (in another terminal) is still running.
old_pid=$(read_pid "$demo_dir/pipeline.pid")
if alive "$old_pid" && grep -q telluride "/proc/$old_pid/cmdline" 2>/dev/null; then
  say "already running (pipeline pid $old_pid); stop it with Ctrl-C in its terminal"
  where_to_look
  exit 0
fi

pipeline_pid=""
sensors_pid=""

# Stop order matters: the sensors first (no new readings), then the daemon (SIGTERM makes it
# drain: it acks what it took), then the broker, only if this script started it.
stop_pid() { # PID NAME SECONDS
  alive "$1" || return 0
  say "stopping $2 (pid $1)"
  kill -TERM "$1" 2>/dev/null || true
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    alive "$1" || break
    sleep 0.1
  done
  if alive "$1"; then
    say "$2 did not stop within $3 s: killing it"
    kill -KILL "$1" 2>/dev/null || true
  fi
  wait "$1" 2>/dev/null || true
}
cleanup() {
  trap - INT TERM HUP EXIT
  stop_pid "$sensors_pid" sensors 10
  stop_pid "$pipeline_pid" pipeline 60
  rm -f "$demo_dir/pipeline.pid" "$demo_dir/sensors.pid"
  if ((broker_was_running == 0)); then "$broker" stop || true; fi
}
trap 'cleanup; exit 0' INT TERM HUP
trap 'cleanup' EXIT

# HTTP GET http://HOST:PORT/PATH -> status line, without curl.
http_status() {
  # shellcheck disable=SC2016 # the positional parameters belong to the inner bash
  timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2" || exit 1
    printf "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" "$3" "$1" >&3
    head -n1 <&3' _ "$http_host" "$http_port" "$1" 2>/dev/null || true
}

# setsid: Ctrl-C reaches only this script, which then stops everything in order.
say "starting the pipeline daemon (log: $pipeline_log)"
setsid "$telluride" pipeline --config "$config" </dev/null >"$pipeline_log" 2>&1 &
pipeline_pid=$!
echo "$pipeline_pid" >"$demo_dir/pipeline.pid"

# The sensors publish only once the daemon has declared the topology (ready = consuming).
ready=0
for ((i = 0; i < 60; i++)); do
  if ! alive "$pipeline_pid"; then
    wait "$pipeline_pid" && rc=0 || rc=$?
    pipeline_pid=""
    echo "demo: the pipeline daemon exited (code $rc) during start-up; see $pipeline_log:" >&2
    tail -n 15 "$pipeline_log" | sed 's/^/    /' >&2
    exit 1
  fi
  if [[ $(http_status /readyz) == *" 200"* ]]; then
    ready=1
    break
  fi
  sleep 0.5
done
((ready)) || say "the daemon is not ready after 30 s (starting the sensors anyway); see $pipeline_log"

say "starting the sensor simulator: 1000 sensors, 2000 readings/s (log: $sensors_log)"
setsid "$telluride" sensors --count 1000 --rate 2000 </dev/null >"$sensors_log" 2>&1 &
sensors_pid=$!
echo "$sensors_pid" >"$demo_dir/sensors.pid"

say "running. Where to look:"
where_to_look
say "press Ctrl-C to stop the sensors, the daemon and the broker"

while :; do
  sleep 1 &
  wait $! || true # returns at once when a signal arrives, so the trap runs promptly
  if [[ -n $sensors_pid ]] && ! alive "$sensors_pid"; then
    wait "$sensors_pid" && rc=0 || rc=$?
    say "the sensor simulator exited (code $rc); see $sensors_log"
    sensors_pid=""
  fi
  if ! alive "$pipeline_pid"; then
    wait "$pipeline_pid" && rc=0 || rc=$?
    pipeline_pid=""
    echo "demo: the pipeline daemon exited (code $rc); see $pipeline_log:" >&2
    tail -n 15 "$pipeline_log" | sed 's/^/    /' >&2
    exit 1
  fi
done
