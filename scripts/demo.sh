#!/usr/bin/env bash
# The whole demo on one machine: installs what is missing and builds (scripts/setup.sh),
# starts the project-local RabbitMQ (management UI on), the pipeline daemon and the sensor
# simulator, prints where to look, and waits. Ctrl-C stops the sensors, then the daemons (which
# drain), then the broker if this script started it.
#   scripts/demo.sh               # from any directory, as root
#   scripts/demo.sh --cluster 3   # 3 daemons sharing 12 shards (deploy/cluster-demo.sh)
set -euo pipefail

usage() { echo "usage: scripts/demo.sh [--cluster N]   (N daemons, 1..9, sharing 12 shards)" >&2; exit 2; }
daemons=1
shards=""
case ${1:-} in
  "") ;;
  --cluster)
    daemons=${2:-3}
    shards=12
    [[ $daemons =~ ^[1-9]$ ]] || usage
    ;;
  *) usage ;;
esac

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

# Where the daemon serves HTTP: "http_listen" of the config file, else the default. Daemon i
# of a cluster (1..N) listens on the port after daemon i-1's.
http_listen=$(sed -n 's/.*"http_listen"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$config" 2>/dev/null | head -n1 || true)
http_listen=${http_listen:-127.0.0.1:9464}
http_host=${http_listen%:*}
http_port=${http_listen##*:}
[[ $http_host == 0.0.0.0 || -z $http_host ]] && http_host=127.0.0.1
port_of() { echo $((http_port + $1 - 1)); }

mkdir -p "$demo_dir"
sensors_log=$demo_dir/sensors.log
# Daemon i's log and pid file: pipeline.log / pipeline.pid alone, pipeline-i.* in a cluster.
daemon_file() { if ((daemons == 1)); then echo "$demo_dir/pipeline.$2"; else echo "$demo_dir/pipeline-$1.$2"; fi; }
daemon_name() { if ((daemons == 1)); then echo "the pipeline daemon"; else echo "pipeline daemon $1"; fi; }

alive() { [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null; }
read_pid() { if [[ -f $1 ]]; then tr -dc '0-9' <"$1"; fi; }

where_to_look() {
  local i
  echo
  for ((i = 1; i <= daemons; i++)); do
    if ((daemons == 1)); then
      echo "  dashboard          http://$http_host:$(port_of "$i")/   (metrics: /metrics)"
    else
      echo "  daemon demo-$i     http://$http_host:$(port_of "$i")/   (its shards: /api/shards)"
    fi
  done
  cat <<EOF
  aggregates         $telluride tail aggregates
  RabbitMQ UI        http://127.0.0.1:$TELLURIDE_BROKER_MGMT_PORT/  (guest / guest)
  reconfigure        $telluride config set processor_concurrency=4 --wait 10
  statistics         $telluride stats
  logs               $demo_dir/pipeline*.log, $sensors_log

EOF
}

# Idempotent: a demo started earlier (in another terminal) is still running.
for old in "$demo_dir"/pipeline*.pid; do
  [[ -f $old ]] || continue
  old_pid=$(read_pid "$old")
  if alive "$old_pid" && grep -q telluride "/proc/$old_pid/cmdline" 2>/dev/null; then
    say "already running (pipeline pid $old_pid); stop it with Ctrl-C in its terminal"
    where_to_look
    exit 0
  fi
done

pipeline_pids=()
sensors_pid=""

# Stop order matters: the sensors first (no new readings), then the daemons (SIGTERM makes each
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
  local i
  stop_pid "$sensors_pid" sensors 10
  for ((i = ${#pipeline_pids[@]}; i >= 1; i--)); do
    stop_pid "${pipeline_pids[i - 1]}" "$(daemon_name "$i")" 60
  done
  rm -f "$demo_dir"/pipeline*.pid "$demo_dir/sensors.pid"
  if ((broker_was_running == 0)); then "$broker" stop || true; fi
}
trap 'cleanup; exit 0' INT TERM HUP
trap 'cleanup' EXIT

# http_status PATH PORT: the status line of GET http://$http_host:PORT/PATH, without curl.
http_status() {
  # shellcheck disable=SC2016 # the positional parameters belong to the inner bash
  timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2" || exit 1
    printf "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" "$3" "$1" >&3
    head -n1 <&3' _ "$http_host" "$2" "$1" 2>/dev/null || true
}

# exited I WHEN: says that daemon I exited and shows the end of its log.
exited() {
  local rc=0 log
  log=$(daemon_file "$1" log)
  wait "${pipeline_pids[$1 - 1]}" || rc=$?
  pipeline_pids[$1 - 1]=""
  echo "demo: $(daemon_name "$1") exited (code $rc)$2; see $log:" >&2
  tail -n 15 "$log" | sed 's/^/    /' >&2
}

# setsid: Ctrl-C reaches only this script, which then stops everything in order.
[[ -n $shards ]] && say "$daemons daemons sharing $shards shards (docs/sharding.md)"
for ((i = 1; i <= daemons; i++)); do
  flags=()
  ((daemons > 1)) && flags=(--node "demo-$i" --http "$http_host:$(port_of "$i")")
  [[ -n $shards ]] && flags+=(--shards "$shards")
  say "starting $(daemon_name "$i") (log: $(daemon_file "$i" log))"
  setsid "$telluride" pipeline --config "$config" "${flags[@]}" </dev/null >"$(daemon_file "$i" log)" 2>&1 &
  pipeline_pids+=($!)
  echo "$!" >"$(daemon_file "$i" pid)"
done

# The sensors publish only once the daemons have declared the topology (ready = consuming).
for ((i = 1; i <= daemons; i++)); do
  ready=0
  for ((try = 0; try < 60; try++)); do
    if ! alive "${pipeline_pids[i - 1]}"; then
      exited "$i" " during start-up"
      exit 1
    fi
    if [[ $(http_status /readyz "$(port_of "$i")") == *" 200"* ]]; then
      ready=1
      break
    fi
    sleep 0.5
  done
  ((ready)) || say "$(daemon_name "$i") is not ready after 30 s (going on anyway); see $(daemon_file "$i" log)"
done

say "starting the sensor simulator: 1000 sensors, 2000 readings/s (log: $sensors_log)"
setsid "$telluride" sensors --count 1000 --rate 2000 </dev/null >"$sensors_log" 2>&1 &
sensors_pid=$!
echo "$sensors_pid" >"$demo_dir/sensors.pid"

say "running. Where to look:"
where_to_look
say "press Ctrl-C to stop the sensors, the daemons and the broker"

while :; do
  sleep 1 &
  wait $! || true # returns at once when a signal arrives, so the trap runs promptly
  if [[ -n $sensors_pid ]] && ! alive "$sensors_pid"; then
    wait "$sensors_pid" && rc=0 || rc=$?
    say "the sensor simulator exited (code $rc); see $sensors_log"
    sensors_pid=""
  fi
  for ((i = 1; i <= daemons; i++)); do
    pid=${pipeline_pids[i - 1]}
    if [[ -n $pid ]] && ! alive "$pid"; then
      exited "$i" ""
      ((daemons == 1)) && exit 1
    fi
  done
done
