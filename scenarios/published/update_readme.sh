#!/usr/bin/env bash
# Regenerates README.md's accuracy block: runs the whole suite (`mhcsim accuracy --markdown`) and puts
# its output between the README's <!-- accuracy-table:begin --> and <!-- accuracy-table:end --> lines,
# stamped with the date and the commit it ran at.
# usage: bash scenarios/published/update_readme.sh [path/to/mhcsim] [mhcsim accuracy flags, e.g. --jobs 2]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
mhcsim="$root/build/sim/mhcsim"
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then mhcsim="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; shift; fi
cd "$root"
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if ! git diff --quiet HEAD -- sim scenarios profiles 2>/dev/null; then commit="$commit with uncommitted changes"; fi
block="$(mktemp)"
trap 'rm -f "$block" README.md.new' EXIT
"$mhcsim" accuracy --markdown --commit "$commit" "$@" > "$block"
grep -q '^<!-- accuracy-table:begin -->$' README.md && grep -q '^<!-- accuracy-table:end -->$' README.md ||
  { echo "README.md has no accuracy-table markers" >&2; exit 1; }
awk -v block="$block" '
  $0 == "<!-- accuracy-table:begin -->" { print; while ((getline line < block) > 0) print line; skip = 1; next }
  $0 == "<!-- accuracy-table:end -->" { skip = 0 }
  !skip { print }' README.md > README.md.new
mv README.md.new README.md
echo "README.md: accuracy block regenerated at $commit" >&2
