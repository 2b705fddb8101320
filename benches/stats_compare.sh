#!/usr/bin/env bash
# Side-by-side: `accord analyze TABLE --json` vs pingouin 0.7 on the same 100 000-row table,
# same machine, one run.
#
#   benches/stats_compare.sh     (or `make bench-stats`, which builds .venv-stats with pingouin)
#
# Environment (defaults): PYTHON=python3 (with pandas and pingouin), RUNS=5,
# BENCH_DIR=/tmp/accord-bench. The table is written by examples/make_stats_table.rs
# (500 subjects x 10 sites x 2 sessions x 10 ROIs). Each tool does one untimed warm-up run,
# then RUNS timed runs; reported: median and min seconds and the ratio of medians.
# Accord's time is the whole process (start-up, CSV parse, full analysis, JSON to /dev/null);
# pingouin's is its ICC workload only (see stats_compare.py), timed inside Python after import.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON=${PYTHON:-python3}
RUNS=${RUNS:-5}
BENCH_DIR=${BENCH_DIR:-/tmp/accord-bench}
CARGO=${CARGO:-cargo}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
TABLE="$BENCH_DIR/stats_100k.csv"
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || { echo "RUNS must be a positive integer" >&2; exit 2; }
if ! "$PYTHON" -c 'import pandas, pingouin' 2>/dev/null; then
  echo "error: $PYTHON cannot import pandas and pingouin; run 'make bench-stats' or set PYTHON" >&2
  exit 2
fi
mkdir -p "$BENCH_DIR"
"$CARGO" build -q --release --bin accord --example make_stats_table
[[ -f "$TABLE" ]] || "$TARGET_DIR/release/examples/make_stats_table" "$TABLE"

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
accord_once() {
  local t0 t1
  t0=$(date +%s.%N)
  "$TARGET_DIR/release/accord" analyze "$TABLE" --json >/dev/null
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.6f\n", b - a}' 
}

accord_once >/dev/null
"$PYTHON" benches/stats_compare.py "$TABLE" >/dev/null
acc=(); py=()
for _ in $(seq "$RUNS"); do acc+=("$(accord_once)"); done
for _ in $(seq "$RUNS"); do py+=("$("$PYTHON" benches/stats_compare.py "$TABLE" | cut -d' ' -f1)"); done
n_icc=$("$PYTHON" benches/stats_compare.py "$TABLE" | cut -d' ' -f2)
acc_med=$(printf '%s\n' "${acc[@]}" | median); acc_min=$(printf '%s\n' "${acc[@]}" | sort -g | head -1)
py_med=$(printf '%s\n' "${py[@]}" | median); py_min=$(printf '%s\n' "${py[@]}" | sort -g | head -1)
echo "table: $TABLE ($(($(wc -l <"$TABLE") - 1)) rows), $RUNS runs each"
printf '%-44s median %8.3f s   min %8.3f s\n' "accord analyze --json (full analysis)" "$acc_med" "$acc_min"
printf '%-44s median %8.3f s   min %8.3f s\n' "pingouin intraclass_corr ($n_icc ICCs)" "$py_med" "$py_min"
printf 'speed-up (pingouin median / accord median): %.1fx\n' "$(awk -v a="$py_med" -v b="$acc_med" 'BEGIN {print a / b}')"
