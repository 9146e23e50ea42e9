#!/usr/bin/env bash
# The device calls that measured profiles/h100-sxm.json, one part per call (a call is limited to 10
# minutes). Binaries are built on the development machine (the device image lacks SimGrid and Boost)
# and carried in BIN; each part writes into OUT. The parts are merged afterwards, off the device:
#   mhcsim profile-merge --out profiles/h100-sxm.json mhc-a.json mhc-b.json attention.json \
#       profiles/measured/h100-sxm-gemm-layer.json
# Usage: device_runs.sh PART BIN OUT    (PART: mhc-a | mhc-b | attention | gemm-layer)
set -u -o pipefail
part=$1; bin=$2; out=$3
mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,clocks.mem --format=csv | tee "$out/gpu-$part.txt"
case "$part" in
  # n = 4 (the paper's rate) first, so a time-limit cut loses the least used rates.
  mhc-a) "$bin/mhc-profile" --out "$out/mhc-a.json" --skip gemm,layer --mhc-n 4,1,8 --runs 30 --warmup 5 \
           --time-limit 540 2>"$out/mhc-a.log" ;;
  mhc-b) "$bin/mhc-profile" --out "$out/mhc-b.json" --skip gemm,layer --mhc-n 2,6,3 --runs 30 --warmup 5 \
           --time-limit 540 2>"$out/mhc-b.log" ;;
  attention) python3 profiles/attention/measure_attention.py --out "$out/attention.json" 2>&1 | tee "$out/attention.log" ;;
  gemm-layer) "$bin/mhc-profile" --out "$out/gemm-layer.json" --skip mhc --time-limit 540 2>"$out/gemm-layer.log" ;;
  *) echo "unknown part '$part' (expected mhc-a, mhc-b, attention or gemm-layer)" >&2; exit 2 ;;
esac
rc=$?
tail -3 "$out"/*"$part"*.log 2>/dev/null
exit $rc
