"""Reads a .seq file with pypulseq and prints what Accord's interop test compares, as JSON.

Usage: pulseq_interop.py FILE.seq
Output: {"pypulseq": version, "n_blocks", "duration_s", "timing_ok", "timing_errors" (first 20
as text), "t_excitation", "t_refocusing", "t_adc" (first/last 64), "k_adc" ([3][n] all samples),
"k_adc_exact"}. Large files: k is given at every `k_stride`-th sample (at most ~200 000 samples
per axis), plus per-axis sum, L2, min and max over all samples ("k_stats", "k_stats_exact"). Everything comes from the default `Sequence().read(path)` except "k_adc_exact",
which comes from `read(path, remove_duplicates=False)`: the default reader rounds every event
library to 6 significant digits (`EventLibrary.remove_duplicates`), e.g. a 151515.15151515152
Hz/m blip becomes 151515.0, which shifts k-space by up to a few 1e-6 of |k|max.
"""
import json
import sys
import warnings

import numpy as np
import pypulseq as pp

warnings.simplefilter("ignore")

seq = pp.Sequence()
seq.read(sys.argv[1])
ok, report = seq.check_timing()
k_adc, k_all, t_exc, t_ref, t_adc = seq.calculate_kspace()
exact = pp.Sequence()
exact.read(sys.argv[1], remove_duplicates=False)
k_adc_exact = exact.calculate_kspace()[0]
n = np.asarray(k_adc).shape[1]
stride = max(1, -(-n // 200_000))


def stats(k):
    k = np.asarray(k, dtype=float)
    return {"sum": k.sum(axis=1).tolist(), "l2": np.sqrt((k * k).sum(axis=1)).tolist(),
            "min": k.min(axis=1).tolist(), "max": k.max(axis=1).tolist()}


print(json.dumps({
    "pypulseq": pp.__version__ if hasattr(pp, "__version__") else "unknown",
    "n_blocks": len(seq.block_events),
    "duration_s": float(seq.duration()[0]),
    "timing_ok": bool(ok),
    "timing_errors": [str(e) for e in report[:20]],
    "t_excitation": np.asarray(t_exc, dtype=float).tolist(),
    "t_refocusing": np.asarray(t_ref, dtype=float).tolist(),
    "t_adc_n": int(np.asarray(t_adc).size),
    "t_adc_first64": np.asarray(t_adc, dtype=float)[:64].tolist(),
    "t_adc_last64": np.asarray(t_adc, dtype=float)[-64:].tolist(),
    "k_stride": stride,
    "k_adc": np.asarray(k_adc, dtype=float)[:, ::stride].tolist(),
    "k_adc_exact": np.asarray(k_adc_exact, dtype=float)[:, ::stride].tolist(),
    "k_stats": stats(k_adc),
    "k_stats_exact": stats(k_adc_exact),
}))
