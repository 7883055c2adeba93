#!/usr/bin/env bash
# bench/daemon.sh BUILD_DIR [--profile] [bench_daemon args...] — the `daemon` benchmark.
#
# Starts a private broker (own data folder under BUILD_DIR, own node name and ports), drains
# 200,000 preloaded readings of 1,000 sensors through the daemon (`telluride pipeline`,
# default config) in durable and in memory mode and, on an equal queue of the same broker,
# through a minimal rabbitmq-c consumer; then again, the consumer and the durable daemon,
# beside a noisy neighbour (bench/noisy_neighbour.cpp: --noise F, default 0.3, of every
# millisecond streaming through 4 x the last-level cache; --noise 0 leaves it out); then
# 200,000 readings of 10,000 sensors through the daemon in each mode; then one durable daemon
# idle for 5 s and fed by `telluride sensors` at a paced 5,000 and 20,000 readings/s
# (--paced-rates, --paced-seconds, --idle-seconds; --paced-seconds 0 leaves them out). Each of
# the --rounds does all of that; the best round of each drain, and the least CPU per reading
# of each paced rate, count.
# Before each drain, the broker garbage-collects the process of the queue just preloaded, so that
# every drain starts from the same broker state (--no-queue-gc: it does not; drains then run fast
# or at about half speed at random, docs/architecture.md, "Why two drains of one build differ").
# Prints the daemon's rate, the ratio, its CPU seconds per million readings, peak RSS, the
# broker's CPU per reading and the part of it its dirty CPU schedulers (garbage collection) took,
# per-thread CPU and the idle reconfiguration time, durable against memory mode (rate, CPU per
# reading, checkpoint bytes per second, restore time), quiet against noisy, paced against the
# drain (with each thread's CPU per reading, as for the drains), the idle daemon's CPU and the
# host's CPU pressure; stops the broker. The last line of stdout is one JSON object.
#
# --profile: instead, one durable drain recorded by `perf record -g` (BUILD_DIR/bench-daemon/
# daemon.perf.data); prints the top symbols and the shares of Telluride's own code, libc's
# malloc/free, the kernel, CAF, rabbitmq-c, libuv... and of the threads, and the kernel's share
# by how it was entered (which system calls, page faults, interrupts), in all and per thread.
#
# Everything else (build, broker start/stop, progress, the daemons' logs) goes to stderr or
# to BUILD_DIR/bench-daemon/.
#
# Environment: BENCH_DAEMON_BROKER_PORT (AMQP port of the private broker, default 12700).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:?usage: bench/daemon.sh BUILD_DIR [--profile] [args...]}
shift
build=$(cd "$build" && pwd)

args=()
profile=false
for arg in "$@"; do
  if [[ $arg == --profile ]]; then profile=true; else args+=("$arg"); fi
done

# Says why perf cannot record the daemon, in one line, before anything starts.
check_perf() {
  local why='' paranoid
  if ! command -v perf >/dev/null; then
    why="perf is not installed (Debian package linux-perf; scripts/setup.sh installs it)"
  else
    paranoid=$(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null || echo unknown)
    if ((EUID != 0)) && [[ $paranoid != unknown ]] && ((paranoid > 2)); then
      why="kernel.perf_event_paranoid is $paranoid: only root may use perf; run as root or lower it (sysctl kernel.perf_event_paranoid=1)"
    elif ! perf record -q -o /dev/null -- true >/dev/null 2>&1; then
      why="perf cannot record here (perf record -- true failed: $(perf record -q -o /dev/null -- true 2>&1 | head -n1))"
    elif ((EUID != 0)) && [[ $paranoid != unknown ]] && ((paranoid > 1)); then
      echo "daemon: kernel.perf_event_paranoid is $paranoid: perf sees user space only, the kernel's share reads 0" >&2
    fi
  fi
  if [[ -n $why ]]; then
    echo "daemon --profile: $why" >&2
    echo "{\"name\":\"daemon_profile\",\"error\":\"$why\"}"
    exit 1
  fi
}

if $profile; then
  check_perf
  args=(--profile "$build/bench-daemon/daemon.perf.data" --perf "$(command -v perf)" "${args[@]}")
fi

# shellcheck source=private_broker.sh
source "$root/bench/private_broker.sh"
run_daemon_bench daemon "$build" "${BENCH_DAEMON_BROKER_PORT:-12700}" --messages 200000 --sensors 1000 --sensors-large 10000 \
  --noisy-neighbour "$build/bin/noisy_neighbour" --broker-ctl "$root/deploy/rabbitmq-local.sh" "${args[@]}"
