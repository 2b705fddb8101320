#!/usr/bin/env python3
"""Python side of benches/ismrmrd_read.sh: times reading every acquisition of an ISMRMRD file.

Modes:
  loop  ismrmrd-python: Dataset(file, 'dataset', mode='r') + read_acquisition(i) for every i,
        the acquisitions kept in a list (the documented way to read a file with ismrmrd-python).
  h5py  h5py bulk: h5py.File(file, 'r')['dataset/data'][:] (one structured array; the vlen
        payloads become one numpy array per record; nothing else is materialised).

Each run opens the file, reads everything into memory and closes it. After --warmup untimed
runs (reported on stderr), prints one line per timed run on stdout:
`seconds acquisitions sample_bytes` (seconds first, like examples/read_all.rs).
"""

import argparse
import sys
import time


def run_loop(path):
    import ismrmrd

    t = time.perf_counter()
    ds = ismrmrd.Dataset(path, "dataset", mode="r")
    n = ds.number_of_acquisitions()
    acqs = [ds.read_acquisition(i) for i in range(n)]
    ds.close()
    secs = time.perf_counter() - t
    return secs, len(acqs), sum(a.data.nbytes for a in acqs)


def run_h5py(path):
    import h5py

    t = time.perf_counter()
    with h5py.File(path, "r") as f:
        arr = f["dataset/data"][:]
    secs = time.perf_counter() - t
    return secs, len(arr), sum(d.nbytes for d in arr["data"])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", help="ISMRMRD HDF5 file with a 'dataset' group")
    p.add_argument("--mode", choices=["loop", "h5py"], required=True)
    p.add_argument("--runs", type=int, default=5, help="timed runs (default 5)")
    p.add_argument("--warmup", type=int, default=1, help="untimed runs first (default 1)")
    args = p.parse_args()
    run = run_loop if args.mode == "loop" else run_h5py
    for i in range(args.warmup + args.runs):
        secs, n, nbytes = run(args.file)
        line = f"{secs:.6f} {n} {nbytes}"
        if i < args.warmup:
            print(f"warm-up: {line}", file=sys.stderr)
        else:
            print(line, flush=True)


if __name__ == "__main__":
    main()
