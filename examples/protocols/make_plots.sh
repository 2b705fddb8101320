#!/usr/bin/env bash
# Regenerates the sequence diagrams examples/protocols/*.png: builds every example protocol with
# seqgen into a temporary folder and draws a window of it with `accord seq plot`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
cargo build -q --release --bin seqgen --bin accord
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
window() {
  case $1 in
    gre) echo "--time 0..25ms" ;;
    gre3d) echo "--time 0..20ms" ;;
    mprage) echo "--blocks 1..14" ;;
    se) echo "--time 0..30ms" ;;
    tse) echo "--time 0..70ms" ;;
    t2map) echo "--time 0..110ms" ;;
    epi) echo "--time 0..45ms" ;;
    t1map) echo "--time 0..75ms" ;;
    t1map_irgre) echo "--blocks 1..18" ;;
    t1map_vfa) echo "--time 0..20ms" ;;
    *) echo "--blocks 1..20" ;;
  esac
}
for p in examples/protocols/*.toml; do
  name=$(basename "$p" .toml)
  target/release/seqgen --protocol "$p" -o "$tmp/$name.seq" --quiet
  # shellcheck disable=SC2046
  target/release/accord seq plot "$tmp/$name.seq" -o "examples/protocols/$name.png" --force $(window "$name")
  echo "examples/protocols/$name.png"
done
