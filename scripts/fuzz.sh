#!/usr/bin/env bash
# scripts/fuzz.sh [--build-only] [SECONDS] [NAME...] — runs every libFuzzer target
# (tests/fuzz/NAME_fuzz.cpp) for SECONDS each (default 60), FUZZ_JOBS of them at once (default:
# one per core), and prints as its last line
#   {"name": "fuzz", "targets": {"NAME": {"execs": N, "crashes": N, ...}, ...}, "execs": N,
#    "crashes": N, "msgs_per_s": X, "peak_rss_mib": X}
# (README.md, Fuzzing; msgs_per_s is executions per second over all targets). Exits 1 when a
# target crashed (or broke an invariant, or timed out, or ran out of memory), 2 on bad arguments.
#
# Installs the fuzzing toolchain (scripts/setup.sh --fuzz-tools: clang-14, libclang-rt-14-dev)
# when it is missing, and builds the targets with clang, ASan and UBSan in their own build
# folder (FUZZ_BUILD_DIR, default build-fuzz; incremental, through ccache when there is one);
# --build-only stops there.
# Per target, under FUZZ_BUILD_DIR/fuzz/NAME/: corpus/ (what this machine's runs found; the
# seeds of tests/fuzz/corpus/NAME/ are read, never written), artifacts/ (crash reproducers:
# run `build-fuzz/bin/NAME_fuzz FILE` to replay one) and last.log (libFuzzer's output).
# Per-target flags (-max_len=...) are in tests/fuzz/NAME.options, one per line; a dictionary in
# tests/fuzz/dict/NAME.dict. FUZZ_EXTRA_ARGS adds libFuzzer flags to every run.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
[[ $build == /* ]] || build=$root/$build
build_only=false
if [[ ${1-} == --build-only ]]; then
  build_only=true
  shift
fi
seconds=${1:-60}
[[ $seconds =~ ^[1-9][0-9]*$ ]] || { echo "usage: scripts/fuzz.sh [--build-only] [SECONDS] [NAME...]" >&2; exit 2; }
shift $(($# > 0 ? 1 : 0))
read -r -a extra_args <<<"${FUZZ_EXTRA_ARGS:-}"
jobs=${FUZZ_JOBS:-$(nproc)}
[[ $jobs =~ ^[1-9][0-9]*$ ]] || { echo "fuzz: FUZZ_JOBS must be a positive number" >&2; exit 2; }

say() { echo "fuzz: $*" >&2; }

ensure_toolchain() {
  local runtime=/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a
  if ! command -v clang++-14 >/dev/null || [[ ! -f $runtime ]]; then
    bash "$root/scripts/setup.sh" --fuzz-tools >&2
  fi
}

build_targets() {
  if [[ ! -f $build/build.ninja ]]; then
    local launcher=()
    command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    say "configuring $build (clang-14, libFuzzer, ASan, UBSan)"
    cmake -S "$root" -B "$build" -G Ninja -DCAUSEWAY_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++-14 \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
      "${launcher[@]}" >&2
  fi
  say "building the fuzz targets"
  nice -n 5 cmake --build "$build" --target fuzzers >&2
}

# The value of libFuzzer's final `stat::NAME: N` line in a log, or 0.
final_stat() {
  sed -n "s/^stat::$1: *\([0-9][0-9]*\).*/\1/p" "$2" | tail -n 1 | grep . || echo 0
}

# The last coverage count libFuzzer reported (`cov: N`), or 0.
last_coverage() {
  sed -n 's/.* cov: \([0-9][0-9]*\) .*/\1/p' "$1" | tail -n 1 | grep . || echo 0
}

count_files() { find "$1" -maxdepth 1 -type f | wc -l; }

# Starts one target in the background; its exit code lands in $dir/exit_code.
start_target() {
  local name=$1 binary=$build/bin/${1}_fuzz
  local dir=$build/fuzz/$name seeds=$root/tests/fuzz/corpus/$name
  local options=$root/tests/fuzz/$name.options dict=$root/tests/fuzz/dict/$name.dict
  mkdir -p "$dir/corpus" "$dir/artifacts"
  rm -f "$dir/exit_code"
  count_files "$dir/artifacts" >"$dir/artifacts_before"
  local args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096
    -print_final_stats=1 -artifact_prefix="$dir/artifacts/")
  [[ -f $options ]] && mapfile -t -O ${#args[@]} args < <(grep -v '^\s*\(#\|$\)' "$options")
  [[ -f $dict ]] && args+=(-dict="$dict")
  args+=("${extra_args[@]}" "$dir/corpus")
  [[ -d $seeds ]] && args+=("$seeds")

  say "$name: ${seconds}s ($binary ${args[*]})"
  (
    rc=0
    nice -n 10 "$binary" "${args[@]}" >"$dir/last.log" 2>&1 || rc=$?
    echo "$rc" >"$dir/exit_code"
  ) &
}

# Reads the results of one finished target; appends its JSON entry to $entries and its numbers
# to the totals.
collect_target() {
  local name=$1 binary=$build/bin/${1}_fuzz dir=$build/fuzz/$1
  local rc before execs rss cov crashes
  rc=$(cat "$dir/exit_code" 2>/dev/null || echo 1)
  before=$(cat "$dir/artifacts_before")
  execs=$(final_stat number_of_executed_units "$dir/last.log")
  rss=$(final_stat peak_rss_mb "$dir/last.log")
  cov=$(last_coverage "$dir/last.log")
  crashes=$(($(count_files "$dir/artifacts") - before))
  if ((rc != 0 && crashes == 0)); then
    crashes=1 # it died without writing a reproducer: still a crash
  fi
  while read -r artifact; do
    echo "fuzz: $name crashed; reproducer: $artifact (replay: $binary $artifact; log: $dir/last.log)"
  done < <(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$dir/last.log")
  say "$name: $execs executions, $crashes crashes, coverage $cov, peak RSS ${rss} MiB"

  entries+=("\"$name\": {\"execs\": $execs, \"crashes\": $crashes, \"cov\": $cov, \"peak_rss_mib\": $rss}")
  total_execs=$((total_execs + execs))
  total_crashes=$((total_crashes + crashes))
  ((rss > peak_rss)) && peak_rss=$rss
  return 0
}

ensure_toolchain
build_targets
$build_only && exit 0

names=("$@")
if ((${#names[@]} == 0)); then
  for source in "$root"/tests/fuzz/*_fuzz.cpp; do
    names+=("$(basename "$source" _fuzz.cpp)")
  done
fi

for name in "${names[@]}"; do
  if [[ ! -x $build/bin/${name}_fuzz ]]; then
    echo "fuzz: no target $name (expected $build/bin/${name}_fuzz)" >&2
    exit 2
  fi
done

entries=()
total_execs=0 total_crashes=0 peak_rss=0
started=$(date +%s%N)
running=0
for name in "${names[@]}"; do
  if ((running == jobs)); then
    wait -n || true
    running=$((running - 1))
  fi
  start_target "$name"
  running=$((running + 1))
done
wait || true
for name in "${names[@]}"; do
  collect_target "$name"
done
elapsed_ns=$(($(date +%s%N) - started))

targets=$(IFS=,; echo "${entries[*]}")
targets=${targets//,\"/, \"}
rate=$(awk -v n="$total_execs" -v ns="$elapsed_ns" 'BEGIN { printf "%.1f", n / (ns / 1e9) }')
echo "{\"name\": \"fuzz\", \"seconds\": $seconds, \"targets\": {$targets}, \"execs\": $total_execs," \
  "\"crashes\": $total_crashes, \"msgs_per_s\": $rate, \"peak_rss_mib\": $peak_rss}"
((total_crashes == 0)) || exit 1
