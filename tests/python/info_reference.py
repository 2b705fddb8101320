#!/usr/bin/env python3
"""What ismrmrd-python reports for an ISMRMRD file, as the `accord info --json` object.

Usage: info_reference.py FILE [GROUP]

Uses only the ismrmrd package's own API (Dataset.read_xml_header / read_acquisition /
number_of_images / number_of_waveforms, ismrmrd.xsd.CreateFromDocument, ismrmrd.hdf5.fileinfo)
so the Rust summary can be checked against the reference implementation.
"""
import json
import sys

import ismrmrd
import ismrmrd.xsd

COUNTERS = ["kspace_encode_step_1", "kspace_encode_step_2", "average", "slice", "contrast",
            "phase", "repetition", "set", "segment"] + [f"user_{i}" for i in range(8)]


def flag_names():
    names = {}
    for name in dir(ismrmrd):
        if name.startswith("ACQ_") and isinstance(getattr(ismrmrd, name), int):
            names[getattr(ismrmrd, name)] = name
    return names


def main():
    fname = sys.argv[1]
    groups = [g for g in ismrmrd.hdf5.fileinfo(fname)]
    group = sys.argv[2] if len(sys.argv) > 2 else ("dataset" if "dataset" in groups else groups[0])
    ds = ismrmrd.Dataset(fname, group, mode="r")
    out = {"file": fname, "group": group, "groups": sorted(groups)}

    encodings, xml_valid = [], False
    try:
        xml = ds.read_xml_header()
        if isinstance(xml, bytes):
            xml = xml.decode()
        header = ismrmrd.xsd.CreateFromDocument(xml)
        xml_valid = True
        for e in header.encoding:
            pi = e.parallelImaging
            encodings.append({
                "trajectory": e.trajectory.value,
                "encoded_matrix": [e.encodedSpace.matrixSize.x, e.encodedSpace.matrixSize.y,
                                   e.encodedSpace.matrixSize.z],
                "recon_matrix": [e.reconSpace.matrixSize.x, e.reconSpace.matrixSize.y,
                                 e.reconSpace.matrixSize.z],
                "encoded_fov_mm": [e.encodedSpace.fieldOfView_mm.x, e.encodedSpace.fieldOfView_mm.y,
                                   e.encodedSpace.fieldOfView_mm.z],
                "recon_fov_mm": [e.reconSpace.fieldOfView_mm.x, e.reconSpace.fieldOfView_mm.y,
                                 e.reconSpace.fieldOfView_mm.z],
                "acceleration": None if pi is None else [
                    pi.accelerationFactor.kspace_encoding_step_1,
                    pi.accelerationFactor.kspace_encoding_step_2],
            })
    except LookupError:
        pass
    except Exception:  # the strict xsdata parser rejects the document
        xml_valid = False

    names = flag_names()
    n = ds.number_of_acquisitions() if "data" in ds.list() else 0
    counts = {"noise": 0, "cal": 0, "img": 0}
    channels, tdims, samples = 0, 0, None
    flags = {}
    ranges = None
    for i in range(n):
        acq = ds.read_acquisition(i)
        noise = acq.is_flag_set(ismrmrd.ACQ_IS_NOISE_MEASUREMENT)
        cal_only = acq.is_flag_set(ismrmrd.ACQ_IS_PARALLEL_CALIBRATION)
        cal = cal_only or acq.is_flag_set(ismrmrd.ACQ_IS_PARALLEL_CALIBRATION_AND_IMAGING)
        counts["noise"] += noise
        counts["cal"] += cal
        channels = max(channels, acq.active_channels)
        tdims = max(tdims, acq.trajectory_dimensions)
        ns = acq.number_of_samples
        samples = [ns, ns] if samples is None else [min(samples[0], ns), max(samples[1], ns)]
        for bit in range(64):
            if acq.flags >> bit & 1:
                name = names.get(bit + 1, f"ACQ_BIT_{bit + 1}")
                flags[name] = flags.get(name, 0) + 1
        if not noise and not cal_only:
            counts["img"] += 1
            idx = acq.idx
            vals = [getattr(idx, c) for c in COUNTERS[:9]] + list(idx.user)
            if ranges is None:
                ranges = [[v, v] for v in vals]
            else:
                ranges = [[min(r[0], v), max(r[1], v)] for r, v in zip(ranges, vals)]

    images = {}
    for key in ds.list():
        obj = ds._dataset[key]
        if hasattr(obj, "keys") and "header" in obj and "data" in obj:
            images[key] = ds.number_of_images(key)

    out.update({
        "acquisitions": n,
        "noise_acquisitions": counts["noise"],
        "calibration_acquisitions": counts["cal"],
        "imaging_acquisitions": counts["img"],
        "channels": channels,
        "samples": samples,
        "trajectory_dimensions": tdims,
        "flags": dict(sorted(flags.items(), key=lambda kv: [k for k, v in names.items() if v == kv[0]] or [99])),
        "counters": {} if ranges is None else dict(zip(COUNTERS, ranges)),
        "encodings": encodings,
        "images": images,
        "waveforms": ds.number_of_waveforms() if "waveforms" in ds.list() else 0,
        "xml_valid": xml_valid,
    })
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
