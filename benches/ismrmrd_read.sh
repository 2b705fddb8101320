#!/usr/bin/env bash
# Side-by-side read benchmark: Accord vs ismrmrd-python vs h5py, on one file, in one run.
#
#   benches/ismrmrd_read.sh            (or `make bench-compare`, which sets PYTHON to .venv)
#
# Environment (defaults):
#   PYTHON=python3          interpreter with ismrmrd, h5py and numpy (`make venv` builds one)
#   BENCH_DIR=/tmp/accord-bench   where the generated file is kept (reused when present)
#   BENCH_MB=1024           MiB of samples in the generated file
#   RUNS=5                  timed runs for Accord and h5py
#   PY_LOOP_RUNS=3          timed runs for the ismrmrd-python loop (slow: ~25 s per GiB)
#
# The file is written by examples/make_raw_file.rs with --chunk 1 (one record per HDF5 chunk,
# as the ISMRMRD C library and the vendor converters write). Every tool does one untimed
# warm-up run first (which also leaves the file in the page cache), then its timed runs; each
# run opens the file and reads every acquisition into memory. Reported: median and min seconds,
# MB/s (10^6 sample bytes per second, at the median) and Accord's speed-up over each tool
# (their median / Accord's median, all from this same run).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON=${PYTHON:-python3}
BENCH_DIR=${BENCH_DIR:-/tmp/accord-bench}
BENCH_MB=${BENCH_MB:-1024}
RUNS=${RUNS:-5}
PY_LOOP_RUNS=${PY_LOOP_RUNS:-3}
CARGO=${CARGO:-cargo}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
FILE="$BENCH_DIR/raw_${BENCH_MB}mb_chunk1.h5"

for n in "$BENCH_MB" "$RUNS" "$PY_LOOP_RUNS"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_MB, RUNS and PY_LOOP_RUNS must be positive integers" >&2; exit 2; }
done
if ! "$PYTHON" -c 'import ismrmrd, h5py, numpy' 2>/dev/null; then
  echo "error: $PYTHON cannot import ismrmrd, h5py and numpy; run 'make venv' and set PYTHON=.venv/bin/python" >&2
  exit 2
fi

echo "== building examples (release)"
"$CARGO" build --release --quiet --example make_raw_file --example read_all
MAKE_RAW="$TARGET_DIR/release/examples/make_raw_file"
READ_ALL="$TARGET_DIR/release/examples/read_all"

mkdir -p "$BENCH_DIR"
if [[ -s "$FILE" ]]; then
  echo "== reusing $FILE"
else
  echo "== generating $FILE (${BENCH_MB} MiB of samples, --chunk 1)"
  "$MAKE_RAW" "$FILE" --megabytes "$BENCH_MB" --chunk 1
fi

# --- machine ------------------------------------------------------------------------------
# how much of the file is in the page cache (util-linux fincore), e.g. "1024/1027 MiB resident"
cached() {
  if command -v fincore >/dev/null; then
    fincore --bytes --noheadings --output RES,SIZE "$FILE" 2>/dev/null |
      awk '{printf "%d/%d MiB resident", $1/1048576, $2/1048576}' || echo unknown
  else
    echo "unknown (no fincore)"
  fi
}
mem_line() { awk '/^MemTotal|^MemAvailable|^Cached/ {printf "%s %.1f GiB  ", $1, $2/1048576}' /proc/meminfo; }
cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== machine"
echo "date:        $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "nproc:       $(nproc)"
echo "cpu:         ${cpu_model:-unknown}"
echo "memory:      $(mem_line)"
echo "kernel:      $(uname -sr)"
echo "filesystem:  $(df -PT "$BENCH_DIR" | awk 'NR==2 {print $2, "on", $7}')"
echo "file:        $FILE ($(du -m "$FILE" | cut -f1) MiB on disk)"
echo "rustc:       $(rustc --version 2>/dev/null || echo unknown)"
echo "libhdf5:     $(pkg-config --modversion hdf5 2>/dev/null || echo unknown) (system, used by Accord)"
echo "python:      $("$PYTHON" -c 'import sys, ismrmrd, h5py, numpy
from importlib.metadata import version
print(sys.version.split()[0], "ismrmrd", version("ismrmrd"), "h5py", h5py.__version__,
      "(HDF5", h5py.version.hdf5_version + ")", "numpy", numpy.__version__)')"
echo "load before: $load_before"
cache_before=$(cached)
echo "page cache:  $cache_before (before the warm-up runs)"
if awk -v l="${load_before%% *}" -v n="$(nproc)" 'BEGIN {exit !(l > n / 2)}'; then
  echo "warning: 1-minute load average ${load_before%% *} on $(nproc) CPUs: something else is running; timings will be noisy" >&2
fi

# --- timing -------------------------------------------------------------------------------
# Each tool prints one line per run, seconds first; the first line of read_all is its warm-up.
echo "== accord read_all (fast path): 1 warm-up + $RUNS runs"
accord_out=$("$READ_ALL" "$FILE" --repeat $((RUNS + 1)))
echo "warm-up: $(head -n1 <<<"$accord_out")"
accord_out=$(tail -n +2 <<<"$accord_out")
echo "$accord_out"
echo "page cache:  $(cached) (after the Accord runs)"

echo "== ismrmrd-python read_acquisition loop: 1 warm-up + $PY_LOOP_RUNS runs"
loop_out=$("$PYTHON" benches/ismrmrd_read.py "$FILE" --mode loop --runs "$PY_LOOP_RUNS" --warmup 1)
echo "$loop_out"

echo "== h5py bulk dataset[:]: 1 warm-up + $RUNS runs; page cache $(cached)"
h5py_out=$("$PYTHON" benches/ismrmrd_read.py "$FILE" --mode h5py --runs "$RUNS" --warmup 1)
echo "$h5py_out"

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load after:  $load_after"
cache_after=$(cached)
echo "page cache:  $cache_after (after)"
echo "memory:      $(mem_line)"

# --- summary ------------------------------------------------------------------------------
# median and min of the first column
stats() { awk '{print $1}' | sort -g | awk '{v[NR]=$1} END {m = NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2; printf "%.6f %.6f %d\n", m, v[1], NR}'; }
# acquisitions and sample bytes must be the same for every run of every tool
check_counts() {
  local got
  got=$(awk '{print $2, $3}' <<<"$2" | sort -u)
  if [[ "$got" != "$ref_counts" ]]; then
    echo "error: $1 read '$got' (acquisitions sample_bytes), accord read '$ref_counts'" >&2
    exit 1
  fi
}
ref_counts=$(awk '{print $2, $3}' <<<"$accord_out" | sort -u)
[[ $(wc -l <<<"$ref_counts") -eq 1 ]] || { echo "error: accord runs disagree: $ref_counts" >&2; exit 1; }
check_counts "ismrmrd-python loop" "$loop_out"
check_counts "h5py bulk" "$h5py_out"
read -r acqs sample_bytes <<<"$ref_counts"

read -r a_med a_min a_n <<<"$(stats <<<"$accord_out")"
read -r l_med l_min l_n <<<"$(stats <<<"$loop_out")"
read -r h_med h_min h_n <<<"$(stats <<<"$h5py_out")"

row() { # name runs median min
  awk -v name="$1" -v n="$2" -v med="$3" -v min="$4" -v bytes="$sample_bytes" -v ref="$a_med" \
    'BEGIN {printf "| %s | %d | %.3f | %.3f | %.0f | %.2f× |\n", name, n, med, min, bytes/med/1e6, med/ref}'
}
echo
echo "## ismrmrd read: ${BENCH_MB} MiB of samples, ${acqs} acquisitions, chunk 1, warm page cache"
echo
echo "$(nproc) × ${cpu_model:-unknown CPU}; load average ${load_before} before, ${load_after} after;"
echo "file in page cache: ${cache_before} before the warm-ups, ${cache_after} at the end."
echo
echo "| tool | runs | median s | min s | MB/s (median) | Accord speed-up (their median / Accord's) |"
echo "|---|---:|---:|---:|---:|---:|"
row "Accord \`read_all_acquisitions\` (fast path)" "$a_n" "$a_med" "$a_min"
row "ismrmrd-python \`read_acquisition(i)\` loop" "$l_n" "$l_med" "$l_min"
row "h5py \`['dataset/data'][:]\`" "$h_n" "$h_med" "$h_min"
