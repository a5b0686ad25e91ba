#!/usr/bin/env bash
# Copy the summary table of a perf/bench.sh results file into README.md, between the markers
# <!-- bench:start --> and <!-- bench:end --> of its "## Benchmarks" section.
#
#   perf/update-readme.sh                              # the newest perf/results/*.md from bench.sh
#   perf/update-readme.sh perf/results/2026-11-22-1030.md
set -euo pipefail
cd "$(dirname "$0")/.."

md=${1:-$(ls -1 perf/results/[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]-[0-9][0-9][0-9][0-9].md 2>/dev/null | tail -1)}
[ -n "$md" ] && [ -f "$md" ] || { echo "no results file (run perf/bench.sh first)" >&2; exit 1; }
grep -q '<!-- bench:start -->' README.md && grep -q '<!-- bench:end -->' README.md ||
    { echo "README.md lacks the bench markers" >&2; exit 1; }

block=$(mktemp)
trap 'rm -f "$block"' EXIT
{
    date_line=$(sed -n 's/^- date: //p' "$md")
    label=$(sed -n 's/^> \*\*\(.*\)\*\*$/\1/p' "$md" | head -1)
    echo "From \`${md#"$PWD"/}\` ($date_line${label:+; $label}); environment and per-workload tables there."
    echo
    sed -n '/<!-- summary:start -->/,/<!-- summary:end -->/p' "$md" | sed '1d;$d'
} >"$block"

awk -v blockfile="$block" '
    /<!-- bench:start -->/ { print; while ((getline line < blockfile) > 0) print line; skip = 1; next }
    /<!-- bench:end -->/ { skip = 0 }
    !skip { print }
' README.md >README.md.tmp
mv README.md.tmp README.md
echo "README.md updated from $md" >&2
