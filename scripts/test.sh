#!/usr/bin/env bash
# Sets up (apt packages + build, via scripts/setup.sh) and runs every test except those
# labelled `slow`. The last line printed is ctest's summary; the exit code is ctest's.
#   scripts/test.sh        # from any directory; CTEST_PARALLEL_LEVEL=N runs tests in parallel
# TELLURIDE_BUILD_DIR overrides the build folder (default: build).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$(pwd)
build_dir=${TELLURIDE_BUILD_DIR:-build}
[[ $build_dir == /* ]] || build_dir=$repo/$build_dir
export TELLURIDE_BUILD_DIR=$build_dir

bash scripts/setup.sh

# The private test brokers: the one of the ctest fixture (broker.start / broker.stop, data in
# build/test-broker) and any a test starts beside it (build/test-broker-*). Stopped here too, in
# case ctest is interrupted; the data folder alone identifies a broker (rabbitmq-local.sh
# remembers its ports there).
stop_test_brokers() {
  local dir
  for dir in "$build_dir"/test-broker "$build_dir"/test-broker-*; do
    [[ -d $dir ]] || continue
    TELLURIDE_BROKER_DIR=$dir deploy/rabbitmq-local.sh stop >/dev/null 2>&1 || true
  done
}
# shellcheck disable=SC2317 # called from the traps below
on_signal() { # ctest (in the foreground) got the signal too; clean up after it
  trap - INT TERM EXIT
  stop_test_brokers
  exit "$1"
}
trap stop_test_brokers EXIT # quiet: the summary below must stay the last line
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

# A fresh test broker every run: queues left over by an earlier (interrupted) run would skew
# the integration tests.
stop_test_brokers
rm -rf "$build_dir"/test-broker "$build_dir"/test-broker-*

log=$build_dir/ctest-last.log
rc=0
ctest --test-dir "$build_dir" --output-on-failure -LE slow --output-log "$log" || rc=$?

# ctest prints "Label Time Summary", "Total Test time" and the list of failures after its
# summary line: repeat the summary so it is the last line.
summary=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n1 || true)
if [[ -n $summary ]]; then
  echo "$summary"
elif grep -q 'No tests were found' "$log"; then
  echo "0 passed, 0 failed"
else
  echo "ctest ended without a summary (exit code $rc)"
fi
exit "$rc"
