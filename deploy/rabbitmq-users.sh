#!/usr/bin/env bash
# Least-privilege RabbitMQ users for Telluride, on the broker of deploy/rabbitmq-local.sh:
#   telluride-daemon     the daemon: declares its topology (docs/wire-format.md, Routes; with
#                        `shards` the exchange sensor_shards and the queues
#                        sensor_reading_queue.<n>; the stream telluride_state, its snapshot
#                        index (the exchange telluride_state.index and the queues
#                        telluride_state.index.<K>.<s>), the heartbeat exchange
#                        telluride_state.members and its own queue on it,
#                        telluride_state.members.<node>; the forwarding of reconfigurations:
#                        broadway_config_queue.lock, .nodes and .<node>), consumes the input queues,
#                        publishes outputs and dead letters; touches nothing else
#   telluride-dashboard  read-only: consumes the output queues (tail --from-queue), or a private
#                        queue telluride-tap.* that it declares and binds to an output route
#                        (tail); publishes nothing, declares or deletes nothing else
#   telluride-sensors    publishes readings (telluride sensors); consumes and declares nothing:
#                        start the daemon once first, it declares the topology
# The readings and the control route share the exchange sensor_events (a direct exchange, whose
# publishers RabbitMQ cannot restrict by routing key): whoever may publish readings may also
# publish a reconfiguration. Protect the control route with the daemon's HTTP token instead.
#
#   deploy/rabbitmq-users.sh create    create the users, or update them (idempotent)
#   deploy/rabbitmq-users.sh delete    remove them
#   deploy/rabbitmq-users.sh show      list them with their permissions (no passwords)
#
# Passwords: TELLURIDE_DAEMON_PASSWORD, TELLURIDE_DASHBOARD_PASSWORD, TELLURIDE_SENSORS_PASSWORD
# set a user's password (an existing user's too). Unset, a new user gets a random one, written
# with its amqp:// URL to TELLURIDE_USERS_FILE (mode 0600, default <broker dir>/users.env; `set
# -a; . FILE` gives them back to this script and to the tools); an existing user keeps its own.
# Passwords are never printed, logged, or put on a command line: they reach the broker as salted
# hashes in a 0600 file read by `rabbitmqctl import_definitions`.
#
# Environment (defaults in brackets):
#   TELLURIDE_VHOST             the virtual host                                     [/]
#   TELLURIDE_ROUTES_PREFIX     prepended to every exchange and queue name, for a config whose
#                               routes carry one (other route names: edit the lists below)  []
#   TELLURIDE_BROKER_*          which broker, as for deploy/rabbitmq-local.sh
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
vhost=${TELLURIDE_VHOST:-/}
prefix=${TELLURIDE_ROUTES_PREFIX:-}
port=${TELLURIDE_BROKER_PORT:-5672}
users_file=${TELLURIDE_USERS_FILE:-${TELLURIDE_BROKER_DIR:-$repo/.rabbitmq}/users.env}

# docs/wire-format.md, Routes.
exchanges=(sensor_events broadway_events)
input_queues=(sensor_reading_queue broadway_config_queue)
output_queues=(sensor_health_queue sensor_metric_queue sensor_alert_queue broadway_throughput_queue
  broadway_event_queue dlx_queue)
readings_exchange=sensor_events
readings_queue=sensor_reading_queue
control_queue=broadway_config_queue
# docs/wire-format.md, Shards and the state stream.
shards_exchange=sensor_shards
state_stream=telluride_state
tap_queues='telluride-tap\..*' # `telluride tail`'s private queues

die() {
  echo "rabbitmq-users: $*" >&2
  exit 1
}

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; }

ctl() { "$here/rabbitmq-local.sh" ctl -q "$@"; }

# ^(a|b)$ for the names given, prefixed, with regex characters escaped.
names_regex() {
  local out="" name
  for name in "$@"; do
    name=$(printf '%s' "$prefix$name" | sed 's/[][\.^$*+?(){}|]/\\&/g')
    out+="${out:+|}$name"
  done
  printf '^(%s)$' "$out"
}

# ^readings_queue\.([0-9]+(\.lock)?|lock)$, prefixed: the shard queues readings_queue.0, .1, ...,
# each shard's lock (.0.lock, ...) and the readings lock of shards 1 (docs/sharding.md).
shard_queues_regex() {
  printf '^%s\\.([0-9]+(\\.lock)?|lock)$' "$(printf '%s' "$prefix$readings_queue" | sed 's/[][\.^$*+?(){}|]/\\&/g')"
}

# ^state_stream\.index(\.K\.s)?$, prefixed: the snapshot index's exchange and its queues
# (docs/checkpoints.md, Finding the latest snapshot).
state_index_regex() {
  printf '^%s\\.index(\\.[0-9]+\\.[0-9]+|\\.layout|\\.layout\\.lock)?$' "$(printf '%s' "$prefix$state_stream" | sed 's/[][\.^$*+?(){}|]/\\&/g')"
}

all_names=("${exchanges[@]}" "$shards_exchange" "${input_queues[@]}" "${output_queues[@]}" "$state_stream")
# ^state_stream\.members(\..+)?$, prefixed: the heartbeat exchange (shards > 1) and each node's
# queue on it.
members_regex() {
  printf '^%s(\\..+)?$' "$(printf '%s' "$prefix$state_stream.members" | sed 's/[][\.^$*+?(){}|]/\\&/g')"
}

# ^control_queue\..+$, prefixed: with shards > 1 the forwarding lock (.lock), the exchange the
# control messages are forwarded to (.nodes) and each node's queue on it (docs/sharding.md,
# Reconfiguring daemons that share the shards).
control_regex() {
  printf '^%s\\..+$' "$(printf '%s' "$prefix$control_queue" | sed 's/[][\.^$*+?(){}|]/\\&/g')"
}

daemon_configure="$(names_regex "${all_names[@]}")|$(shard_queues_regex)|$(state_index_regex)|$(members_regex)|$(control_regex)"
daemon_write=$daemon_configure # publish to the exchanges; bind the queues
daemon_read="$(names_regex "${exchanges[@]}" "$shards_exchange" "${input_queues[@]}" "$state_stream")|$(shard_queues_regex)|$(state_index_regex)|$(members_regex)|$(control_regex)"
dashboard_configure="^$tap_queues\$"
dashboard_write="^$tap_queues\$"                                                 # bind its tap queue
dashboard_read="$(names_regex "${exchanges[@]}" "${output_queues[@]}")|^$tap_queues\$" # bind from; consume
sensors_configure='^$'
sensors_write=$(names_regex "$readings_exchange" "$readings_queue") # publish; bind the queue
sensors_read=$(names_regex "$readings_exchange")                    # (the binding's source)

roles=(daemon dashboard sensors)
user_of() { echo "telluride-$1"; }
upper() { tr '[:lower:]' '[:upper:]' <<<"$1"; }

existing_users() { ctl list_users --no-table-headers | cut -f1; }

json_string() { printf '"%s"' "$(printf '%s' "$1" | sed 's/[\\"]/\\&/g')"; }

permission_json() { # USER CONFIGURE WRITE READ
  printf '{"user":%s,"vhost":%s,"configure":%s,"write":%s,"read":%s}' "$(json_string "$1")" \
    "$(json_string "$vhost")" "$(json_string "$2")" "$(json_string "$3")" "$(json_string "$4")"
}

# RabbitMQ's rabbit_password_hashing_sha256: base64(salt + sha256(salt + password)), with a
# random 4-byte salt. printf is a builtin: the password is on no command line.
password_hash() { # PASSWORD SALT_FILE
  head -c 4 /dev/urandom >"$2"
  { cat "$2"; { cat "$2"; printf '%s' "$1"; } | openssl dgst -sha256 -binary; } | base64 -w0
}

random_password() { od -An -tx1 -N16 /dev/urandom | tr -d ' \n'; }

url_of() { # USER PASSWORD
  local v=$vhost
  [[ $v == / ]] && v=%2f
  echo "amqp://$1:$2@127.0.0.1:$port/$v"
}

# Replaces the ROLE's lines of the users file (created 0600) with its password and URL.
remember() { # ROLE USER PASSWORD
  local var
  var=TELLURIDE_$(upper "$1")
  (
    umask 077
    mkdir -p "$(dirname "$users_file")"
    touch "$users_file"
    chmod 600 "$users_file"
    grep -v "^${var}_\(PASSWORD\|URL\)=" "$users_file" >"$users_file.new" || true
    printf '%s_PASSWORD=%s\n%s_URL=%s\n' "$var" "$3" "$var" "$(url_of "$2" "$3")" >>"$users_file.new"
    mv "$users_file.new" "$users_file"
  )
}

cmd_create() {
  command -v openssl >/dev/null || die "needs openssl (scripts/setup.sh installs it)"
  local role user var password users="" existing created=()
  existing=$(existing_users)
  definitions=$(umask 077 && mktemp)
  salt=$(umask 077 && mktemp)
  trap 'rm -f "$definitions" "$salt"' EXIT # globals: the trap runs after this function
  for role in "${roles[@]}"; do
    user=$(user_of "$role")
    var=TELLURIDE_$(upper "$role")_PASSWORD
    password=${!var:-}
    if [[ -z $password ]]; then
      if grep -qxF "$user" <<<"$existing"; then
        echo "rabbitmq-users: $user exists: password unchanged"
        continue
      fi
      password=$(random_password)
      remember "$role" "$user" "$password"
      created+=("$user")
    fi
    users+="${users:+,}{\"name\":$(json_string "$user"),\"password_hash\":\"$(password_hash "$password" "$salt")\","
    users+="\"hashing_algorithm\":\"rabbit_password_hashing_sha256\",\"tags\":\"\"}"
    echo "rabbitmq-users: $user: password set"
  done
  # One import (users and permissions): each rabbitmqctl call costs a second or two.
  {
    printf '{"users":[%s],"permissions":[' "$users"
    permission_json "$(user_of daemon)" "$daemon_configure" "$daemon_write" "$daemon_read"
    printf ','
    permission_json "$(user_of dashboard)" "$dashboard_configure" "$dashboard_write" "$dashboard_read"
    printf ','
    permission_json "$(user_of sensors)" "$sensors_configure" "$sensors_write" "$sensors_read"
    printf ']}\n'
  } >"$definitions"
  ctl import_definitions "$definitions" >/dev/null || die "importing the users into the broker failed"
  echo "rabbitmq-users: permissions set on vhost $vhost for ${roles[*]/#/telluride-}"
  if ((${#created[@]} > 0)); then
    echo "rabbitmq-users: generated passwords of ${created[*]} are in $users_file (mode 0600)"
  fi
}

cmd_delete() {
  local role user existing
  existing=$(existing_users)
  for role in "${roles[@]}"; do
    user=$(user_of "$role")
    if grep -qxF "$user" <<<"$existing"; then
      ctl delete_user "$user" >/dev/null
      echo "rabbitmq-users: deleted $user"
    fi
  done
}

cmd_show() {
  ctl list_users | grep -E '^(user|telluride-)' || true
  ctl list_permissions -p "$vhost" | grep -E '^(user|telluride-)' || true
}

case ${1:-} in
  create) cmd_create ;;
  delete) cmd_delete ;;
  show) cmd_show ;;
  -h | --help | help) usage ;;
  *)
    usage >&2
    exit 1
    ;;
esac
