#!/usr/bin/env bash
# slurm_sweep_steps.sh MHCSIM DIR OUT SWEEP-ARGS...: what test_slurm_cluster.cpp does on the Slurm that
# with_slurm.sh started: plans the sweep as a job array, waits for it, collects it (text and JSON),
# plans it again (nothing to run), loses one result, lists and resubmits it, and collects again.
# Every output goes to OUT; the C++ test compares them with the local sweep.
set -u
mhcsim=$1 dir=$2 out=$3
shift 3
mkdir -p "$out"

# Until sweep-collect finds every point (exit 0), at most 60 s.
wait_for_results() {
  for _ in $(seq 120); do
    "$mhcsim" sweep-collect "$dir" >"$out/$1.txt" 2>"$out/$1.err" && return 0
    sleep 0.5
  done
  echo "slurm_sweep_steps: the array did not finish within 60 s" >&2
  squeue --states=all >&2
  return 1
}

"$mhcsim" sweep "$@" --slurm "$dir" --array-max 2 >"$out/plan.txt" 2>&1 || exit 1
wait_for_results collect || exit 1
"$mhcsim" sweep-collect "$dir" --json >"$out/collect.json" || exit 1
"$mhcsim" sweep "$@" --slurm "$dir" >"$out/replan.txt" 2>&1 || exit 1

# Point 0's result lost: listed with its Slurm state and log, then resubmitted alone.
key=$(head -1 "$dir/points.jsonl" | sed 's/.*"key":"\([0-9a-f]*\)".*/\1/')
rm "$dir/results/$key.json"
"$mhcsim" sweep-collect "$dir" >/dev/null 2>"$out/missing.err"
echo $? >"$out/missing.status"
"$mhcsim" sweep-collect "$dir" --resubmit >/dev/null 2>"$out/resubmit.err"
wait_for_results recollect || exit 1
squeue --states=all --array --noheader --format='%i %T' >"$out/squeue.txt"
