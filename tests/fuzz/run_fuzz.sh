#!/usr/bin/env bash
# The long fuzz run (not part of CI): fuzz_inputs over N cases (default 100,000) from seed S, in two
# processes at once (cases split in halves), with the wall time. A failure prints its case and how to
# replay it; the exit code is non-zero if any case crashed, hung past 30 s or raised an internal error.
#   tests/fuzz/run_fuzz.sh [BUILD_DIR] [CASES] [SEED]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
cases=${2:-100000}
seed=${3:-2026}
half=$((cases / 2))
start=$(date +%s)
"$build/tests/fuzz/fuzz_inputs" --cases "$half" --seed "$seed" --first 0 &
first=$!
"$build/tests/fuzz/fuzz_inputs" --cases $((cases - half)) --seed "$seed" --first "$half" &
second=$!
status=0
wait $first || status=$?
wait $second || status=$?
echo "run_fuzz: $cases cases, seed $seed, $(( $(date +%s) - start )) s wall, exit status $status"
exit $status
