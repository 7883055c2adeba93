#!/usr/bin/env bash
# Sets up (apt packages + build, via scripts/setup.sh) and runs, as CI does:
#   1. every test of the Release build except those labelled `slow`;
#   2. the same on an AddressSanitizer + UndefinedBehaviorSanitizer build (build-asan), where the
#      end-to-end and fault tests are `slow` too (README, "Tests and benchmarks");
#   3. every fuzz target of tests/fuzz for TELLURIDE_FUZZ_SECONDS each (default 30; 0 skips it)
#      through scripts/fuzz.sh, which builds them with clang in build-fuzz.
# 2 and 3 run beside 1 (their builds at the lowest priority, then 2's tests at normal priority
# and the fuzz targets at the lowest). The last line printed sums the runs in ctest's format;
# the exit code is non-zero when any failed.
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

# The private test brokers of build folders (default: both): the one of the ctest fixture
# (broker.start / broker.stop, data in <build>/test-broker) and any a test starts beside it
# (<build>/test-broker-*). Stopped here too, in case ctest is interrupted; the data folder alone
# identifies a broker (rabbitmq-local.sh remembers its ports there). The two builds' brokers
# have ports and node names of their own (TEST_BROKER_PORT), so their tests can run at once.
stop_test_brokers() {
  local builds=("$@") build dir
  ((${#builds[@]} > 0)) || builds=("$build_dir" "$sanitize_dir")
  for build in "${builds[@]}"; do
    for dir in "$build"/test-broker "$build"/test-broker-*; do
      [[ -d $dir ]] || continue
      TELLURIDE_BROKER_DIR=$dir deploy/rabbitmq-local.sh stop >/dev/null 2>&1 || true
    done
  done
}
# shellcheck disable=SC2317 # called from the traps below
on_signal() { # ctest (in the foreground) got the signal too; clean up after it
  trap - INT TERM EXIT
  [[ -z ${background_pid-} ]] || kill -- -"$background_pid" 2>/dev/null || true
  stop_test_brokers
  exit "$1"
}
trap 'stop_test_brokers' EXIT # quiet: the summary below must stay the last line
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

# Every run below adds its tests to these; the last line sums them up.
ctest_line='^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+'
passed=0
failed=0
rc=0
summaries=() # each run's summary line
runs=()      # what each run was

# ctest_run BUILD_DIR CTEST_ARGS...: runs ctest there, on fresh test brokers of that build
# (queues left over by an earlier, interrupted run would skew the integration tests), and
# writes "EXIT_CODE SECONDS" to BUILD_DIR/ctest-result for count_ctest. Runs in the background
# too: it touches nothing of the other build.
ctest_run() {
  local dir=$1 code=0 started=$SECONDS
  shift
  stop_test_brokers "$dir"
  rm -rf "$dir"/test-broker "$dir"/test-broker-* "$dir/ctest-result"
  ctest --test-dir "$dir" --output-on-failure --output-log "$dir/ctest-last.log" "$@" || code=$?
  echo "$code $((SECONDS - started))" >"$dir/ctest-result"
}

# count_ctest BUILD_DIR: counts the tests of ctest_run's run there.
count_ctest() {
  local dir=$1 code=1 seconds=? summary
  [[ -f $dir/ctest-result ]] && read -r code seconds <"$dir/ctest-result"
  # ctest prints "Label Time Summary", "Total Test time" and the list of failures after its
  # summary line: it is repeated at the end.
  summary=$(grep -E "$ctest_line" "$dir/ctest-last.log" 2>/dev/null | tail -n1 || true)
  if [[ $summary =~ ([0-9]+)\ tests?\ failed\ out\ of\ ([0-9]+) ]]; then
    failed=$((failed + BASH_REMATCH[1]))
    passed=$((passed + BASH_REMATCH[2] - BASH_REMATCH[1]))
  elif grep -q 'No tests were found' "$dir/ctest-last.log" 2>/dev/null; then
    summary="0 passed, 0 failed"
  else
    summary="ctest ended without a summary (exit code $code)"
    failed=$((failed + 1))
  fi
  summaries+=("$summary")
  runs+=("ctest in ${dir#"$repo"/} ($seconds s)")
  ((code == 0)) || rc=$code
}

# compile_sanitized TARGET...: configures the ASan+UBSan build (cmake/Sanitizers.cmake) and
# builds the targets. Its test brokers listen on ports of their own (10672, and its private
# brokers' above it), so that its tests may run while the Release build's do.
compile_sanitized() {
  cmake -S . -B "$sanitize_dir" -G Ninja -DCAUSEWAY_SANITIZE=address,undefined -DTEST_BROKER_PORT=10672 &&
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

# In CI everything but the Release tests goes on in the background, beside them: those mostly
# wait on the broker and the daemons, and on 2 cores one after the other the runs took over 30
# minutes. Two chains, started together:
#  - the sanitizer build at the lowest priority, then the sanitized tests at normal priority
#    (their output to $sanitize_output, shown after the Release tests');
#  - once the sanitizer build is done, the fuzzing's tools and build, then the fuzz targets,
#    one per core, at the lowest priority: each runs for its time (wall clock), with what CPU
#    the tests leave.
# Their output goes to $background_log; each step's exit code to $background_log.STEP
# (sanitize, fuzz-build, fuzz).
background_log=$sanitize_dir/background.log
sanitize_output=$sanitize_dir/ctest-output.txt
fuzz_report=$sanitize_dir/fuzz-report.txt
background_pid=
start_background_work() {
  mkdir -p "$sanitize_dir"
  rm -f "$background_log".* "$fuzz_report" "$sanitize_output" "$sanitize_dir/ctest-result"
  set -m # its own process group, so that a signal stops every compiler, test and fuzzer it started
  (
    exec >"$background_log" 2>&1
    code=0
    (renice -n 19 -p "$BASHPID" >/dev/null && compile_sanitized quick_test_programs) || code=$?
    echo "$code" >"$background_log.sanitize"
    if ((code == 0)); then
      ctest_run "$sanitize_dir" -LE slow >"$sanitize_output" 2>&1 &
    fi
    if ((fuzz_seconds > 0)); then
      code=0
      (renice -n 19 -p "$BASHPID" >/dev/null && bash scripts/fuzz.sh --build-only) || code=$?
      echo "$code" >"$background_log.fuzz-build"
      if ((code == 0)); then
        code=0
        (renice -n 19 -p "$BASHPID" >/dev/null && bash scripts/fuzz.sh "$fuzz_seconds" >"$fuzz_report") || code=$?
        echo "$code" >"$background_log.fuzz"
      fi
    fi
    wait # the sanitized tests
  ) &
  background_pid=$!
  set +m
  echo "test.sh: building $sanitize_dir (ASan+UBSan), then running its tests and building and running the fuzz targets, beside the Release tests (log: ${background_log#"$repo"/})"
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

# count_fuzz SECONDS: counts the fuzz report (scripts/fuzz.sh's output: crash reproducers,
# then its JSON line); each target counts as one test, failed when it crashed or broke an
# invariant.
count_fuzz() {
  local seconds=$1 code result entry
  code=$(cat "$background_log.fuzz" 2>/dev/null || echo 1)
  cat "$fuzz_report" >&2 2>/dev/null || true
  result=$(tail -n1 "$fuzz_report" 2>/dev/null || true)
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
  ctest_run "$build_dir" -LE slow
  count_ctest "$build_dir"
  if background_step sanitize "sanitizer build"; then
    while [[ ! -f $sanitize_dir/ctest-result ]] && kill -0 "$background_pid" 2>/dev/null; do
      sleep 2
    done
    echo "test.sh: the sanitized tests, which ran beside the Release ones (done $(since "$tests_started")):"
    cat "$sanitize_output" 2>/dev/null || true
    count_ctest "$sanitize_dir"
  fi
  if ((fuzz_seconds > 0)) && background_step fuzz-build "fuzz build"; then
    wait_for_step fuzz
    echo "test.sh: fuzzing done $(since "$tests_started")"
    count_fuzz "$fuzz_seconds"
  fi
  wait "$background_pid" 2>/dev/null || true
else
  if build_sanitized test_programs; then
    ctest_run "$sanitize_dir" -LE soak
    count_ctest "$sanitize_dir"
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
