#!/usr/bin/env bash
# deploy/rabbitmq-local.sh is idempotent: start twice, status, ctl, stop twice, status.
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

"$script" stop >/dev/null 2>&1 || true
check "status of a stopped broker" 3 "$script" status
check "first start" 0 "$script" start
check "second start" 0 "$script" start
output_has "already running" || { failed=$((failed + 1)); echo "FAILED: second start did not say already running" >&2; }
check "status of a running broker" 0 "$script" status
check "ctl list_queues" 0 "$script" ctl list_queues name
check "AMQP port accepts connections" 0 bash -c "exec 3<>/dev/tcp/127.0.0.1/$TELLURIDE_BROKER_PORT"
check "first stop" 0 "$script" stop
check "second stop" 0 "$script" stop
check "status after stop" 3 "$script" status
rm -f /tmp/rabbitmq_local_test.$$
echo "$passed passed, $failed failed"
((failed == 0))
