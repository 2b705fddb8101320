#!/usr/bin/env python3
"""The ISMRMRD 1.x stream peer for the interoperability tests, using ismrmrd-python's
ProtocolSerializer / ProtocolDeserializer (ismrmrd/serialization.py, 1.15).

Usage:
  stream_peer.py write OUT   writes a stream with one or more messages of every kind
  stream_peer.py dump IN     reads a stream and prints its messages as JSON

`dump` prints {"items": [...], "closed": bool}, one entry per message in order:
  {"kind": "config_file" | "config_text" | "text", "text": str}
  {"kind": "header", "xml": header.toXML()}
  {"kind": "acquisition", "sha256": hex}  SHA-256 over the packed 340-byte header (getHead),
      the trajectory as little-endian float32 and the samples as little-endian complex64, as
      tests/python/dump.py hashes them
  {"kind": "image", "header": {...}, "attributes": str, "dtype": str, "shape": [...],
      "values": [...]}  (complex values as [re, im])
  {"kind": "waveform", "header": {...}, "data": [...]}
  {"kind": "ndarray", "dtype": str, "shape": [...], "values": [...]}
"closed" tells whether the stream ended with a CLOSE message (the deserializer returns on
CLOSE and raises EOFError at the end of a stream without one).
"""
import hashlib
import json
import sys

import numpy as np
import ismrmrd
import ismrmrd.xsd
from ismrmrd.meta import Meta
from ismrmrd.serialization import ConfigFile, ConfigText, ProtocolDeserializer, ProtocolSerializer

from dump import fields, text, update_with_acquisition, values

# ASCII only: ismrmrd-python's toXML() declares encoding="ascii" but writes UTF-8, so its own
# deserializer rejects a header with non-ASCII text.
XML = """<?xml version="1.0"?>
<ismrmrdHeader xmlns="http://www.ismrm.org/ISMRMRD">
  <measurementInformation><measurementID>stream_peer</measurementID><patientPosition>HFS</patientPosition><protocolName>stream peer</protocolName></measurementInformation>
  <experimentalConditions><H1resonanceFrequency_Hz>63500000</H1resonanceFrequency_Hz></experimentalConditions>
  <encoding>
    <encodedSpace><matrixSize><x>16</x><y>8</y><z>1</z></matrixSize><fieldOfView_mm><x>200</x><y>100</y><z>5</z></fieldOfView_mm></encodedSpace>
    <reconSpace><matrixSize><x>8</x><y>8</y><z>1</z></matrixSize><fieldOfView_mm><x>100</x><y>100</y><z>5</z></fieldOfView_mm></reconSpace>
    <encodingLimits><kspace_encoding_step_1><minimum>0</minimum><maximum>7</maximum><center>4</center></kspace_encoding_step_1></encodingLimits>
    <trajectory>radial</trajectory>
  </encoding>
</ismrmrdHeader>
"""


def write(path):
    rng = np.random.default_rng(11)
    with open(path, "wb") as f:
        s = ProtocolSerializer(f)
        s.serialize(ConfigFile("default_stream.xml"))
        s.serialize(ConfigText("<configuration><reader slot=\"1008\"/></configuration>"))
        s.serialize(ismrmrd.xsd.CreateFromDocument(XML))
        s.serialize("text message \u2713 with unicode")
        for i in range(6):
            channels, samples = (3, 16) if i != 4 else (2, 24)
            data = (rng.standard_normal((channels, samples))
                    + 1j * rng.standard_normal((channels, samples))).astype(np.complex64)
            traj = rng.uniform(-0.5, 0.5, (samples, 2 + (i == 5))).astype(np.float32) if i else None
            a = ismrmrd.Acquisition.from_array(data, traj)
            a.idx.kspace_encode_step_1 = i
            a.idx.slice = i % 2
            a.idx.user[7] = 70 + i
            a.scan_counter = 100 + i
            a.center_sample = samples // 2
            a.sample_time_us = 2.5
            a.position[:] = (1.5, -2.25, 3.0)
            a.read_dir[0] = 1.0
            a.phase_dir[1] = 1.0
            a.slice_dir[2] = 1.0
            a.user_int[3] = -i
            a.user_float[7] = 0.1 * i
            a.channel_mask[0] = (1 << channels) - 1
            a.physiology_time_stamp[2] = 4_000_000_000 + i
            if i == 0:
                a.setFlag(ismrmrd.ACQ_IS_NOISE_MEASUREMENT)
            if i == 5:
                a.setFlag(ismrmrd.ACQ_LAST_IN_MEASUREMENT)
                a.setFlag(ismrmrd.ACQ_USER8)
            s.serialize(a)
        for k, dtype in enumerate([np.float32, np.complex64, np.uint16, np.float64, np.int16,
                                   np.uint32, np.complex128]):
            data = (np.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5) * (k + 1) + k).astype(dtype)
            if np.iscomplexobj(data):
                data = data + 1j * (data.real[..., ::-1] - 7.5)
            elif np.issubdtype(dtype, np.floating):
                data = data / 3.0 - 11.0
            im = ismrmrd.Image.from_array(data, transpose=False)
            im.image_index = k
            im.image_series_index = 3
            im.slice = k
            im.image_type = ismrmrd.IMTYPE_COMPLEX if np.iscomplexobj(data) else ismrmrd.IMTYPE_MAGNITUDE
            im.field_of_view[:] = (100.0, 100.0, 5.0)
            im.user_int[0] = -k
            im.user_float[7] = 1.25 * k
            im.flags = 1 << 63 | 1
            if k != 2:  # one image without attributes (length 0)
                m = Meta()
                m["DataRole"] = "Image"
                m["ImageComments"] = f"k={k} \u00b5"
                m["WindowCenter"] = [str(k), str(k + 1)]
                im.meta = m
            s.serialize(im)
        for j in range(3):
            w = ismrmrd.Waveform.from_array(
                np.arange(2 * (4 + j), dtype=np.uint32).reshape(2, 4 + j) * 7 + 4_000_000_000 * (j == 2))
            w.waveform_id = 1025 if j == 2 else j
            w.sample_time_us = 2500.0
            w.time_stamp = 1000 + j
            w.scan_counter = 3 * j
            w.flags = 1 << 40
            s.serialize(w)
        s.serialize((rng.standard_normal((2, 3, 4)) + 1j * rng.standard_normal((2, 3, 4))).astype(np.complex64))
        s.serialize(np.arange(6, dtype=np.float32).reshape(3, 2) - 2.5)
        s.serialize(np.arange(5, dtype=np.uint16))
        s.close()




def dump(path):
    items = []
    closed = False
    with open(path, "rb") as f:
        d = ProtocolDeserializer(f)
        try:
            for obj in d.deserialize():
                items.append(describe(obj))
            closed = True
        except EOFError:
            pass
    print(json.dumps({"items": items, "closed": closed}))


def describe(obj):
    if isinstance(obj, ConfigFile):
        return {"kind": "config_file", "text": str(obj)}
    if isinstance(obj, ConfigText):
        return {"kind": "config_text", "text": str(obj)}
    if isinstance(obj, str):
        return {"kind": "text", "text": str(obj)}
    if isinstance(obj, ismrmrd.Acquisition):
        h = hashlib.sha256()
        update_with_acquisition(h, obj)
        return {"kind": "acquisition", "sha256": h.hexdigest()}
    if isinstance(obj, ismrmrd.Image):
        d = np.asarray(obj.data)
        return {
            "kind": "image",
            "header": fields(obj.getHead()),
            "attributes": text(obj.attribute_string),
            "dtype": str(d.dtype),
            "shape": list(d.shape),
            "values": values(d),
        }
    if isinstance(obj, ismrmrd.Waveform):
        return {"kind": "waveform", "header": fields(obj.getHead()),
                "data": [int(v) for v in np.asarray(obj.data).ravel()]}
    if isinstance(obj, np.ndarray):
        return {"kind": "ndarray", "dtype": str(obj.dtype), "shape": list(obj.shape), "values": values(obj)}
    if isinstance(obj, ismrmrd.xsd.ismrmrdHeader):
        return {"kind": "header", "xml": text(obj.toXML())}
    raise TypeError(f"unexpected object {type(obj)}")


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("write", "dump"):
        sys.exit(__doc__)
    if sys.argv[1] == "write":
        write(sys.argv[2])
    else:
        dump(sys.argv[2])


if __name__ == "__main__":
    main()
