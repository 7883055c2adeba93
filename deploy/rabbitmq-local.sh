#!/usr/bin/env bash
# Runs Debian's rabbitmq-server from a project-local data folder, as root or any user, without
# touching the system service, /etc/rabbitmq or /var/lib/rabbitmq.
#
#   deploy/rabbitmq-local.sh start|stop|restart|status
#   deploy/rabbitmq-local.sh ctl ARGS...          rabbitmqctl against this node
#   deploy/rabbitmq-local.sh diagnostics ARGS...  rabbitmq-diagnostics against this node
#
# Environment (defaults in brackets):
#   TELLURIDE_BROKER_DIR        data, logs, config, cookie, pid        [<repo>/.rabbitmq]
#   TELLURIDE_BROKER_NODE       Erlang node name                       [telluride@localhost]
#   TELLURIDE_BROKER_PORT       AMQP port, bound to 127.0.0.1          [5672]
#   TELLURIDE_BROKER_DIST_PORT  Erlang distribution port               [PORT+20000]
#   TELLURIDE_BROKER_EPMD_PORT  private epmd port                      [PORT+20011]
#   TELLURIDE_BROKER_MGMT_PORT  management UI port, 0 = plugin off     [15672]
#   TELLURIDE_BROKER_START_TIMEOUT  seconds `start` waits              [90]
#   TELLURIDE_BROKER_EXTRA_CONF a file of rabbitmq.conf lines appended to the generated config
#                               (e.g. TLS listeners, consumer_timeout)   [none]
#   TELLURIDE_BROKER_PLUGINS    plugins enabled besides the management UI, space-separated
#                               [rabbitmq_consistent_hash_exchange: `shards` > 1 needs it];
#                               empty only to test a broker that lacks them
# The rabbitmqctl processes of `ctl` use distribution ports DIST_PORT+1..DIST_PORT+10, so two
# brokers whose AMQP ports are at least 12 apart share no port at all (not even epmd's).
#
# Exit codes: 0 ok / running, 1 error, 3 stopped (status), 4 process alive but not accepting
# AMQP connections (status).
set -euo pipefail

readonly RMQ_BIN=/usr/lib/rabbitmq/bin

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
}
case ${1:-} in
  start | stop | restart | status | ctl | diagnostics) ;;
  -h | --help | help)
    usage
    exit 0
    ;;
  *)
    usage >&2
    exit 1
    ;;
esac

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${TELLURIDE_BROKER_DIR:-$repo/.rabbitmq}
node=${TELLURIDE_BROKER_NODE:-telluride@localhost}
port=${TELLURIDE_BROKER_PORT:-5672}
mgmt_port=${TELLURIDE_BROKER_MGMT_PORT:-15672}
start_timeout=${TELLURIDE_BROKER_START_TIMEOUT:-90}
extra_conf=${TELLURIDE_BROKER_EXTRA_CONF:-}
plugins=${TELLURIDE_BROKER_PLUGINS-rabbitmq_consistent_hash_exchange}

die() {
  echo "rabbitmq-local: $*" >&2
  exit 1
}

is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

check_port_value() { # NAME VALUE [HINT]
  if ! is_uint "$2" || (($2 < 1 || $2 > 65535)); then
    die "$1=$2 is not a TCP port (1..65535)${3:+; $3}"
  fi
}

check_port_value TELLURIDE_BROKER_PORT "$port"
dist_port=${TELLURIDE_BROKER_DIST_PORT:-$((port + 20000))}
epmd_port=${TELLURIDE_BROKER_EPMD_PORT:-$((port + 20011))}
check_port_value TELLURIDE_BROKER_DIST_PORT "$dist_port" "it defaults to PORT+20000: set it explicitly"
check_port_value TELLURIDE_BROKER_EPMD_PORT "$epmd_port" "it defaults to PORT+20011: set it explicitly"
check_port_value "TELLURIDE_BROKER_DIST_PORT+10 (rabbitmqctl ports)" "$((dist_port + 10))" \
  "lower TELLURIDE_BROKER_DIST_PORT"
if [[ $mgmt_port != 0 ]]; then
  check_port_value TELLURIDE_BROKER_MGMT_PORT "$mgmt_port"
fi
is_uint "$start_timeout" || die "TELLURIDE_BROKER_START_TIMEOUT=$start_timeout is not a number of seconds"
[[ $node == *@* ]] || node="$node@localhost"
for plugin in $plugins; do
  [[ $plugin =~ ^[a-z0-9_]+$ ]] || die "TELLURIDE_BROKER_PLUGINS: \"$plugin\" is not a plugin name"
done
if [[ -n $extra_conf ]]; then
  [[ -r $extra_conf ]] || die "TELLURIDE_BROKER_EXTRA_CONF=$extra_conf is not a readable file"
  extra_conf=$(cd "$(dirname "$extra_conf")" && pwd)/$(basename "$extra_conf")
fi

# Absolute, so the broker (which runs with its own cwd) and later calls agree on it.
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
readonly log_dir=$dir/log
readonly startup_log=$log_dir/startup.log
readonly launcher_pid_file=$dir/launcher.pid
readonly beam_pid_file=$dir/rabbitmq.pid
readonly instance_file=$dir/instance # the settings the running broker was started with

# Everything RabbitMQ and Erlang would otherwise take from /etc/rabbitmq, /var/lib/rabbitmq,
# /var/log/rabbitmq, $HOME or the default ports. HOME holds the Erlang cookie: private to this
# folder, so the CLI of this node (and only it) can talk to it.
broker_env() {
  log_file=$log_dir/$node.log # after adopt_running_settings: the node may have changed
  export HOME=$dir
  export LC_ALL=C.UTF-8 # the Elixir CLI warns on a non-UTF-8 locale
  export RABBITMQ_NODENAME=$node
  export RABBITMQ_USE_LONGNAME=false
  export RABBITMQ_CONF_ENV_FILE=$dir/rabbitmq-env.conf # not /etc/rabbitmq/rabbitmq-env.conf
  export RABBITMQ_CONFIG_FILE=$dir/rabbitmq.conf
  export RABBITMQ_ADVANCED_CONFIG_FILE=$dir/advanced.config
  export RABBITMQ_ENABLED_PLUGINS_FILE=$dir/enabled_plugins
  export RABBITMQ_MNESIA_BASE=$dir/mnesia
  export RABBITMQ_LOG_BASE=$log_dir
  export RABBITMQ_LOGS=$log_file
  export RABBITMQ_PID_FILE=$beam_pid_file
  export RABBITMQ_MOTD_FILE=$dir/motd
  export RABBITMQ_DIST_PORT=$dist_port
  export RABBITMQ_CTL_DIST_PORT_MIN=$((dist_port + 1))
  export RABBITMQ_CTL_DIST_PORT_MAX=$((dist_port + 10))
  # A private epmd on loopback: a second broker (tests) never meets this one's node names.
  export ERL_EPMD_PORT=$epmd_port
  export ERL_EPMD_ADDRESS=127.0.0.1
  # Unbound schedulers: the box is shared with the pipeline, let the OS place threads.
  # (rabbitmq-env already passes +sbwt none +sbwtdcpu none +sbwtdio none: no busy waiting.)
  export RABBITMQ_SCHEDULER_BIND_TYPE=u
  # Distribution (node <-> CLI) on loopback only.
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  export RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  # Lets us recognise our own broker process (pid reuse, other instances) via /proc/PID/environ.
  export TELLURIDE_BROKER_INSTANCE=$dir
  unset RABBITMQ_ENABLED_PLUGINS RABBITMQ_NODE_IP_ADDRESS RABBITMQ_NODE_PORT RABBITMQ_MNESIA_DIR
  unset RABBITMQ_PLUGINS_EXPAND_DIR RABBITMQ_FEATURE_FLAGS_FILE RABBITMQ_ENV_LOADED
}

require_installed() {
  if [[ ! -x $RMQ_BIN/rabbitmq-server || ! -x $RMQ_BIN/rabbitmqctl ]] || ! command -v erl >/dev/null; then
    die "rabbitmq-server is not installed: run scripts/setup.sh (or: apt-get install rabbitmq-server)"
  fi
}

# --- processes -------------------------------------------------------------------------------

# True when PID is alive and was started by this script for this data folder.
is_ours() {
  local pid=$1
  [[ -n $pid ]] && is_uint "$pid" && [[ -r /proc/$pid/environ ]] &&
    { tr '\0' '\n' <"/proc/$pid/environ"; } 2>/dev/null | grep -qxF "TELLURIDE_BROKER_INSTANCE=$dir"
}

read_pid() { if [[ -f $1 ]]; then tr -dc '0-9' <"$1" || true; fi; }

# Prints the pids (launcher shell, Erlang VM) of this instance that are alive.
live_pids() {
  local pid
  for pid in "$(read_pid "$launcher_pid_file")" "$(read_pid "$beam_pid_file")"; do
    if is_ours "$pid"; then echo "$pid"; fi
  done
}

is_running() { [[ -n $(live_pids) ]]; }

# The launcher this call just forked carries TELLURIDE_BROKER_INSTANCE in /proc/PID/environ only
# once it has exec'd rabbitmq-server: on a busy host is_running can look before that. Until then
# it is ours by its pid alone (our child; a zombie has exited).
launcher_is_starting() {
  local pid state
  pid=$(read_pid "$launcher_pid_file")
  [[ -n $pid && -r /proc/$pid/stat ]] || return 1
  state=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)
  [[ -n $state && $state != Z ]]
}

# The settings a running broker was started with win over the environment: the ports decide
# which epmd, node and CLI ports stop/status/ctl use. `stop` adopts them even when the broker
# is gone (its epmd may be left), so TELLURIDE_BROKER_DIR alone is enough to stop any broker.
adopt_running_settings() {
  if [[ ! -f $instance_file ]] || { [[ ${1:-} != always ]] && ! is_running; }; then return 0; fi
  local key value
  while IFS='=' read -r key value; do
    case $key in
      node) node=$value ;;
      port) port=$value ;;
      dist_port) dist_port=$value ;;
      epmd_port) epmd_port=$value ;;
      mgmt_port) mgmt_port=$value ;;
    esac
  done <"$instance_file"
}

# --- ports -----------------------------------------------------------------------------------

# True when something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
  # shellcheck disable=SC2016 # $1 belongs to the inner bash
  timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null
}

# True when 127.0.0.1:PORT answers the AMQP 0-9-1 protocol header with a method frame
# (connection.start), i.e. the broker really accepts AMQP connections.
amqp_ready() {
  local first
  # shellcheck disable=SC2016 # $1 belongs to the inner bash
  first=$(timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf "AMQP\x00\x00\x09\x01" >&3
    head -c 1 <&3 | od -An -tx1' _ "$1" 2>/dev/null) || return 1
  [[ ${first// /} == 01 ]]
}

who_listens() { # PORT -> "(process)" when ss can tell
  local users
  users=$(ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'users:(([^)]*' | head -n1 | sed 's/users:((//') || true
  [[ -n $users ]] && echo " ($users)"
  return 0
}

port_busy_error() { # PORT WHAT VARIABLE
  die "port $1 ($2) is already in use by another process$(who_listens "$1"); stop it or set $3"
}

check_ports_free() {
  port_open "$port" && port_busy_error "$port" AMQP TELLURIDE_BROKER_PORT
  port_open "$dist_port" && port_busy_error "$dist_port" "Erlang distribution" TELLURIDE_BROKER_DIST_PORT
  if [[ $mgmt_port != 0 ]] && port_open "$mgmt_port"; then
    port_busy_error "$mgmt_port" management TELLURIDE_BROKER_MGMT_PORT
  fi
  # An epmd left on our port by an earlier run is fine; anything else there is not.
  if port_open "$epmd_port"; then
    local names
    names=$(epmd -port "$epmd_port" -names 2>/dev/null) ||
      port_busy_error "$epmd_port" epmd TELLURIDE_BROKER_EPMD_PORT
    if grep -q "^name ${node%@*} at port" <<<"$names"; then
      die "node $node is already registered with epmd on port $epmd_port by another broker; set TELLURIDE_BROKER_NODE or TELLURIDE_BROKER_PORT"
    fi
  fi
  return 0
}

# Starts the private epmd (broker_env's port and address) and waits until it listens. The
# node would start it itself, but on a loaded host it then sometimes tried to register before
# epmd listened, and failed with "register/listen error: econnrefused" (seen under ctest -j2).
start_epmd() {
  port_open "$epmd_port" && return 0
  epmd -daemon || die "could not start epmd on 127.0.0.1:$epmd_port"
  local i
  for ((i = 0; i < 100; i++)); do
    port_open "$epmd_port" && return 0
    sleep 0.1
  done
  die "epmd did not listen on 127.0.0.1:$epmd_port within 10 s"
}

# Stops the private epmd once no node uses it (epmd refuses -kill while nodes are registered).
stop_epmd() {
  port_open "$epmd_port" || return 0
  epmd -port "$epmd_port" -names >/dev/null 2>&1 || return 0 # not an epmd
  ERL_EPMD_PORT=$epmd_port epmd -port "$epmd_port" -kill >/dev/null 2>&1 || return 0
  local i
  for ((i = 0; i < 50; i++)); do
    port_open "$epmd_port" || return 0
    sleep 0.1
  done
}

# --- configuration ---------------------------------------------------------------------------

# The Erlang list of plugins this broker runs: [rabbitmq_management,rabbitmq_consistent_hash_exchange].
plugin_list() {
  local list=() plugin
  [[ $mgmt_port != 0 ]] && list+=(rabbitmq_management)
  for plugin in $plugins; do list+=("$plugin"); done
  local IFS=,
  echo "[${list[*]}]"
}

# A broker started before a plugin was added to the list (an older version of this script)
# gets it enabled in place, so `start` stays enough after an upgrade.
enable_missing_plugins() {
  local plugin missing=()
  for plugin in $plugins; do
    grep -qw "$plugin" "$dir/enabled_plugins" 2>/dev/null || missing+=("$plugin")
  done
  ((${#missing[@]} == 0)) && return 0
  echo "rabbitmq-local: enabling ${missing[*]} on the running node $node"
  "$RMQ_BIN/rabbitmq-plugins" -n "$node" -q enable --online "${missing[@]}" >>"$startup_log" 2>&1 ||
    die "could not enable ${missing[*]} on node $node; see $startup_log"
}

write_config() {
  mkdir -p "$log_dir" "$dir/mnesia"
  : >"$dir/rabbitmq-env.conf"
  {
    echo "# Written by deploy/rabbitmq-local.sh at every start: edit the script, not this file."
    echo "listeners.tcp.1 = 127.0.0.1:$port"
    echo "log.file.level = info"
    echo "log.console = false"
    if [[ $mgmt_port != 0 ]]; then
      echo "management.tcp.ip = 127.0.0.1"
      echo "management.tcp.port = $mgmt_port"
    fi
    if [[ -n $extra_conf ]]; then
      echo "# From TELLURIDE_BROKER_EXTRA_CONF=$extra_conf"
      cat "$extra_conf"
    fi
  } >"$dir/rabbitmq.conf"
  echo "$(plugin_list)." >"$dir/enabled_plugins"
  printf '%s\n' "node=$node" "port=$port" "dist_port=$dist_port" "epmd_port=$epmd_port" \
    "mgmt_port=$mgmt_port" >"$instance_file"
}

# --- commands --------------------------------------------------------------------------------

describe() {
  local what="amqp://127.0.0.1:$port"
  [[ $mgmt_port != 0 ]] && what="$what, management http://127.0.0.1:$mgmt_port"
  echo "node $node, $what, data $dir"
}

# Serialises start/stop of one data folder (two concurrent `start`s must not launch twice).
lock() {
  exec 9>"$dir/.lock"
  flock -w 180 9 || die "another start/stop of $dir is still running"
}

kill_instance() { # forcefully, when a graceful stop failed
  local pid i
  for pid in $(live_pids); do kill -TERM "$pid" 2>/dev/null || true; done
  for ((i = 0; i < 150; i++)); do
    is_running || return 0
    sleep 0.2
  done
  for pid in $(live_pids); do kill -KILL "$pid" 2>/dev/null || true; done
  for ((i = 0; i < 50; i++)); do
    is_running || return 0
    sleep 0.1
  done
}

cmd_start() {
  require_installed
  lock
  local wanted="$node, port $port, management port $mgmt_port"
  adopt_running_settings
  if is_running && [[ $wanted != "$node, port $port, management port $mgmt_port" ]]; then
    die "$dir already runs node $node, port $port, management port $mgmt_port (not $wanted): stop it first"
  fi
  broker_env
  if is_running && amqp_ready "$port"; then
    enable_missing_plugins
    echo "rabbitmq-local: already running: $(describe)"
    return 0
  fi
  local started_here=0
  if ! is_running; then
    rm -f "$launcher_pid_file" "$beam_pid_file"
    check_ports_free
    write_config
    start_epmd
    echo "rabbitmq-local: starting $(describe)"
    # setsid + all descriptors redirected (and the lock closed): the broker must not keep the
    # caller's terminal, pipes (ctest waits for them) or lock.
    (
      cd "$dir"
      exec setsid "$RMQ_BIN/rabbitmq-server" </dev/null >>"$startup_log" 2>&1 9>&-
    ) &
    echo $! >"$launcher_pid_file"
    started_here=1
  fi

  local deadline=$((SECONDS + start_timeout))
  local fail=""
  while :; do
    if ! is_running && ! { ((started_here)) && launcher_is_starting; }; then
      fail="rabbitmq-server exited during start-up"
      break
    fi
    if port_open "$port"; then break; fi
    if ((SECONDS >= deadline)); then
      fail="rabbitmq-server did not open port $port within ${start_timeout}s"
      break
    fi
    sleep 0.5
  done
  if [[ -z $fail ]]; then
    # The AMQP listener opens before plugins finish booting: wait for the whole boot.
    local left=$((deadline - SECONDS))
    ((left < 5)) && left=5
    if ! "$RMQ_BIN/rabbitmqctl" -n "$node" -q await_startup --timeout "$left" >>"$startup_log" 2>&1; then
      fail="rabbitmq-server did not finish booting within ${start_timeout}s"
    elif ! amqp_ready "$port"; then
      fail="rabbitmq-server booted but does not answer AMQP on 127.0.0.1:$port"
    fi
  fi
  if [[ -n $fail ]]; then
    # Leave nothing half-started behind (it would hold the ports and burn CPU).
    if ((started_here)); then
      kill_instance
      stop_epmd
    fi
    echo "rabbitmq-local: $fail; see $log_file and $startup_log" >&2
    local f
    for f in "$startup_log" "$log_file"; do
      [[ -s $f ]] && { echo "--- last lines of $f:"; tail -n 8 "$f"; } | sed 's/^/    /' >&2
    done
    return 1
  fi
  echo "rabbitmq-local: running: $(describe)"
}

cmd_stop() {
  lock
  adopt_running_settings always
  broker_env
  if ! is_running; then
    rm -f "$launcher_pid_file" "$beam_pid_file"
    stop_epmd
    echo "rabbitmq-local: already stopped: node $node, port $port"
    return 0
  fi
  echo "rabbitmq-local: stopping node $node (port $port)"
  # `shutdown` stops the node and waits until its VM has exited.
  if [[ -x $RMQ_BIN/rabbitmqctl ]]; then
    timeout 90 "$RMQ_BIN/rabbitmqctl" -n "$node" -q shutdown --timeout 60 >/dev/null 2>&1 || true
  fi
  local i
  for ((i = 0; i < 100; i++)); do # the launcher shell exits right after the VM
    is_running || break
    sleep 0.1
  done
  if is_running; then
    echo "rabbitmq-local: graceful shutdown failed, terminating node $node" >&2
    kill_instance
  fi
  if is_running; then
    die "could not stop node $node (pids: $(live_pids | tr '\n' ' '))"
  fi
  rm -f "$launcher_pid_file" "$beam_pid_file"
  stop_epmd
  echo "rabbitmq-local: stopped: node $node, port $port"
}

cmd_status() {
  adopt_running_settings
  broker_env
  if ! is_running; then
    echo "stopped: node $node, port $port, data $dir"
    return 3
  fi
  local pid
  pid=$(live_pids | tail -n1)
  if port_open "$port"; then
    echo "running: $(describe), pid $pid"
    return 0
  fi
  echo "starting (not accepting AMQP connections yet): node $node, port $port, pid $pid, log $log_file"
  return 4
}

cmd_cli() { # TOOL ARGS...
  require_installed
  adopt_running_settings
  broker_env
  local tool=$1
  shift
  exec "$RMQ_BIN/$tool" -n "$node" "$@"
}

case ${1:-} in
  start) cmd_start ;;
  stop) cmd_stop ;;
  restart)
    "${BASH_SOURCE[0]}" stop
    "${BASH_SOURCE[0]}" start
    ;;
  status) cmd_status ;;
  ctl)
    shift
    cmd_cli rabbitmqctl "$@"
    ;;
  diagnostics)
    shift
    cmd_cli rabbitmq-diagnostics "$@"
    ;;
esac
