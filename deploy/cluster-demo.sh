#!/usr/bin/env bash
# deploy/cluster-demo.sh [N] — the demo with N daemons (default 3) on one broker sharing 12
# shards: each is active on 4 (12 / N), and each prints where its dashboard is. Kill one
# (kill -9 $(cat build/demo/pipeline-2.pid)) and watch the others take its shards within 10 s;
# Ctrl-C stops everything in order. Everything else is scripts/demo.sh's.
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/../scripts/demo.sh" --cluster "${1:-3}"
