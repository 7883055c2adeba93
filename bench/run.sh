#!/usr/bin/env bash
# bench/run.sh NAME — builds what the benchmark needs, runs it and prints, as its last line,
# one JSON object with at least name, msgs_per_s, peak_rss_mib (and ratio where there is a
# reference). NAME: inmemory | rabbitmq | daemon | shards | sensors | checkpoint | restore | fuzz. A benchmark
# reports; it never fails on a slow machine.
#   bench/run.sh fuzz [SECONDS]   every fuzz target for SECONDS each (default 60), through
#                                 scripts/fuzz.sh; exits 1 after its JSON line if one crashed
#   bench/run.sh inmemory [--noise F]   Causeway's in-memory pipeline and, in the same run, the
#                                 same shape from bare CAF actors; ratio = Causeway / bare CAF;
#                                 then both beside the noisy neighbour (as daemon's --noise,
#                                 default 0.3; 0: quiet only): ratio_noisy; three passes of
#                                 each, alternated, the median pass of each reported
#   bench/run.sh daemon [--noise F] [--profile] [bench_daemon flags...]   (bench/daemon.sh)
#       --noise F        the noisy side runs beside bench/noisy_neighbour, which streams through
#                        4 x the last-level cache for F of every millisecond (default 0.3;
#                        0: quiet only); quiet and noisy are reported side by side
#       --profile        instead, one durable drain under `perf record -g`: top symbols and
#                        shares by group (Telluride, libc malloc/free, kernel, CAF, rabbitmq-c,
#                        libuv...) and by thread, the kernel's by how it was entered (system
#                        call, page fault, interrupt); says so when perf is missing or not allowed
#       --messages N --rounds N --sensors N --sensors-large N   fewer readings, more rounds
#       --paced-rates 5000,20000 --paced-seconds 8 --idle-seconds 5   the paced and idle runs,
#                        one of each per round, the least CPU counting (--paced-seconds 0: none)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build}
name=${1:-}

usage() {
  echo "usage: bench/run.sh inmemory|rabbitmq|daemon|shards|sensors|checkpoint|restore|fuzz [SECONDS]" >&2
  exit 2
}

configure() {
  if [[ ! -f $build/build.ninja ]]; then
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  cmake --build "$build" --target "$@" >/dev/null
}

case $name in
  inmemory)
    configure bench_inmemory noisy_neighbour
    "$build/bin/bench_inmemory" --messages 10000000 --passes 3 "${@:2}"
    ;;
  rabbitmq)
    [[ -x $root/bench/rabbitmq.sh ]] || { echo "bench/rabbitmq.sh is missing" >&2; exit 1; }
    configure bench_rabbitmq
    "$root/bench/rabbitmq.sh" "$build"
    ;;
  daemon)
    [[ -x $root/bench/daemon.sh ]] || { echo "bench/daemon.sh is missing" >&2; exit 1; }
    configure telluride bench_daemon noisy_neighbour
    "$root/bench/daemon.sh" "$build" "${@:2}"
    ;;
  shards)
    configure telluride bench_shards
    "$root/bench/shards.sh" "$build" "${@:2}"
    ;;
  sensors)
    configure bench_sensors
    "$build/bin/bench_sensors" "${@:2}"
    ;;
  checkpoint)
    configure bench_checkpoint
    "$build/bin/bench_checkpoint" "${@:2}"
    ;;
  restore)
    configure bench_restore
    "$root/bench/restore.sh" "$build" "${@:2}"
    ;;
  fuzz)
    # Its own clang build (build-fuzz); a crash is a finding, not a slow machine: its exit
    # code stands.
    exec "$root/scripts/fuzz.sh" "${2:-60}"
    ;;
  *) usage ;;
esac
