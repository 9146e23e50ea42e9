#!/usr/bin/env bash
# bench_runs: wall time and peak memory of whole `mhcsim run`s (mHC and baseline, two processes) on
# the issue-19 targets, each with the all-to-all folded (the default) and with every flow
# (--no-fold-all-to-all), side by side in one run; with a third argument, also that binary (an earlier
# commit's build, run without the flag).
# Usage: bash tests/engine/bench_runs.sh [path/to/mhcsim] [seconds before a run is cut off] [earlier mhcsim]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
mhcsim="${1:-$root/build/sim/mhcsim}"
limit="${2:-300}"
earlier="${3:-}"
cd "$root"
v3=scenarios/deepseek-v3-2048-h800.json
declare -a names=("DeepSeek-V3 2048 H800 (rail)" "DeepSeek-V3 2048 H800, direct all-to-all" "DeepSeek-V3 layout, 16384 GPUs (dp 1024)")
declare -a sets=("" "--set /parallelism/ep_all_to_all=\"direct\""
                 "--set /parallelism/dp=1024 --set /cluster/nodes=2048 --set /parallelism/global_batch=122880")
echo "# bench_runs on $(nproc) cores, $(git rev-parse --short HEAD 2>/dev/null || echo unknown)${earlier:+; earlier: $earlier}"
printf "%-44s %-14s %10s %10s %14s\n" "run" "all-to-all" "wall s" "peak MiB" "step s (mHC)"
for i in "${!names[@]}"; do
  modes="folded whole"; [ -n "$earlier" ] && modes="$modes earlier"
  for mode in $modes; do
    flag=""; bin="$mhcsim"
    [ "$mode" = whole ] && flag="--no-fold-all-to-all"
    [ "$mode" = earlier ] && bin="$earlier"
    out="$(mktemp)"
    # shellcheck disable=SC2086
    if /usr/bin/time -f "%e %M" -o "$out.time" timeout "$limit" "$bin" run "$v3" --quiet --json $flag ${sets[$i]} > "$out" 2>/dev/null; then
      read -r wall kb < "$out.time"
      step="$(python3 -c "import json,sys; print(round(json.load(open(sys.argv[1]))['mhc']['step_time_s'], 6))" "$out")"
      printf "%-44s %-14s %10s %10d %14s\n" "${names[$i]}" "$mode" "$wall" "$((kb / 1024))" "$step"
    else
      printf "%-44s %-14s %10s %10s %14s\n" "${names[$i]}" "$mode" ">$limit" "-" "-"
    fi
    rm -f "$out" "$out.time"
  done
done
