#!/bin/sh
# Runs keygate's load harness from the module root (see docs/performance.md).
# Flags go to cmd/keygate-bench, e.g.:
#   bench/run.sh --quick                       # CI smoke, about a minute
#   bench/run.sh                               # the full run, a few minutes
#   bench/run.sh --profile bench/results/prof  # also perf profiles of keygate and the baseline
#   bench/run.sh --compare before=/tmp/keygate-old --scenarios chat,chat-open --rounds 3
#   bench/run.sh --peer=none --database-url=   # without the Portkey peer and keygate on PostgreSQL
# The JSON report goes to bench/results/ (git-ignored). The peer (Portkey,
# from npm, when npm is on PATH) is installed once into bench/.peer
# (git-ignored). keygate-pg runs on the PostgreSQL server named by
# KEYGATE_BENCH_DATABASE_URL, by default the local test server; when that
# server does not answer, the report says keygate-pg was skipped and why.
set -eu
cd "$(dirname "$0")/.."
: "${KEYGATE_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
export KEYGATE_BENCH_DATABASE_URL
go build -o bench/results/keygate-bench ./cmd/keygate-bench
exec bench/results/keygate-bench "$@"
