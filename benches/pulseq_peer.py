"""pypulseq side of benches/pulseq_compare.sh.

  pulseq_peer.py read FILE.seq          -> seconds of Sequence().read(FILE)
  pulseq_peer.py build FILE.seq OUT.seq -> seconds to build the same sequence block by block
                                           (add_block of every block's events) and write it

`build` replays a sequence Accord's seqgen wrote: the events of every block are taken from
pypulseq's own reading of the file before the clock starts, so the timed part is pypulseq's
add_block (event registration, de-duplication, checks) for exactly the same blocks, plus
Sequence.write (1.5, signature). The make_* calls a pypulseq script would also spend time in are
not counted, which favours pypulseq. Prints: seconds blocks.
"""
import sys
import time
import warnings

import pypulseq as pp

warnings.simplefilter("ignore")


def block_events(b):
    """The events of a block as get_block returns them, in add_block's argument form."""
    evs = [getattr(b, n) for n in ("rf", "gx", "gy", "gz", "adc") if getattr(b, n, None) is not None]
    for name in ("label", "trigger", "soft_delay", "rotation"):
        e = getattr(b, name, None)
        if e:
            evs.extend(e.values() if isinstance(e, dict) else (e if isinstance(e, list) else [e]))
    return evs


def main():
    mode, path = sys.argv[1], sys.argv[2]
    if mode == "read":
        t0 = time.perf_counter()
        seq = pp.Sequence()
        seq.read(path)
        dt = time.perf_counter() - t0
        print(f"{dt:.6f} {len(seq.block_events)}")
        return
    src = pp.Sequence()
    src.read(path)
    system = pp.Opts(
        grad_raster_time=src.grad_raster_time,
        rf_raster_time=src.rf_raster_time,
        adc_raster_time=src.adc_raster_time,
        block_duration_raster=src.block_duration_raster,
        max_grad=1e12,
        max_slew=1e20,
    )
    blocks = []
    for i in src.block_events:
        b = src.get_block(i)
        blocks.append((block_events(b), b.block_duration))
    t0 = time.perf_counter()
    seq = pp.Sequence(system)
    for evs, dur in blocks:
        longest = pp.calc_duration(*evs) if evs else 0.0
        if dur > longest + 1e-9:
            evs = evs + [pp.make_delay(dur)]
        seq.add_block(*evs)
    seq.write(sys.argv[3])
    dt = time.perf_counter() - t0
    print(f"{dt:.6f} {len(seq.block_events)}")


if __name__ == "__main__":
    main()
