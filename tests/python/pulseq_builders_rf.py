#!/usr/bin/env python3
"""Reference values for Accord's RF, ADC and misc builders (seq/src/build/rf.rs, misc.rs), computed
with pypulseq. Writes seq/tests/data/builders_rf.json, read by seq/tests/builders_rf.rs.

Run: /tmp/ppvenv/bin/python tests/python/pulseq_builders_rf.py   (pypulseq==1.5.0.post1)

Times are stored in integer ns (pypulseq's seconds rounded to the nearest ns), amplitudes in Hz
and Hz/m. RF signals are stored compactly: count, peak |s|, complex sum, L2 norm, energy and a
subset of samples (every k-th plus the peak); the block, arbitrary and one sinc case store
every sample.
"""

import json
import math
import os
import warnings

import numpy as np
import pypulseq as pp

warnings.filterwarnings("ignore")

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "seq", "tests", "data", "builders_rf.json")

SYSTEMS = {
    "default": pp.Opts(),
    # Accord's System::siemens_like()
    "siemens": pp.Opts(
        max_grad=28,
        grad_unit="mT/m",
        max_slew=150,
        slew_unit="T/m/s",
        rf_dead_time=100e-6,
        rf_ringdown_time=30e-6,
        adc_dead_time=10e-6,
        B0=3.0,
    ),
}


def ns(t):
    return int(round(float(t) * 1e9))


def energy(rf):
    """∫|B1|² dt with each sample held between the midpoints to its neighbours (rf_energy)."""
    t = np.asarray(rf.t, dtype=float)
    s2 = np.abs(np.asarray(rf.signal)) ** 2
    mid = 0.5 * (t[1:] + t[:-1])
    lo = np.concatenate([[0.0], mid])
    hi = np.concatenate([mid, [rf.shape_dur]])
    return float(np.sum(s2 * np.clip(np.minimum(hi, rf.shape_dur) - np.maximum(lo, 0.0), 0, None)))


def rf_dict(rf, full=False):
    s = np.asarray(rf.signal, dtype=complex)
    n = len(s)
    peak_i = int(np.argmax(np.abs(s)))
    step = max(1, n // 16)
    idx = sorted(set(list(range(0, n, step)) + [n - 1, peak_i]))
    if full:
        idx = list(range(n))
    c, ci = pp.calc_rf_center(rf)
    return {
        "n": n,
        "shape_dur_ns": ns(rf.shape_dur),
        "delay_ns": ns(rf.delay),
        "center_ns": ns(rf.center),
        "center_exact_s": float(rf.center),
        "center_index": int(ci),
        "dead_time_ns": ns(rf.dead_time),
        "ringdown_ns": ns(rf.ringdown_time),
        "use": getattr(rf, "use", "undefined"),
        "freq_offset": float(rf.freq_offset),
        "phase_offset": float(rf.phase_offset),
        "t_first": float(rf.t[0]),
        "t_last": float(rf.t[-1]),
        "peak": float(np.max(np.abs(s))),
        "sum": [float(np.sum(s).real), float(np.sum(s).imag)],
        "l2": float(np.linalg.norm(s)),
        "energy": energy(rf),
        "samples": [[i, float(s[i].real), float(s[i].imag)] for i in idx],
    }


def trap_dict(g):
    return {
        "amplitude": float(g.amplitude),
        "area": float(g.area),
        "flat_area": float(g.flat_area),
        "rise_ns": ns(g.rise_time),
        "flat_ns": ns(g.flat_time),
        "fall_ns": ns(g.fall_time),
        "delay_ns": ns(g.delay),
    }


cases = []


def add(name, func, system, args, expect):
    cases.append({"name": name, "func": func, "system": system, "args": args, "expect": expect})


def shaped(name, func, system, args, full=False):
    """sinc / gauss: args in Accord units (ns, rad, m)."""
    sysobj = SYSTEMS[system]
    kw = dict(
        flip_angle=args["flip"],
        duration=args["duration_ns"] * 1e-9,
        time_bw_product=args.get("tbw", 4.0),
        apodization=args.get("apodization", 0.0),
        center_pos=args.get("center_pos", 0.5),
        delay=args.get("delay_ns", 0) * 1e-9,
        freq_offset=args.get("freq_offset", 0.0),
        phase_offset=args.get("phase_offset", 0.0),
        use=args.get("use", "undefined"),
        system=sysobj,
    )
    if "dwell_ns" in args:
        kw["dwell"] = args["dwell_ns"] * 1e-9
    if "max_grad" in args:
        kw["max_grad"] = args["max_grad"]
    if "max_slew" in args:
        kw["max_slew"] = args["max_slew"]
    f = pp.make_sinc_pulse if func == "sinc" else pp.make_gauss_pulse
    if "slice" in args:
        rf, gz, gzr = f(**kw, slice_thickness=args["slice"], return_gz=True)
        exp = {"rf": rf_dict(rf, full), "gz": trap_dict(gz), "gz_reph": trap_dict(gzr)}
    else:
        rf = f(**kw)
        exp = {"rf": rf_dict(rf, full)}
    add(name, func, system, args, exp)


# --- sinc
shaped("sinc_90_default", "sinc", "default", {"flip": math.pi / 2, "duration_ns": 4_000_000})
shaped("sinc_30_slice_hann", "sinc", "default",
       {"flip": math.radians(30), "duration_ns": 3_000_000, "apodization": 0.5, "slice": 5e-3})
shaped("sinc_90_siemens_slice", "sinc", "siemens",
       {"flip": math.pi / 2, "duration_ns": 2_000_000, "tbw": 2.7, "apodization": 0.5, "slice": 3e-3,
        "use": "excitation"})
shaped("sinc_180_refocus_offsets", "sinc", "siemens",
       {"flip": math.pi, "duration_ns": 2_500_000, "slice": 4e-3, "phase_offset": math.pi / 2,
        "freq_offset": 250.0, "use": "refocusing", "delay_ns": 250_000})
shaped("sinc_center03_dwell2us", "sinc", "default",
       {"flip": math.radians(20), "duration_ns": 1_000_000, "tbw": 2.0, "center_pos": 0.3, "dwell_ns": 2000},
       full=True)
shaped("sinc_limits_slice", "sinc", "default",
       {"flip": math.radians(15), "duration_ns": 1_200_000, "tbw": 6.0, "slice": 8e-3,
        "max_grad": 20e-3 * 42.576e6, "max_slew": 100 * 42.576e6})
shaped("sinc_slice_asym", "sinc", "default",
       {"flip": math.radians(60), "duration_ns": 2_000_000, "tbw": 4.0, "slice": 6e-3, "center_pos": 0.35,
        "delay_ns": 35_000})
# --- gauss
shaped("gauss_90_default", "gauss", "default", {"flip": math.pi / 2, "duration_ns": 4_000_000})
shaped("gauss_45_slice_siemens", "gauss", "siemens",
       {"flip": math.radians(45), "duration_ns": 2_000_000, "apodization": 0.3, "slice": 5e-3})
shaped("gauss_10_tbw3", "gauss", "default",
       {"flip": math.radians(10), "duration_ns": 1_000_000, "tbw": 3.0, "freq_offset": -120.0})


# --- block
def block(name, system, args):
    sysobj = SYSTEMS[system]
    kw = dict(flip_angle=args["flip"], system=sysobj, delay=args.get("delay_ns", 0) * 1e-9,
              use=args.get("use", "undefined"), phase_offset=args.get("phase_offset", 0.0))
    if "duration_ns" in args:
        kw["duration"] = args["duration_ns"] * 1e-9
    if "bandwidth" in args:
        kw["bandwidth"] = args["bandwidth"]
    if "tbw" in args:
        kw["time_bw_product"] = args["tbw"]
    rf = pp.make_block_pulse(**kw)
    add(name, "block", system, args, {"rf": rf_dict(rf, full=True)})


block("block_90_500us", "default", {"flip": math.pi / 2, "duration_ns": 500_000})
block("block_180_bw1000", "default", {"flip": math.pi, "bandwidth": 1000.0, "use": "refocusing"})
block("block_30_bw_tbw_siemens", "siemens", {"flip": math.radians(30), "bandwidth": 2000.0, "tbw": 2.0,
                                             "delay_ns": 50_000, "phase_offset": 0.3})
block("block_default_4ms", "default", {"flip": math.radians(5)})
block("block_odd_333us", "siemens", {"flip": math.radians(8), "duration_ns": 333_000, "delay_ns": 120_000})


# --- adiabatic
def adiabatic(name, system, args, gzr_fixed=True):
    sysobj = SYSTEMS[system]
    kw = dict(pulse_type=args["kind"], duration=args["duration_ns"] * 1e-9, system=sysobj,
              delay=args.get("delay_ns", 0) * 1e-9)
    if args["kind"] == "hypsec":
        kw.update(beta=args["beta"], mu=args["mu"])
    else:
        kw.update(n_fac=args["n_fac"], bandwidth=args["bandwidth"])
    exp = {}
    if "slice" in args:
        rf, gz, gzr = pp.make_adiabatic_pulse(**kw, slice_thickness=args["slice"], return_gz=True)
        exp["gz"] = trap_dict(gz)
        # pypulseq 1.5 uses the centre in seconds as center_pos in the rephaser area; Accord uses
        # the fraction of the duration. Reference: pypulseq's make_trapezoid with the fixed area.
        bw = args["mu"] * args["beta"] / np.pi if args["kind"] == "hypsec" else args["bandwidth"]
        area = bw / args["slice"] * kw["duration"]
        cpos = rf.center / kw["duration"]
        gzr2 = pp.make_trapezoid(channel="z", system=sysobj, area=-area * (1 - cpos) - 0.5 * (gz.area - area))
        exp["gz_reph"] = trap_dict(gzr2)
        exp["gz_reph_pypulseq"] = trap_dict(gzr)
    else:
        rf = pp.make_adiabatic_pulse(**kw)
    exp["rf"] = rf_dict(rf)
    add(name, "adiabatic", system, args, exp)


adiabatic("hypsec_default", "default", {"kind": "hypsec", "beta": 800.0, "mu": 4.9, "duration_ns": 10_000_000})
adiabatic("hypsec_slice_siemens", "siemens",
          {"kind": "hypsec", "beta": 1000.0, "mu": 5.0, "duration_ns": 8_000_000, "slice": 10e-3})
adiabatic("wurst_default", "default", {"kind": "wurst", "n_fac": 40.0, "bandwidth": 40000.0, "duration_ns": 10_000_000})
adiabatic("wurst_padded", "default", {"kind": "wurst", "n_fac": 20.0, "bandwidth": 10000.0, "duration_ns": 5_002_000})


# --- arbitrary
def arbitrary(name, system, args, signal):
    sysobj = SYSTEMS[system]
    kw = dict(signal=signal, flip_angle=args["flip"], system=sysobj, no_signal_scaling=args.get("no_scaling", False),
              delay=args.get("delay_ns", 0) * 1e-9)
    if "slice" in args:
        rf, gz = pp.make_arbitrary_rf(**kw, bandwidth=args["bandwidth"], slice_thickness=args["slice"], return_gz=True)
        exp = {"rf": rf_dict(rf, full=True), "gz": trap_dict(gz)}
    else:
        rf = pp.make_arbitrary_rf(**kw)
        exp = {"rf": rf_dict(rf, full=True)}
    args = dict(args)
    args["signal"] = [[float(z.real), float(z.imag)] for z in np.asarray(signal, dtype=complex)]
    add(name, "arbitrary", system, args, exp)


k = np.arange(200)
hann_sinc = (0.5 - 0.5 * np.cos(2 * np.pi * (k + 0.5) / 200)) * np.sinc((k + 0.5 - 100) / 25)
arbitrary("arb_hann_sinc_90", "default", {"flip": math.pi / 2}, hann_sinc)
arbitrary("arb_slice_siemens", "siemens", {"flip": math.radians(40), "slice": 5e-3, "bandwidth": 2000.0}, hann_sinc)
chirp = 100.0 * np.exp(1j * 2 * np.pi * 0.01 * (np.arange(60) - 30) ** 2 / 2) * np.hanning(60)
arbitrary("arb_complex_noscale", "default", {"flip": 0.0, "no_scaling": True, "delay_ns": 20_000}, chirp)


# --- adc
def adc(name, system, args):
    sysobj = SYSTEMS[system]
    kw = dict(num_samples=args["n"], system=sysobj, delay=args.get("delay_ns", 0) * 1e-9,
              freq_offset=args.get("freq_offset", 0.0), phase_offset=args.get("phase_offset", 0.0))
    if "dwell_ns" in args:
        kw["dwell"] = args["dwell_ns"] * 1e-9
    if "duration_ns" in args:
        kw["duration"] = args["duration_ns"] * 1e-9
    a = pp.make_adc(**kw)
    add(name, "adc", system, args, {
        "num_samples": int(a.num_samples), "dwell_ns": ns(a.dwell), "delay_ns": ns(a.delay),
        "dead_time_ns": ns(a.dead_time), "freq_offset": float(a.freq_offset),
        "phase_offset": float(a.phase_offset), "calc_duration_ns": ns(pp.calc_duration(a)),
    })


adc("adc_256_dwell10us", "default", {"n": 256, "dwell_ns": 10_000})
adc("adc_128_duration_siemens", "siemens", {"n": 128, "duration_ns": 2_560_000})
adc("adc_100_offsets", "siemens", {"n": 100, "dwell_ns": 3_200, "delay_ns": 50_000, "freq_offset": 312.5,
                                   "phase_offset": 1.25})

# --- delay, labels, triggers, soft delay
d = pp.make_delay(10e-3)
add("delay_10ms", "delay", "default", {"d_ns": 10_000_000}, {"calc_duration_ns": ns(pp.calc_duration(d))})
for lab, op, val in [("LIN", "SET", 5), ("SLC", "INC", 1), ("NAV", "SET", 1), ("TRID", "INC", 2), ("ONCE", "SET", 2)]:
    lb = pp.make_label(label=lab, type=op, value=val)
    add(f"label_{lab}_{op}", "label", "default", {"label": lab, "op": op, "value": val},
        {"label": lb.label, "type": lb.type, "value": int(lb.value)})
for ch, dl, du in [("physio1", 0, 0), ("physio2", 20_000, 2_000_000)]:
    tr = pp.make_trigger(channel=ch, delay=dl * 1e-9, duration=du * 1e-9, system=SYSTEMS["default"])
    add(f"trigger_{ch}", "trigger", "default", {"channel": ch, "delay_ns": dl, "duration_ns": du},
        {"delay_ns": ns(tr.delay), "duration_ns": ns(tr.duration), "calc_duration_ns": ns(pp.calc_duration(tr))})
for ch, dl, du in [("osc0", 0, 4_000_000), ("ext1", 100_000, 5_000)]:
    tr = pp.make_digital_output_pulse(channel=ch, delay=dl * 1e-9, duration=du * 1e-9, system=SYSTEMS["default"])
    add(f"output_{ch}", "output", "default", {"channel": ch, "delay_ns": dl, "duration_ns": du},
        {"delay_ns": ns(tr.delay), "duration_ns": ns(tr.duration), "calc_duration_ns": ns(pp.calc_duration(tr))})
sd = pp.make_soft_delay(hint="TE", numID=0, offset=-2e-3, factor=2.0, default_duration=5e-3)
add("soft_delay_TE", "soft_delay", "default",
    {"hint": "TE", "num_id": 0, "offset_ns": -2_000_000, "factor": 2.0, "default_ns": 5_000_000},
    {"hint": sd.hint, "num_id": sd.numID, "offset_ns": ns(sd.offset), "factor": sd.factor,
     "default_ns": ns(sd.default_duration)})

doc = {
    "generator": "tests/python/pulseq_builders_rf.py",
    "pypulseq_version": pp.__version__,
    "numpy_version": np.__version__,
    "cases": cases,
}
os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, "w") as fh:
    json.dump(doc, fh, separators=(",", ":"))
    fh.write("\n")
print(f"wrote {len(cases)} cases to {os.path.normpath(OUT)}")
