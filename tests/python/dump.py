#!/usr/bin/env python3
"""Everything ismrmrd-python reads from a file, as JSON, for the interoperability tests.

Usage: dump.py FILE [GROUP]

acquisitions: count and a SHA-256 over, for each acquisition in order, its packed 340-byte
header (getHead), its trajectory as little-endian float32 and its samples as little-endian
complex64 — so two readers agree only if they read every bit the same. Images and waveforms
(small in the tests) are listed value by value.
"""
import hashlib
import json
import sys

import numpy as np
import ismrmrd


def fields(head):
    out = {}
    for name, _ in head._fields_:
        v = getattr(head, name)
        if hasattr(v, "_length_"):
            v = list(v)
        elif hasattr(v, "_fields_"):
            v = fields(v)
        out[name] = v
    return out


def values(arr):
    """Array values in C order; complex values as [re, im]."""
    flat = np.ascontiguousarray(arr).ravel()
    if np.iscomplexobj(flat):
        return [[float(v.real), float(v.imag)] for v in flat]
    return [float(v) for v in flat]


def update_with_acquisition(h, acq):
    """Feeds one acquisition to hash `h`: packed header, trajectory (<f4), samples (<c8)."""
    h.update(bytes(acq.getHead()))
    h.update(np.ascontiguousarray(acq.traj, dtype="<f4").tobytes())
    h.update(np.ascontiguousarray(acq.data, dtype="<c8").tobytes())


def text(x):
    """A string whether the ismrmrd package hands back str or bytes."""
    return x.decode() if isinstance(x, bytes) else x


def main():
    fname = sys.argv[1]
    group = sys.argv[2] if len(sys.argv) > 2 else "dataset"
    ds = ismrmrd.Dataset(fname, group, mode="r")
    keys = list(ds.list())
    out = {"xml": None, "acquisitions": 0, "acquisitions_sha256": None, "images": {}, "waveforms": []}
    if "xml" in keys:
        out["xml"] = text(ds.read_xml_header())
    if "data" in keys:
        h = hashlib.sha256()
        n = ds.number_of_acquisitions()
        for i in range(n):
            update_with_acquisition(h, ds.read_acquisition(i))
        out["acquisitions"] = n
        out["acquisitions_sha256"] = h.hexdigest()
    for key in keys:
        obj = ds._dataset[key]
        if hasattr(obj, "keys") and "header" in obj and "data" in obj:
            imgs = []
            for i in range(ds.number_of_images(key)):
                im = ds.read_image(key, i)
                d = np.asarray(im.data)
                imgs.append({
                    "header": fields(im.getHead()),
                    "attributes": text(im.attribute_string),
                    "shape": list(d.shape),
                    "values": values(d),
                })
            out["images"][key] = imgs
    if "waveforms" in keys:
        for i in range(ds.number_of_waveforms()):
            w = ds.read_waveform(i)
            out["waveforms"].append({"header": fields(w.getHead()), "data": [int(v) for v in np.asarray(w.data).ravel()]})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
