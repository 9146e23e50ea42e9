#!/usr/bin/env bash
# One call on a GPU machine: GPU tests, compute-sanitizer memcheck + racecheck, then the bench.
# Usage: gpu_check.sh TEST_BINARY BENCH_BINARY OUT_DIR [bench flags...]
set -u -o pipefail
test_bin=$1; bench_bin=$2; out=$3; shift 3
mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv | tee "$out/gpu.txt"
echo "== test_kernels_gpu"
timeout 240 "$test_bin" 2>&1 | tee "$out/test.log" | grep -E "OK|FAILED|Failure|Expected|Which is|rel_error|actual|PASSED|SKIPPED" | head -80
echo "== memcheck"
timeout 240 compute-sanitizer --tool memcheck --error-exitcode 9 "$test_bin" --gtest_brief=1 >"$out/memcheck.log" 2>&1
echo "memcheck rc=$?"; tail -5 "$out/memcheck.log"
echo "== racecheck"
timeout 240 compute-sanitizer --tool racecheck --error-exitcode 9 "$test_bin" --gtest_brief=1 \
  --gtest_filter='*Fused*:*Unfused*' >"$out/racecheck.log" 2>&1
echo "racecheck rc=$?"; tail -5 "$out/racecheck.log"
echo "== bench"
timeout 300 "$bench_bin" "$@" 2>&1 | tee "$out/bench.txt"
