#!/usr/bin/env bash
# deploy/rabbitmq-local.sh is idempotent: start (also over a broker started without its
# plugins), status, ctl, stop twice, status.
# Runs its own broker (own port and data folder) beside the test fixture's.
set -euo pipefail

script=${1:?usage: rabbitmq_local_test.sh path/to/rabbitmq-local.sh WORK_DIR}
work=${2:?usage: rabbitmq_local_test.sh path/to/rabbitmq-local.sh WORK_DIR}
export TELLURIDE_BROKER_DIR=$work/idempotence-broker
export TELLURIDE_BROKER_NODE=telluride-idempotence@localhost
export TELLURIDE_BROKER_PORT=11900  # clear of the fixture (11672) and private test brokers (11722 + 10 k); below the ephemeral range
export TELLURIDE_BROKER_MGMT_PORT=0
trap '"$script" stop >/dev/null 2>&1 || true' EXIT

passed=0
failed=0
check() { # check DESCRIPTION EXPECTED_CODE COMMAND...
  local what=$1 want=$2 got=0
  shift 2
  "$@" >/tmp/rabbitmq_local_test.$$ 2>&1 || got=$?
  if [[ $got == "$want" ]]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAILED: $what: exit $got, expected $want; output:" >&2
    sed 's/^/    /' /tmp/rabbitmq_local_test.$$ >&2
  fi
}
output_has() { grep -q -- "$1" /tmp/rabbitmq_local_test.$$; }

# The plugins the running node has started (an Erlang list of application names).
active_plugins() { "$script" ctl -q eval 'rabbit_plugins:active().'; }

"$script" stop >/dev/null 2>&1 || true
check "status of a stopped broker" 3 "$script" status
# First as an older version of the script started it: without the consistent-hash plugin.
check "first start (no plugins)" 0 env TELLURIDE_BROKER_PLUGINS= "$script" start
check "active plugins" 0 active_plugins
output_has rabbitmq_consistent_hash_exchange && { failed=$((failed + 1)); echo "FAILED: the plugin ran already" >&2; }
check "second start" 0 "$script" start
output_has "already running" || { failed=$((failed + 1)); echo "FAILED: second start did not say already running" >&2; }
output_has "enabling rabbitmq_consistent_hash_exchange" || { failed=$((failed + 1)); echo "FAILED: second start did not enable the plugin" >&2; }
check "active plugins" 0 active_plugins
output_has rabbitmq_consistent_hash_exchange || { failed=$((failed + 1)); echo "FAILED: the plugin does not run" >&2; }
check "third start" 0 "$script" start
output_has enabling && { failed=$((failed + 1)); echo "FAILED: third start enabled a plugin again" >&2; }
check "status of a running broker" 0 "$script" status
check "ctl list_queues" 0 "$script" ctl list_queues name
check "AMQP port accepts connections" 0 bash -c "exec 3<>/dev/tcp/127.0.0.1/$TELLURIDE_BROKER_PORT"
check "first stop" 0 "$script" stop
check "second stop" 0 "$script" stop
check "status after stop" 3 "$script" status
rm -f /tmp/rabbitmq_local_test.$$
echo "$passed passed, $failed failed"
((failed == 0))
