#!/usr/bin/env bash
# Side by side, same machine, one run: Accord vs pypulseq 1.5.0.post1.
#
#   benches/pulseq_compare.sh     (or `make bench-pulseq`, which uses .venv with pypulseq)
#
# build: the large protocol examples/protocols/mprage.toml (the 1 mm MPRAGE example, 164 320
#        blocks) built and written by Accord (`examples/seq_bench.rs build`: protocol →
#        sequence → .seq on disk) and by pypulseq (`benches/pulseq_peer.py build`: add_block of
#        the same blocks' events, then Sequence.write; its make_* calls are not timed).
# read:  the largest reference files (Accord `seq_bench read` vs pypulseq `Sequence().read`;
#        like pypulseq, `read` does not check the [SIGNATURE] md5; `read-verified`, Accord's
#        default, adds it and is reported beside it).
# Both sides time themselves in-process (start-up and imports excluded). Each measurement: one
# untimed warm-up, then RUNS timed runs; reported: median and min seconds, ratio of medians.
#
# Environment (defaults): PYTHON=python3 (with pypulseq), RUNS=5, RUNS_SLOW=1 (pypulseq on the
# CEST file, ~1 min per read), BENCH_DIR=/tmp/accord-bench.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON=${PYTHON:-python3}
RUNS=${RUNS:-5}
BENCH_DIR=${BENCH_DIR:-/tmp/accord-bench}
CARGO=${CARGO:-cargo}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
PROTOCOL=examples/protocols/mprage.toml
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || { echo "RUNS must be a positive integer" >&2; exit 2; }
if ! "$PYTHON" -c 'import pypulseq' 2>/dev/null; then
  echo "error: $PYTHON cannot import pypulseq; run 'make venv' or set PYTHON" >&2
  exit 2
fi
mkdir -p "$BENCH_DIR"
"$CARGO" build -q --release --example seq_bench
BENCH="$TARGET_DIR/release/examples/seq_bench"

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# measure LABEL CMD...: warm-up, RUNS timed runs of CMD (which prints "seconds blocks").
measure() {
  local label=$1; shift
  local runs=${MEASURE_RUNS:-$RUNS}
  [[ -n "${MEASURE_RUNS:-}" ]] || "$@" >/dev/null
  local times=() blocks=0 line
  for _ in $(seq "$runs"); do
    line=$("$@"); times+=("${line%% *}"); blocks=${line##* }
  done
  local med min
  med=$(printf '%s\n' "${times[@]}" | median); min=$(printf '%s\n' "${times[@]}" | sort -g | head -1)
  printf '%-58s %7s blocks  median %9.4f s  min %9.4f s\n' "$label" "$blocks" "$med" "$min" >&2
  echo "$med"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.0fx", a / b}'; }

echo "RUNS=$RUNS, $(nproc) CPUs, $("$PYTHON" -c 'import pypulseq, numpy; print("pypulseq", pypulseq.__version__, "numpy", numpy.__version__)')" >&2
SEQ="$BENCH_DIR/mprage_bench.seq"
a=$(measure "accord: build + write $(basename "$PROTOCOL")" "$BENCH" build "$PROTOCOL" "$SEQ")
p=$(measure "pypulseq: add_block + write the same blocks" "$PYTHON" benches/pulseq_peer.py build "$SEQ" "$BENCH_DIR/mprage_bench_pypulseq.seq")
echo "build + write: pypulseq / accord = $(ratio "$p" "$a")"
for f in pypulseq150_write_3Dt1_mprage pypulseq141_write_3Dt1_mprage matlab140_cest_aptw_sincgauss pypulseq150_write_mprage pypulseq120_rs_gre; do
  file=tests/data/pulseq/$f.seq
  [[ -f "$file" ]] || continue
  a=$(measure "accord: read $f" "$BENCH" read "$file")
  v=$(measure "accord: read + verify signature $f" "$BENCH" read-verified "$file")
  if [[ $f == matlab140_cest_aptw_sincgauss ]]; then
    # ~1 min per pypulseq read (shared/docs/pulseq.md §8.9): RUNS_SLOW runs, no warm-up.
    p=$(MEASURE_RUNS=${RUNS_SLOW:-1} measure "pypulseq: read $f" "$PYTHON" benches/pulseq_peer.py read "$file")
  else
    p=$(measure "pypulseq: read $f" "$PYTHON" benches/pulseq_peer.py read "$file")
  fi
  echo "read $f: pypulseq / accord = $(ratio "$p" "$a") (with md5 check: $(ratio "$p" "$v"))"
done
a=$(measure "accord: read generated $(basename "$SEQ")" "$BENCH" read "$SEQ")
p=$(measure "pypulseq: read generated $(basename "$SEQ")" "$PYTHON" benches/pulseq_peer.py read "$SEQ")
echo "read mprage_bench.seq: pypulseq / accord = $(ratio "$p" "$a")"
