#!/usr/bin/env bash
# Installs what is missing (Debian 12 packages, via apt-get) and builds the project.
# Idempotent: a second run installs nothing and only rebuilds what changed.
#   scripts/setup.sh            # from any directory, as root (or with sudo available)
#   scripts/setup.sh --fuzz-tools   # also the fuzzing toolchain; builds nothing (scripts/fuzz.sh
#                                   # builds its own tree)
# TELLURIDE_BUILD_DIR overrides the build folder (default: build, relative to the repo).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
build_dir=${TELLURIDE_BUILD_DIR:-build}

packages=(
  build-essential cmake ninja-build pkg-config
  libcaf-dev libuv1-dev nlohmann-json3-dev doctest-dev librabbitmq-dev libcli11-dev
  libspdlog-dev libhttp-parser-dev libsimdjson-dev libssl-dev
  rabbitmq-server openssl
  linux-perf # bench/run.sh daemon --profile
  chromium nodejs npm # tests/browser: the dashboard in a headless browser
)
# Only for scripts/fuzz.sh, so the demo does not wait for them: clang and its runtimes
# (libclang-rt-14-dev ships libFuzzer, ASan and UBSan: libclang_rt.fuzzer-x86_64.a).
fuzz_packages=(clang-14 libclang-rt-14-dev)

fuzz_tools_only=false
case ${1:-} in
  "") ;;
  --fuzz-tools)
    fuzz_tools_only=true
    packages+=("${fuzz_packages[@]}")
    ;;
  *)
    echo "usage: scripts/setup.sh [--fuzz-tools]" >&2
    exit 2
    ;;
esac

say() { echo "setup: $*"; }

is_installed() {
  case $1 in
    # A Node.js from elsewhere (NodeSource's nodejs ships its own npm and conflicts with
    # Debian's npm package) serves the browser test as well: its commands are enough.
    nodejs) command -v node >/dev/null && return 0 ;;
    npm) command -v npm >/dev/null && return 0 ;;
  esac
  [[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) == installed ]]
}

as_root() {
  if ((EUID == 0)); then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    echo "setup: need root to run: $*" >&2
    exit 1
  fi
}

# The distribution's own rabbitmq-server service would take port 5672 (and 4369) and clash
# with the project-local broker of deploy/rabbitmq-local.sh: stop it and keep it off.
disable_system_rabbitmq() {
  if [[ -d /run/systemd/system ]]; then # systemd is PID 1
    as_root systemctl disable --now rabbitmq-server >/dev/null 2>&1 || true
    say "disabled the system rabbitmq-server service (systemctl disable --now rabbitmq-server);" \
      "the project runs its own broker with deploy/rabbitmq-local.sh"
  elif [[ -x /etc/init.d/rabbitmq-server ]]; then # sysvinit, or a container without init
    as_root update-rc.d rabbitmq-server disable >/dev/null 2>&1 || true
    as_root /etc/init.d/rabbitmq-server stop >/dev/null 2>&1 || true
    say "stopped and disabled the system rabbitmq-server service (init.d);" \
      "the project runs its own broker with deploy/rabbitmq-local.sh"
  fi
}

install_missing() {
  local missing=() p
  for p in "${packages[@]}"; do
    is_installed "$p" || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then
    say "all ${#packages[@]} packages already installed"
    return 0
  fi
  say "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Wait for a concurrent apt/dpkg (e.g. unattended-upgrades) instead of failing at once.
  local apt=(apt-get -y -q -o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0)
  as_root "${apt[@]}" update
  as_root "${apt[@]}" install --no-install-recommends "${missing[@]}"
  if [[ " ${missing[*]} " == *" rabbitmq-server "* ]]; then
    disable_system_rabbitmq
  fi
}

configure_and_build() {
  # A build folder made earlier with another generator cannot be switched to Ninja in place.
  local cache=$build_dir/CMakeCache.txt
  if [[ -f $cache ]] && ! grep -qx 'CMAKE_GENERATOR:INTERNAL=Ninja' "$cache"; then
    say "$build_dir was configured with another generator: reconfiguring it for Ninja"
    rm -rf "$cache" "$build_dir/CMakeFiles"
  fi
  say "configuring $build_dir"
  if ! cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release; then
    echo "setup: cmake configuration failed (see above)" >&2
    exit 1
  fi
  say "building $build_dir"
  if ! cmake --build "$build_dir" -j"$(nproc)"; then
    echo "setup: build failed (see above)" >&2
    exit 1
  fi
  say "done: $build_dir/bin"
}

# The browser test's driver (playwright-core, no browser download: it uses Debian's chromium),
# pinned by tests/browser/package-lock.json; installed here, never when the tests run.
install_browser_test_driver() {
  if [[ -d tests/browser/node_modules/playwright-core ]]; then
    return 0
  fi
  say "installing tests/browser's npm packages (npm ci)"
  (cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
}

install_missing
if ! $fuzz_tools_only; then
  install_browser_test_driver
  configure_and_build
fi
