#!/usr/bin/env bash
# Sets up (apt packages + build, via scripts/setup.sh) and runs, as CI does:
#   1. every test of the Release build except those labelled `slow`;
#   2. the same on an AddressSanitizer + UndefinedBehaviorSanitizer build (build-asan), where the
#      end-to-end and fault tests are `slow` too (README, "Tests and benchmarks");
#   3. every fuzz target of tests/fuzz for TELLURIDE_FUZZ_SECONDS each (default 30; 0 skips it)
#      through scripts/fuzz.sh, which builds them with clang in build-fuzz.
# The builds of 2 and 3 run in the background, at the lowest priority, during 1 and 2; the fuzz
# targets run after 2, one per core. The last line printed sums the runs in ctest's format; the exit code
# is non-zero when any failed.
#   scripts/test.sh              # from any directory; CTEST_PARALLEL_LEVEL=N runs tests in parallel
#   scripts/test.sh --sanitize   # the sanitizer build alone, with every test but the soak runs
# TELLURIDE_BUILD_DIR overrides the build folder (default: build), TELLURIDE_SANITIZE_BUILD_DIR
# the sanitizer build's (default: build-asan).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$(pwd)

mode=ci
case ${1-} in
  "") ;;
  --sanitize) mode=sanitize ;;
  -h | --help)
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  *)
    echo "test.sh: unknown argument '$1' (use --sanitize, or nothing)" >&2
    exit 2
    ;;
esac

fuzz_seconds=${TELLURIDE_FUZZ_SECONDS:-30}
if [[ ! $fuzz_seconds =~ ^[0-9]+$ ]]; then
  echo "test.sh: TELLURIDE_FUZZ_SECONDS must be a number of seconds, not '$fuzz_seconds'" >&2
  exit 2
fi

absolute() { [[ $1 == /* ]] && echo "$1" || echo "$repo/$1"; }
build_dir=$(absolute "${TELLURIDE_BUILD_DIR:-build}")
sanitize_dir=$(absolute "${TELLURIDE_SANITIZE_BUILD_DIR:-build-asan}")
export TELLURIDE_BUILD_DIR=$build_dir

# "(N s)": how long a step took, for the lines naming each run at the end.
since() { echo "($(($SECONDS - $1)) s)"; }

setup_started=$SECONDS
bash scripts/setup.sh
echo "test.sh: set up and built $build_dir $(since "$setup_started")"

# The private test brokers: the one of the ctest fixture (broker.start / broker.stop, data in
# <build>/test-broker) and any a test starts beside it (<build>/test-broker-*), of both builds.
# Stopped here too, in case ctest is interrupted; the data folder alone identifies a broker
# (rabbitmq-local.sh remembers its ports there).
stop_test_brokers() {
  local dir
  for dir in "$build_dir"/test-broker "$build_dir"/test-broker-* \
    "$sanitize_dir"/test-broker "$sanitize_dir"/test-broker-*; do
    [[ -d $dir ]] || continue
    TELLURIDE_BROKER_DIR=$dir deploy/rabbitmq-local.sh stop >/dev/null 2>&1 || true
  done
}
# shellcheck disable=SC2317 # called from the traps below
on_signal() { # ctest (in the foreground) got the signal too; clean up after it
  trap - INT TERM EXIT
  [[ -z ${background_pid-} ]] || kill -- -"$background_pid" 2>/dev/null || true
  stop_test_brokers
  exit "$1"
}
trap stop_test_brokers EXIT # quiet: the summary below must stay the last line
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

# Every run below adds its tests to these; the last line sums them up.
ctest_line='^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+'
passed=0
failed=0
rc=0
summaries=() # each run's summary line
runs=()      # what each run was

# run_ctest BUILD_DIR CTEST_ARGS...: runs ctest there (on a fresh test broker: queues left over
# by an earlier, interrupted run would skew the integration tests) and counts its tests.
run_ctest() {
  local dir=$1 code=0 summary started=$SECONDS
  shift
  stop_test_brokers
  rm -rf "$dir"/test-broker "$dir"/test-broker-*
  ctest --test-dir "$dir" --output-on-failure --output-log "$dir/ctest-last.log" "$@" || code=$?
  # ctest prints "Label Time Summary", "Total Test time" and the list of failures after its
  # summary line: it is repeated at the end.
  summary=$(grep -E "$ctest_line" "$dir/ctest-last.log" | tail -n1 || true)
  if [[ $summary =~ ([0-9]+)\ tests?\ failed\ out\ of\ ([0-9]+) ]]; then
    failed=$((failed + BASH_REMATCH[1]))
    passed=$((passed + BASH_REMATCH[2] - BASH_REMATCH[1]))
  elif grep -q 'No tests were found' "$dir/ctest-last.log"; then
    summary="0 passed, 0 failed"
  else
    summary="ctest ended without a summary (exit code $code)"
    failed=$((failed + 1))
  fi
  summaries+=("$summary")
  runs+=("ctest in ${dir#"$repo"/} $(since "$started")")
  ((code == 0)) || rc=$code
}

# compile_sanitized TARGET...: configures the ASan+UBSan build (cmake/Sanitizers.cmake) and
# builds the targets.
compile_sanitized() {
  cmake -S . -B "$sanitize_dir" -G Ninja -DCAUSEWAY_SANITIZE=address,undefined &&
    cmake --build "$sanitize_dir" -j"$(nproc)" --target "$@"
}

# build_failed WHAT: a build that failed counts as one failed test.
build_failed() {
  echo "test.sh: $1 failed (see above)" >&2
  summaries+=("failed")
  runs+=("$1")
  failed=$((failed + 1))
  rc=1
}

# build_sanitized TARGET...: compile_sanitized in the foreground.
build_sanitized() {
  local started=$SECONDS
  echo "test.sh: building $sanitize_dir with -DCAUSEWAY_SANITIZE=address,undefined"
  if compile_sanitized "$@"; then
    echo "test.sh: built $sanitize_dir $(since "$started")"
    return 0
  fi
  build_failed "the sanitizer build"
  return 1
}

# In CI the sanitizer build, then the fuzzing's tools and build, go on in the background at the
# lowest priority: first while the Release tests run, which mostly wait on the broker and the
# daemons, then while the sanitized tests run, which do too. Their output goes to
# $background_log; each step's exit code to $background_log.STEP (sanitize, fuzz-build). The
# fuzz targets run once the tests are done (run_fuzz), one per core: on two cores that halves
# their time, and they no longer slow the tests down.
background_log=$sanitize_dir/background.log
fuzz_report=$sanitize_dir/fuzz-report.txt
background_pid=
start_background_work() {
  mkdir -p "$sanitize_dir"
  rm -f "$background_log".* "$fuzz_report"
  set -m # its own process group, so that a signal stops every compiler and fuzzer it started
  (
    exec >"$background_log" 2>&1
    renice -n 19 -p "$BASHPID" >/dev/null # and so everything it starts
    code=0
    compile_sanitized quick_test_programs || code=$?
    echo "$code" >"$background_log.sanitize"
    if ((fuzz_seconds > 0)); then
      code=0
      bash scripts/fuzz.sh --build-only || code=$?
      echo "$code" >"$background_log.fuzz-build"
    fi
  ) &
  background_pid=$!
  set +m
  echo "test.sh: building $sanitize_dir (ASan+UBSan), then the fuzz targets, in the background (log: ${background_log#"$repo"/})"
}


# wait_for_step STEP: until the background work has written STEP's exit code, or has ended.
wait_for_step() {
  while [[ ! -f $background_log.$1 ]] && kill -0 "$background_pid" 2>/dev/null; do
    sleep 2
  done
}

# background_step STEP WHAT: waits until the background work has done STEP; true when it
# succeeded, else its log is shown and it counts as one failed test.
background_step() {
  wait_for_step "$1"
  echo "test.sh: background $2 done $(since "$tests_started")"
  if [[ $(cat "$background_log.$1" 2>/dev/null) == 0 ]]; then
    return 0
  fi
  tail -n 40 "$background_log" >&2
  build_failed "$2"
  return 1
}

# run_fuzz SECONDS: runs every fuzz target for SECONDS, one per core (scripts/fuzz.sh), and
# counts the fuzz report (scripts/fuzz.sh's output: crash reproducers, then
# its JSON line); each target counts as one test, failed when it crashed or broke an invariant.
run_fuzz() {
  local seconds=$1 code result entry
  code=0
  bash scripts/fuzz.sh "$seconds" >"$fuzz_report" 2>>"$background_log" || code=$?
  cat "$fuzz_report" >&2
  result=$(tail -n1 "$fuzz_report")
  local targets=0 crashed=0
  while read -r entry; do
    [[ $entry =~ \"crashes\":\ ([0-9]+) ]] || continue
    targets=$((targets + 1))
    ((BASH_REMATCH[1] == 0)) || crashed=$((crashed + 1))
  done < <(grep -oE '"[a-z_]+": \{"execs": [0-9]+, "crashes": [0-9]+' <<<"$result")
  if ((targets == 0)); then
    summaries+=("no result (exit code $code; log: ${background_log#"$repo"/})")
    failed=$((failed + 1))
  else
    local execs
    execs=$(grep -oE '"execs": [0-9]+, "crashes": [0-9]+, "msgs_per_s' <<<"$result" | grep -oE '[0-9]+' | head -n1)
    summaries+=("$targets targets, $execs executions, $crashed crashed")
    passed=$((passed + targets - crashed))
    failed=$((failed + crashed))
  fi
  runs+=("fuzzing ${seconds} s a target")
  ((code == 0)) || rc=$code
}

if [[ $mode == ci ]]; then
  tests_started=$SECONDS
  start_background_work
  run_ctest "$build_dir" -LE slow
  if background_step sanitize "sanitizer build"; then
    run_ctest "$sanitize_dir" -LE slow
  fi
  if ((fuzz_seconds > 0)) && background_step fuzz-build "fuzz build"; then
    run_fuzz "$fuzz_seconds"
  fi
  wait "$background_pid" 2>/dev/null || true
else
  if build_sanitized test_programs; then
    run_ctest "$sanitize_dir" -LE soak
  fi
fi

# One ctest run: its own summary line, as ctest printed it. Otherwise (several runs, or a build
# that failed) their sum, in ctest's format.
if ((${#summaries[@]} == 1)) && [[ ${summaries[0]} =~ $ctest_line ]]; then
  echo "${summaries[0]}"
else
  for i in "${!summaries[@]}"; do
    echo "test.sh: ${runs[i]}: ${summaries[i]}"
  done
  total=$((passed + failed))
  if ((total == 0)); then
    echo "0 passed, 0 failed"
  else
    percent=$(((passed * 100 + total / 2) / total))
    ((failed == 0 || percent < 99)) || percent=99
    echo "$percent% tests passed, $failed tests failed out of $total"
  fi
fi
exit "$rc"
