#!/usr/bin/env bash
# Side by side, same machine, one run: Accord's reconstruction vs BART 0.8 (ESPIRiT, CG-SENSE,
# l1-wavelet CS) and pygrappa 0.26.3 (GRAPPA), on the problems of
# tests/data/provenance/bench_bart.json, synthesised here (examples/recon_bench.rs gen):
#
#   b2 : 320x320, 32 coils, R=4 uniform + 24 ACS lines      (bench_bart.json bart_2d_320_32c_R4)
#   g2 : 192x192,  8 coils, R=2 + 24 ACS lines               (sl_r2-sized, no readout oversampling)
#   g4 : 192x192,  8 coils, R=4 + 32 ACS lines               (sl_r4-sized)
#   b3 : 128x128x64, 16 coils, bart poisson R=6.3 + 24x24 ACS (bench_bart.json bart_3d_128x128x64_16c_cs)
#
#   benches/recon_compare.sh        (PYTHON=.venv/bin/python with numpy, scipy, pygrappa)
#
# BART side: the reference commands, CLI wall clock per fresh process (start-up and .cfl I/O
# included), OMP_NUM_THREADS=2:
#   bart ecalib -m1 -r 24 K S;  bart pics -S -l2 -r 0.001 -i 50 K S X;
#   bart pics -S -n -R W:3:0:0.005 -i 100 K S X
# and on b3: bart caldir 24 K S; bart pics -S -l2 -r 0.001 -i 30 K S X;
#   bart pics -S -n -R W:7:0:0.005 -i 50 K S X
# and, on both problems, the CS again with random cycle spinning on both sides (BART without -n,
# Accord with random_shift = true).
# pygrappa side: grappa(kspace, calib, kernel_size=(5,5), lamda=0.01), timed in-process around
# the call (benches/recon_peer.py).
# Accord side: `accord recon RAW.h5 --config C -o OUT.npy` wall clock (start-up, HDF5 read, .npy
# + sidecar write included) with its peak RSS (/usr/bin/time -v), and the same pipeline
# in-process (examples/recon_bench.rs time: no I/O). Configs: examples/recon/{sense,cs,grappa}
# .toml, and for ESPIRiT alone $BENCH_DIR/espirit.toml (ESPIRiT maps + sensitivity combination,
# written here; the combination is one FFT and a sum over coils).
# NRMSE of every image against the phantom ground truth |rho| sqrt(sum |S|^2) (recon_peer.py).
#
# Environment (defaults): PYTHON=.venv/bin/python, BART=bart, RUNS=3, SLOW_RUNS=1 (pygrappa on
# the 320^2 x 32-coil problem, minutes per run), CS_RUNS=RUNS (the CS rows; set 1 when a CS run
# takes more than ~30 s), BENCH_DIR=/tmp/accord-bench/recon,
# OMP_NUM_THREADS=2. Data are written to BENCH_DIR, never into the repository.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON=${PYTHON:-.venv/bin/python}
BART=${BART:-bart}
RUNS=${RUNS:-3}
SLOW_RUNS=${SLOW_RUNS:-1}
CS_RUNS=${CS_RUNS:-$RUNS}
BENCH_DIR=${BENCH_DIR:-/tmp/accord-bench/recon}
CARGO=${CARGO:-cargo}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || { echo "RUNS must be a positive integer" >&2; exit 2; }

# Peers: fail clearly, with the install command.
if ! command -v "$BART" >/dev/null 2>&1; then
  echo "error: BART not found ('$BART'); install it with:  sudo apt-get install -y bart  (or set BART=...)" >&2
  exit 2
fi
if ! "$PYTHON" -c 'import numpy, pygrappa' 2>/dev/null; then
  echo "error: $PYTHON cannot import numpy and pygrappa; install them with:" >&2
  echo "  python3 -m venv .venv && .venv/bin/pip install numpy scipy scikit-image tqdm pygrappa==0.26.3" >&2
  exit 2
fi
if [[ ! -x /usr/bin/time ]]; then
  echo "error: /usr/bin/time not found; install it with:  sudo apt-get install -y time" >&2
  exit 2
fi

"$CARGO" build -q --release --bin accord --example recon_bench
ACCORD="$TARGET_DIR/release/accord"
RB="$TARGET_DIR/release/examples/recon_bench"
mkdir -p "$BENCH_DIR"
D=$BENCH_DIR

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)" >&2
echo "bart $("$BART" version), $("$PYTHON" -c 'import numpy, pygrappa, importlib.metadata as m; print("numpy", numpy.__version__, "pygrappa", m.version("pygrappa"))'), OMP_NUM_THREADS=$OMP_NUM_THREADS, RUNS=$RUNS" >&2
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# Problems.
"$RB" gen "$D" b2 --n 320 --coils 32 --accel 4 --acs 24 >&2
"$RB" gen "$D" g2 --n 192 --coils 8 --accel 2 --acs 24 >&2
"$RB" gen "$D" g4 --n 192 --coils 8 --accel 4 --acs 32 >&2
cat >"$D/espirit.toml" <<'EOF'
# ESPIRiT maps alone (as `bart ecalib -m1 -r 24`, the settings of examples/recon/sense.toml),
# then the sensitivity-weighted coil combination (one inverse FFT, a sum over coils).
schema_version = 1

[[stage]]
kind = "sensitivities"
method = "espirit"
kernel = 6
threshold = 0.001
crop = 0.8

[[stage]]
kind = "combine"
method = "sensitivity"
EOF
cp examples/recon/sense.toml examples/recon/cs.toml examples/recon/grappa.toml "$D/"
# cs.toml with BART's default random cycle spinning (pics without -n).
sed 's/^algorithm = "fista"$/algorithm = "fista"\nrandom_shift = true/' "$D/cs.toml" >"$D/css.toml"

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# wall N LABEL CMD...: N fresh runs of CMD; prints "median_s max_rss_mib" (RSS from /usr/bin/time -v).
wall() {
  local n=$1 label=$2; shift 2
  local times=() rss=0 t0 t1 r
  for _ in $(seq "$n"); do
    t0=$(date +%s.%N)
    /usr/bin/time -v -o "$D/time.txt" "$@" >/dev/null 2>"$D/stderr.txt" || {
      echo "error: $label failed:" >&2; cat "$D/stderr.txt" >&2; exit 1; }
    t1=$(date +%s.%N)
    times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.4f", b - a}')")
    r=$(awk -F: '/Maximum resident set size/ {print $2 + 0}' "$D/time.txt")
    (( r > rss )) && rss=$r
  done
  local med; med=$(printf '%s\n' "${times[@]}" | median)
  printf '%-46s runs %-26s median %8.3f s  peak RSS %6.1f MiB\n' "$label" "${times[*]}" "$med" "$(awk -v r="$rss" 'BEGIN {print r/1024}')" >&2
  echo "$med $(awk -v r="$rss" 'BEGIN {printf "%.1f", r/1024}')"
}
# inproc N LABEL RAW CONFIG: the pipeline N times in one process; prints the median.
inproc() {
  local n=$1 label=$2; shift 2
  local line med
  line=$("$RB" time "$@" "$n") || { echo "error: $label failed" >&2; exit 1; }
  med=$(tr ' ' '\n' <<<"$line" | median)
  printf '%-46s runs %-26s median %8.3f s\n' "$label" "$line" "$med" >&2
  echo "$med"
}
pyrun() {  # pyrun LABEL ARGS...: recon_peer.py grappa; prints the median
  local label=$1; shift
  local line med
  line=$("$PYTHON" benches/recon_peer.py grappa "$@") || { echo "error: $label failed" >&2; exit 1; }
  med=$(tr ' ' '\n' <<<"$line" | median)
  printf '%-46s runs %-26s median %8.3f s\n' "$label" "$line" "$med" >&2
  echo "$med"
}
nrmse() { "$PYTHON" benches/recon_peer.py nrmse "$@"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2fx", a / b}'; }
first() { echo "${1%% *}"; }

# --- b2: ESPIRiT, CG-SENSE, CS --------------------------------------------------------------
echo "== b2 (320x320, 32 coils, R=4 + 24 ACS): BART" >&2
K="$D/b2_k"
b_ecalib=$(wall "$RUNS" "bart ecalib -m1 -r 24" "$BART" ecalib -m1 -r 24 "$K" "$D/b2_sens")
b_l2=$(wall "$RUNS" "bart pics -S -l2 -r 0.001 -i 50" "$BART" pics -S -l2 -r 0.001 -i 50 "$K" "$D/b2_sens" "$D/b2_bart_l2")
b_cs=$(wall "$CS_RUNS" "bart pics -S -n -R W:3:0:0.005 -i 100" "$BART" pics -S -n -R W:3:0:0.005 -i 100 "$K" "$D/b2_sens" "$D/b2_bart_cs")
echo "== b2: Accord (accord recon, whole process)" >&2
a_esp=$(wall "$RUNS" "accord recon espirit.toml" "$ACCORD" recon "$D/b2.h5" --config "$D/espirit.toml" -o "$D/b2_acc_maps.npy" --force --quiet)
a_l2=$(wall "$RUNS" "accord recon sense.toml (ESPIRiT + CG)" "$ACCORD" recon "$D/b2.h5" --config "$D/sense.toml" -o "$D/b2_acc_l2.npy" --force --quiet)
b_css=$(wall "$CS_RUNS" "bart pics -S -R W:3:0:0.005 -i 100 (spinning)" "$BART" pics -S -R W:3:0:0.005 -i 100 "$K" "$D/b2_sens" "$D/b2_bart_css")
a_css=$(wall "$CS_RUNS" "accord recon css.toml (cs.toml + random_shift)" "$ACCORD" recon "$D/b2.h5" --config "$D/css.toml" -o "$D/b2_acc_css.npy" --force --quiet)
a_cs=$(wall "$CS_RUNS" "accord recon cs.toml (ESPIRiT + FISTA)" "$ACCORD" recon "$D/b2.h5" --config "$D/cs.toml" -o "$D/b2_acc_cs.npy" --force --quiet)
echo "== b2: Accord in-process (pipeline::run, no I/O)" >&2
i_esp=$(inproc "$RUNS" "in-process espirit.toml" "$D/b2.h5" "$D/espirit.toml")
i_l2=$(inproc "$RUNS" "in-process sense.toml" "$D/b2.h5" "$D/sense.toml")
i_cs=$(inproc "$CS_RUNS" "in-process cs.toml" "$D/b2.h5" "$D/cs.toml")
read -r n_bl2 ns_bl2 <<<"$(nrmse "$D/b2_gt.npy" "$D/b2_bart_l2")"
read -r n_bcs ns_bcs <<<"$(nrmse "$D/b2_gt.npy" "$D/b2_bart_cs")"
read -r n_al2 ns_al2 <<<"$(nrmse "$D/b2_gt.npy" "$D/b2_acc_l2.npy")"
read -r n_acs ns_acs <<<"$(nrmse "$D/b2_gt.npy" "$D/b2_acc_cs.npy")"
read -r n_bcss ns_bcss <<<"$(nrmse "$D/b2_gt.npy" "$D/b2_bart_css")"
read -r n_acss ns_acss <<<"$(nrmse "$D/b2_gt.npy" "$D/b2_acc_css.npy")"
iters_l2=$(grep -o 'CG-SENSE, [0-9]* iterations' "$D/b2_acc_l2.json" | head -1 || true)
iters_cs=$(grep -oE 'FISTA( \([^)]*\))?, [0-9]+ iterations' "$D/b2_acc_cs.json" | head -1 || true)

# --- GRAPPA ---------------------------------------------------------------------------------
declare -A G
for p in g2 g4 b2; do
  case $p in
    g2) lo=84; hi=108; runs=$RUNS ;;
    g4) lo=80; hi=112; runs=$RUNS ;;
    b2) lo=148; hi=172; runs=$SLOW_RUNS ;;
  esac
  echo "== GRAPPA $p" >&2
  G[$p.py]=$(pyrun "pygrappa.grappa $p (runs: $runs)" "$D/${p}_k" "$runs" "$lo" "$hi" "$D/${p}_pygrappa.npy")
  w=$(wall "$RUNS" "accord recon grappa.toml $p" "$ACCORD" recon "$D/$p.h5" --config "$D/grappa.toml" -o "$D/${p}_acc_grappa.npy" --force --quiet)
  G[$p.cli]=$(first "$w"); G[$p.rss]=${w#* }
  G[$p.in]=$(inproc "$RUNS" "in-process grappa.toml $p" "$D/$p.h5" "$D/grappa.toml")
  read -r G[$p.npy] G[$p.nspy] <<<"$(nrmse "$D/${p}_gt.npy" "$D/${p}_pygrappa.npy")"
  read -r G[$p.nacc] G[$p.nsacc] <<<"$(nrmse "$D/${p}_gt.npy" "$D/${p}_acc_grappa.npy")"
done

# --- b3: 3-D CS and CG-SENSE (bench_bart.json bart_3d_128x128x64_16c_cs) ----------------------
# Maps from the 24^3 calibration block: BART `caldir 24` (direct calibration; 3-D ecalib is
# minutes with Debian's reference LAPACK), Accord's direct maps (method "direct", the same
# algorithm) on the same block; "maps" is Accord's maps + one sensitivity combination.
echo "== b3 (128x128x64, 16 coils, Poisson disc R=6.3 + 24x24 ACS)" >&2
"$BART" poisson -Y 128 -Z 64 -y 2.5 -z 2 -C 24 -v -e -s 7 "$D/b3_mask" >/dev/null
"$RB" gen3 "$D" b3 --mask "$D/b3_mask" --nx 128 --ny 128 --nz 64 --coils 16 --acs 24 >&2
for m in cs sense maps css; do
  {
    echo "# 3-D $m with direct maps from the 24x24 calibration block (written by recon_compare.sh)."
    echo "schema_version = 1"
    echo; echo "[[stage]]"; echo 'kind = "sensitivities"'; echo 'method = "direct"'
    echo; echo "[[stage]]"
    if [[ $m == maps ]]; then
      echo 'kind = "combine"'; echo 'method = "sensitivity"'
    elif [[ $m == cs* ]]; then
      echo 'kind = "cs"'; echo 'regulariser = "wavelet"'; echo "lambda = 0.005"
      echo "iterations = 50"; echo 'algorithm = "fista"'
      if [[ $m == css ]]; then echo "random_shift = true"; fi
    else
      echo 'kind = "sense"'; echo "lambda = 0.001"; echo "iterations = 30"
    fi
  } >"$D/${m}3.toml"
done
K3="$D/b3_k"
b3_cal=$(wall "$RUNS" "bart caldir 24" "$BART" caldir 24 "$K3" "$D/b3_sens")
b3_l2=$(wall "$CS_RUNS" "bart pics -S -l2 -r 0.001 -i 30" "$BART" pics -S -l2 -r 0.001 -i 30 "$K3" "$D/b3_sens" "$D/b3_bart_l2")
b3_cs=$(wall "$CS_RUNS" "bart pics -S -n -R W:7:0:0.005 -i 50" "$BART" pics -S -n -R W:7:0:0.005 -i 50 "$K3" "$D/b3_sens" "$D/b3_bart_cs")
a3_map=$(wall "$RUNS" "accord recon maps3.toml (direct maps)" "$ACCORD" recon "$D/b3.h5" --config "$D/maps3.toml" -o "$D/b3_acc_maps.npy" --force --quiet)
b3_css=$(wall "$CS_RUNS" "bart pics -S -R W:7:0:0.005 -i 50 (spinning)" "$BART" pics -S -R W:7:0:0.005 -i 50 "$K3" "$D/b3_sens" "$D/b3_bart_css")
a3_css=$(wall "$CS_RUNS" "accord recon css3.toml (cs3 + random_shift)" "$ACCORD" recon "$D/b3.h5" --config "$D/css3.toml" -o "$D/b3_acc_css.npy" --force --quiet)
a3_l2=$(wall "$CS_RUNS" "accord recon sense3.toml (direct + 30 CG)" "$ACCORD" recon "$D/b3.h5" --config "$D/sense3.toml" -o "$D/b3_acc_l2.npy" --force --quiet)
a3_cs=$(wall "$CS_RUNS" "accord recon cs3.toml (direct + 50 FISTA)" "$ACCORD" recon "$D/b3.h5" --config "$D/cs3.toml" -o "$D/b3_acc_cs.npy" --force --quiet)
i3_map=$(inproc "$RUNS" "in-process maps3.toml" "$D/b3.h5" "$D/maps3.toml")
i3_l2=$(inproc "$CS_RUNS" "in-process sense3.toml" "$D/b3.h5" "$D/sense3.toml")
i3_cs=$(inproc "$CS_RUNS" "in-process cs3.toml" "$D/b3.h5" "$D/cs3.toml")
read -r n3_bl2 ns3_bl2 <<<"$(nrmse "$D/b3_gt.npy" "$D/b3_bart_l2")"
read -r n3_bcs ns3_bcs <<<"$(nrmse "$D/b3_gt.npy" "$D/b3_bart_cs")"
read -r n3_al2 ns3_al2 <<<"$(nrmse "$D/b3_gt.npy" "$D/b3_acc_l2.npy")"
read -r n3_acs ns3_acs <<<"$(nrmse "$D/b3_gt.npy" "$D/b3_acc_cs.npy")"
read -r n3_bcss ns3_bcss <<<"$(nrmse "$D/b3_gt.npy" "$D/b3_bart_css")"
read -r n3_acss ns3_acss <<<"$(nrmse "$D/b3_gt.npy" "$D/b3_acc_css.npy")"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# --- memory: k-space + maps + image of b2 (complex64) ---------------------------------------
ref_mib=$(awk 'BEGIN {n = 320 * 320; printf "%.1f", (32 * n * 8 * 2 + n * 8) / 1048576}')
ref3_mib=$(awk 'BEGIN {n = 128 * 128 * 64; printf "%.1f", (16 * n * 8 * 2 + n * 8) / 1048576}')

# --- table ------------------------------------------------------------------------------------
cat <<EOF

| problem | Accord median (\`accord recon\`) | Accord in-process | peer | peer median | peer / Accord (CLI) | peer / Accord (in-process) | NRMSE Accord | NRMSE peer |
|---|---:|---:|---|---:|---:|---:|---:|---:|
| ESPIRiT b2 | $(first "$a_esp") s | $i_esp s | \`bart ecalib\` | $(first "$b_ecalib") s | $(ratio "$(first "$b_ecalib")" "$(first "$a_esp")") | $(ratio "$(first "$b_ecalib")" "$i_esp") | | |
| CG-SENSE b2 (ESPIRiT + 50 CG) | $(first "$a_l2") s | $i_l2 s | \`ecalib\` + \`pics -l2\` | $(awk -v a="$(first "$b_ecalib")" -v b="$(first "$b_l2")" 'BEGIN {print a + b}') s | $(ratio "$(awk -v a="$(first "$b_ecalib")" -v b="$(first "$b_l2")" 'BEGIN {print a + b}')" "$(first "$a_l2")") | $(ratio "$(awk -v a="$(first "$b_ecalib")" -v b="$(first "$b_l2")" 'BEGIN {print a + b}')" "$i_l2") | $n_al2 ($ns_al2) | $n_bl2 ($ns_bl2) |
| CG-SENSE b2, solve only | | $(awk -v a="$i_l2" -v b="$i_esp" 'BEGIN {printf "%.3f", a - b}') s ¹ | \`pics -l2 -i 50\` | $(first "$b_l2") s | | $(ratio "$(first "$b_l2")" "$(awk -v a="$i_l2" -v b="$i_esp" 'BEGIN {print a - b}')") | | |
| CS b2 (ESPIRiT + 100 FISTA) | $(first "$a_cs") s | $i_cs s | \`ecalib\` + \`pics -R W\` | $(awk -v a="$(first "$b_ecalib")" -v b="$(first "$b_cs")" 'BEGIN {print a + b}') s | $(ratio "$(awk -v a="$(first "$b_ecalib")" -v b="$(first "$b_cs")" 'BEGIN {print a + b}')" "$(first "$a_cs")") | $(ratio "$(awk -v a="$(first "$b_ecalib")" -v b="$(first "$b_cs")" 'BEGIN {print a + b}')" "$i_cs") | $n_acs ($ns_acs) | $n_bcs ($ns_bcs) |
| CS b2, solve only | | $(awk -v a="$i_cs" -v b="$i_esp" 'BEGIN {printf "%.3f", a - b}') s ¹ | \`pics -R W -i 100\` | $(first "$b_cs") s | | $(ratio "$(first "$b_cs")" "$(awk -v a="$i_cs" -v b="$i_esp" 'BEGIN {print a - b}')") | | |
EOF
b2_css_sum=$(awk -v a="$(first "$b_ecalib")" -v b="$(first "$b_css")" 'BEGIN {print a + b}')
echo "| CS b2 with random cycle spinning (both) | $(first "$a_css") s | | \`ecalib\` + \`pics -R W\` (no \`-n\`) | $b2_css_sum s | $(ratio "$b2_css_sum" "$(first "$a_css")") | | $n_acss ($ns_acss) | $n_bcss ($ns_bcss) |"
b3_sum() { awk -v a="$(first "$b3_cal")" -v b="$(first "$1")" 'BEGIN {print a + b}'; }
echo "| direct maps b3 | $(first "$a3_map") s | $i3_map s | \`caldir\` | $(first "$b3_cal") s | $(ratio "$(first "$b3_cal")" "$(first "$a3_map")") | $(ratio "$(first "$b3_cal")" "$i3_map") | | |"
echo "| CG-SENSE b3 (maps + 30 CG) | $(first "$a3_l2") s | $i3_l2 s | \`caldir\` + \`pics -l2\` | $(b3_sum "$b3_l2") s | $(ratio "$(b3_sum "$b3_l2")" "$(first "$a3_l2")") | $(ratio "$(b3_sum "$b3_l2")" "$i3_l2") | $n3_al2 ($ns3_al2) | $n3_bl2 ($ns3_bl2) |"
echo "| CS b3 (maps + 50 FISTA) | $(first "$a3_cs") s | $i3_cs s | \`caldir\` + \`pics -R W\` | $(b3_sum "$b3_cs") s | $(ratio "$(b3_sum "$b3_cs")" "$(first "$a3_cs")") | $(ratio "$(b3_sum "$b3_cs")" "$i3_cs") | $n3_acs ($ns3_acs) | $n3_bcs ($ns3_bcs) |"
echo "| CS b3 with random cycle spinning (both) | $(first "$a3_css") s | | \`caldir\` + \`pics -R W\` (no \`-n\`) | $(b3_sum "$b3_css") s | $(ratio "$(b3_sum "$b3_css")" "$(first "$a3_css")") | | $n3_acss ($ns3_acss) | $n3_bcss ($ns3_bcss) |"
for p in g2 g4 b2; do
  echo "| GRAPPA $p | ${G[$p.cli]} s | ${G[$p.in]} s | pygrappa | ${G[$p.py]} s | $(ratio "${G[$p.py]}" "${G[$p.cli]}") | $(ratio "${G[$p.py]}" "${G[$p.in]}") | ${G[$p.nacc]} (${G[$p.nsacc]}) | ${G[$p.npy]} (${G[$p.nspy]}) |"
done
cat <<EOF

¹ in-process sense/cs median minus in-process espirit median.
NRMSE: whole image (object support in brackets). Accord iterations: ${iters_l2:-?}; ${iters_cs:-?}.
Peak RSS (max over runs) of \`accord recon\` on b2: espirit $(echo "$a_esp" | cut -d' ' -f2) MiB, sense $(echo "$a_l2" | cut -d' ' -f2) MiB, cs $(echo "$a_cs" | cut -d' ' -f2) MiB, grappa ${G[b2.rss]} MiB; k-space + maps + image (complex64) = $ref_mib MiB (3x = $(awk -v r="$ref_mib" 'BEGIN {print 3 * r}') MiB). BART peak RSS: ecalib $(echo "$b_ecalib" | cut -d' ' -f2) MiB, pics -l2 $(echo "$b_l2" | cut -d' ' -f2) MiB, pics -R W $(echo "$b_cs" | cut -d' ' -f2) MiB.
Peak RSS on b3: Accord maps $(echo "$a3_map" | cut -d' ' -f2) MiB, sense $(echo "$a3_l2" | cut -d' ' -f2) MiB, cs $(echo "$a3_cs" | cut -d' ' -f2) MiB; k-space + maps + image = $ref3_mib MiB (3x = $(awk -v r="$ref3_mib" 'BEGIN {print 3 * r}') MiB). BART: caldir $(echo "$b3_cal" | cut -d' ' -f2) MiB, pics -l2 $(echo "$b3_l2" | cut -d' ' -f2) MiB, pics -R W $(echo "$b3_cs" | cut -d' ' -f2) MiB.
EOF
