"""Reads a .seq file with pypulseq and prints what Accord's interop test compares, as JSON.

Usage: pulseq_interop.py FILE.seq
Output: {"pypulseq": version, "n_blocks", "duration_s", "timing_ok", "timing_errors" (first 20
as text), "t_excitation", "t_refocusing", "t_adc" (first/last 64), "k_adc" ([3][n] all samples)}.
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
    "k_adc": np.asarray(k_adc, dtype=float).tolist(),
}))
