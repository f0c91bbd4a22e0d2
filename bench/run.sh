#!/bin/sh
# Runs keygate's load harness from the module root (see docs/performance.md).
# Flags go to cmd/keygate-bench, e.g.:
#   bench/run.sh --quick                       # CI smoke, under a minute
#   bench/run.sh                               # the full run, a few minutes
#   bench/run.sh --profile bench/results/prof  # also perf profiles of keygate and the baseline
#   bench/run.sh --compare before=/tmp/keygate-old --scenarios chat,chat-open --rounds 3
# The JSON report goes to bench/results/ (git-ignored).
set -eu
cd "$(dirname "$0")/.."
go build -o bench/results/keygate-bench ./cmd/keygate-bench
exec bench/results/keygate-bench "$@"
