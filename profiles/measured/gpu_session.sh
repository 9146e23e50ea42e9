#!/usr/bin/env bash
# One prepared GPU session (a lent H100 or H200: 15 minutes of device time in all, 10 per command):
# every measurement the project owes, in priority order, each step capped by its own time budget and
# the whole within 9 minutes, writing under OUT as it goes so that a cut loses only the tail.
#
#   gpu_session.sh [--dry-run] [--no-binaries] [--bin DIR] [--out DIR] [--gpu NAME] [--budget SECONDS]
#
# --bin   the CUDA binaries (mhc-profile, test_kernels_gpu, bench_kernels), flat or as in a build
#         tree; default ./build. The device image has nvcc and CMake but not SimGrid, Boost or
#         GoogleTest, so they are built here (-DMHC_ENABLE_CUDA=ON, sm_90) and carried there.
# --out   where results go (default $OUT, the device tool's folder); session.tsv says how each step ended.
# --gpu   the profile's name stem (default: from nvidia-smi: h100-sxm, h200, h800, ...).
# --dry-run  on any machine: checks that every step's program exists and accepts its flags (a
#         binary's flags are parsed before it looks for a GPU), prints the plan with its budgets, and
#         fails if they add up to more than the session's. --no-binaries skips the binaries' checks
#         (a build without CUDA); ctest runs one or the other.
# Afterwards, off the device: NEXT.txt under OUT holds the merge command for the profile parts.
set -u -o pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)  # the repository root
dry_run=0 check_binaries=1 bin="$here/build" out="${OUT:-}" gpu="" session_budget=540
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) dry_run=1 ;;
    --no-binaries) check_binaries=0 ;;
    --bin) bin=${2:?--bin needs a folder}; shift ;;
    --out) out=${2:?--out needs a folder}; shift ;;
    --gpu) gpu=${2:?--gpu needs a name}; shift ;;
    --budget) session_budget=${2:?--budget needs seconds}; shift ;;
    *) echo "gpu_session.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done
[ -d "$bin" ] && bin=$(cd "$bin" && pwd)
case "$session_budget" in ''|*[!0-9]*) echo "gpu_session.sh: --budget: expected whole seconds" >&2; exit 2 ;; esac

# The GPU's name stem for the profile files.
gpu_stem() {
  local name
  name=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
  case "$name" in
    *H200*) echo h200 ;;
    *H800*) echo h800 ;;
    *H100*PCIe*) echo h100-pcie ;;
    *H100*) echo h100-sxm ;;
    "") echo "" ;;
    *) echo "$name" | tr 'A-Z' 'a-z' | sed -e 's/^nvidia //' -e 's/[^a-z0-9]\+/-/g' -e 's/-$//' ;;
  esac
}
[ -n "$gpu" ] || gpu=$(gpu_stem)
if [ -z "$gpu" ]; then
  [ "$dry_run" = 1 ] || { echo "gpu_session.sh: no GPU seen by nvidia-smi and no --gpu NAME" >&2; exit 2; }
  gpu=h100-sxm
fi
if [ "$dry_run" = 0 ] && [ -z "$out" ]; then echo "gpu_session.sh: no --out and no \$OUT" >&2; exit 2; fi
[ -n "$out" ] || out=$(mktemp -d)
mkdir -p "$out"

# A binary, flat in --bin or where the build tree puts it.
find_bin() {
  local name=$1 sub
  for sub in . profiles kernels tests/kernels; do
    [ -x "$bin/$sub/$name" ] && { echo "$bin/$sub/$name"; return 0; }
  done
  echo "$bin/$name"  # (missing: the check below says so)
}
profile=$(find_bin mhc-profile) kernels_test=$(find_bin test_kernels_gpu) bench=$(find_bin bench_kernels)
python=$(command -v python3 || echo python3)
sanitizer=$(command -v compute-sanitizer || { [ -x /usr/local/cuda/bin/compute-sanitizer ] && echo /usr/local/cuda/bin/compute-sanitizer; } || echo "")

# The plan, in priority order: name, budget (s), whether a missing tool skips it or fails the dry
# run, and the command. Budgets come from the H100 runs of 2026-11-22 (profiles/measured/README.md:
# the quick profile, 411 entries, took under 200 s; the GEMM and layer sweep 150 s) scaled to the
# reduced grids below, each with room for start-up.
steps=() budgets=() optional=() commands=()
plan() { steps+=("$1"); budgets+=("$2"); optional+=("$3"); shift 3; commands+=("$(printf '%q ' "$@")"); }
# a. The kernels against the CPU reference (every variant, n = 1..8), then memcheck on the fused ones.
plan kernels-test 45 no "$kernels_test" --gtest_output=json:"$out/kernels-test.json"
plan memcheck 45 yes "${sanitizer:-compute-sanitizer}" --tool memcheck --error-exitcode 9 "$kernels_test" \
  --gtest_filter='KernelsGpu.FusedForwardMatchesReference:KernelsGpu.FusedBackwardMatchesReference'
# b. Co-run: copy bandwidth against SMs, a GEMM and post-res alone and at once, with and without
#    stream priority, a GEMM beside a paced copy (the GPU model's calibration; profiles/SCHEMA.md).
plan corun 50 no "$profile" --out "$out/$gpu-corun.json" --skip mhc,gemm,layer --corun --runs 20 --warmup 3 \
  --time-limit 40
# c. The mHC kernels at n in {4,1,2,8} (the paper's rate first), C in {2560, 4096, 7168}, under
#    sustained clocks with the clocks sampled; then the quick GEMM and layer sweep likewise.
plan mhc 150 no "$profile" --out "$out/$gpu-mhc.json" --skip gemm,layer --mhc-n 4,1,2,8 --mhc-C 2560,4096,7168 \
  --mhc-tokens 4096,16384 --runs 20 --warmup 3 --sustained 15 --time-limit 125
plan gemm-layer 80 no "$profile" --out "$out/$gpu-gemm-layer.json" --skip mhc --quick --runs 20 --warmup 3 \
  --sustained 10 --time-limit 65
# d. Attention through PyTorch SDPA, for the models the shipped scenarios use most.
plan attention 80 yes "$python" "$here/profiles/attention/measure_attention.py" --out "$out/$gpu-attention.json" \
  --runs 20 --warmup 5 --models "$here/scenarios/models/paper-27b.json" "$here/scenarios/models/deepseek-v3.json" \
  "$here/scenarios/models/llama3-8b.json" "$here/scenarios/models/llama3-70b.json"
# e. The kernel bench (fraction of copy bandwidth per kernel), then the PyTorch peers beside it.
plan bench 40 no "$bench" --n 1,2,4,8 --C 2560,4096,7168 --T 16384 --reps 20 --warmup 3
plan torch-peers 50 yes "$python" "$here/kernels/scripts/torch_peers.py" --out "$out/torch_peers.json" \
  --ours "$out/bench_kernels.txt" --runs 10 --warmup 3

total=0
for b in "${budgets[@]}"; do total=$((total + b)); done

# Dry run: the plan, and a probe of each step's program.
probe() {  # step name -> 0 when its program exists and takes its flags
  local name=$1 probe_out=$out/.probe
  case "$name" in
    kernels-test) "$kernels_test" --gtest_list_tests >"$probe_out" 2>&1 && grep -q FusedForwardMatchesReference "$probe_out" ;;
    memcheck) [ -n "$sanitizer" ] ;;
    corun|mhc|gemm-layer)
      local i cmd flag
      for i in "${!steps[@]}"; do [ "${steps[$i]}" = "$name" ] && cmd=${commands[$i]}; done
      [ -x "$profile" ] || return 1
      # Without a CUDA driver (libcuda.so.1) the binary cannot even load: then every flag the step
      # passes must at least be compiled into it (its parser holds each name as a string).
      if ! "$profile" --help >"$probe_out" 2>&1; then
        grep -q "libcuda" "$probe_out" || return 1
        strings "$profile" >"$probe_out.strings" || return 1
        for flag in $(grep -o -- '--[a-zA-Z-]*' <<<"$cmd"); do grep -q -x -- "$flag" "$probe_out.strings" || return 1; done
        return 0
      fi
      # Every flag the step passes is in the usage...
      for flag in $(grep -o -- '--[a-zA-Z-]*' <<<"$cmd"); do grep -q -- "$flag" "$probe_out" || return 1; done
      # ...and, on a machine without a GPU, the whole command line parses: the flags are read before
      # the device, so it must stop at "no CUDA device" (exit 1), not at a flag (exit 2).
      nvidia-smi -L >/dev/null 2>&1 && return 0
      mkdir -p "$out/probe"
      eval "${cmd//"$out"/"$out/probe"}" >"$probe_out" 2>&1
      [ $? = 1 ] && grep -q "no CUDA device" "$probe_out" ;;
    attention) "$python" "$here/profiles/attention/measure_attention.py" --help >"$probe_out" 2>&1 &&
                 "$python" -c "import torch" 2>/dev/null ;;
    bench) "$bench" --list >"$probe_out" 2>&1 ;;
    torch-peers) "$python" "$here/kernels/scripts/torch_peers.py" --help >"$probe_out" 2>&1 &&
                   "$python" -c "import torch" 2>/dev/null ;;
  esac
}

if [ "$dry_run" = 1 ]; then
  echo "gpu_session.sh: plan for $gpu, results under OUT; budgets in seconds (session: $session_budget)"
  failed=0
  for i in "${!steps[@]}"; do
    name=${steps[$i]} status=ok
    if [ "$check_binaries" = 0 ] && [[ "$name" =~ ^(kernels-test|memcheck|corun|mhc|gemm-layer|bench)$ ]]; then
      status="not checked (--no-binaries)"
    elif ! probe "$name"; then
      if [ "${optional[$i]}" = yes ]; then status="skipped there if still missing (optional)"; else status=MISSING; failed=1; fi
    fi
    printf '  %-12s %4s s  %-45s %s\n' "$name" "${budgets[$i]}" "$status" "${commands[$i]}"
  done
  echo "  total        $total s of $session_budget"
  [ "$total" -le "$session_budget" ] || { echo "gpu_session.sh: the plan needs $total s, more than $session_budget" >&2; failed=1; }
  rm -rf "$out/.probe" "$out/.probe.strings" "$out/probe"
  exit $failed
fi

# The session itself.
start=$(date +%s)
{
  echo "gpu_session.sh on $(hostname) at $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git -C "$here" rev-parse HEAD 2>/dev/null || echo unknown)"
  nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,clocks.mem,power.limit,temperature.gpu --format=csv
  for b in "$profile" "$kernels_test" "$bench"; do echo "== ldd $b"; ldd "$b" | grep -E "not found|cuda|cublas|cupti" ; done
} >"$out/session-start.txt" 2>&1
printf 'step\trc\tseconds\tbudget\n' >"$out/session.tsv"
for i in "${!steps[@]}"; do
  name=${steps[$i]} budget=${budgets[$i]}
  used=$(( $(date +%s) - start ))
  if [ $((used + budget)) -gt "$session_budget" ]; then
    printf '%s\tskipped: %s s used, %s s budget\t0\t%s\n' "$name" "$used" "$budget" "$budget" >>"$out/session.tsv"
    continue
  fi
  if [ "$name" = memcheck ] && [ -z "$sanitizer" ]; then
    printf '%s\tskipped: no compute-sanitizer\t0\t%s\n' "$name" "$budget" >>"$out/session.tsv"
    continue
  fi
  t0=$(date +%s)
  log="$out/$(printf '%02d' "$i")-$name.log"
  echo "== $name (budget $budget s): ${commands[$i]}" >&2
  if [ "$name" = bench ]; then
    eval "timeout --kill-after=5 $budget ${commands[$i]}" >"$out/bench_kernels.txt" 2>"$log"
  else
    eval "timeout --kill-after=5 $budget ${commands[$i]}" >"$log" 2>&1
  fi
  rc=$?
  printf '%s\t%s\t%s\t%s\n' "$name" "$rc" "$(( $(date +%s) - t0 ))" "$budget" >>"$out/session.tsv"
  tail -2 "$log" >&2
done

parts=()
for p in mhc gemm-layer corun attention; do [ -s "$out/$gpu-$p.json" ] && parts+=("$gpu-$p.json"); done
cat >"$out/NEXT.txt" <<EOF
Off the device, in the repository root, with the files of this folder copied to profiles/measured/new/:
  build/sim/mhcsim profile-merge --out profiles/measured/$gpu.json $(printf 'profiles/measured/new/%s ' "${parts[@]}")
then point the matching clusters' gpu.profile at it (measured profile first, published parts after),
commit the profile with this folder's session.tsv and logs, and re-run the accuracy table.
EOF
cat "$out/session.tsv" >&2
echo "gpu_session.sh: $(( $(date +%s) - start )) s; results in $out" >&2
