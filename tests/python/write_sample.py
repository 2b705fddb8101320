#!/usr/bin/env python3
"""Writes a small ISMRMRD file with ismrmrd-python (acquisitions with trajectory, noise flag,
images of three element types with MetaAttributes, waveforms) for the interoperability tests.

Usage: write_sample.py OUT.h5
"""
import sys

import numpy as np
import ismrmrd
import ismrmrd.xsd

XML = """<?xml version="1.0"?>
<ismrmrdHeader xmlns="http://www.ismrm.org/ISMRMRD">
  <experimentalConditions><H1resonanceFrequency_Hz>63500000</H1resonanceFrequency_Hz></experimentalConditions>
  <encoding>
    <encodedSpace><matrixSize><x>16</x><y>8</y><z>1</z></matrixSize><fieldOfView_mm><x>200</x><y>100</y><z>5</z></fieldOfView_mm></encodedSpace>
    <reconSpace><matrixSize><x>8</x><y>8</y><z>1</z></matrixSize><fieldOfView_mm><x>100</x><y>100</y><z>5</z></fieldOfView_mm></reconSpace>
    <encodingLimits><kspace_encoding_step_1><minimum>0</minimum><maximum>7</maximum><center>4</center></kspace_encoding_step_1></encodingLimits>
    <trajectory>radial</trajectory>
  </encoding>
</ismrmrdHeader>
"""


def main():
    rng = np.random.default_rng(7)
    ds = ismrmrd.Dataset(sys.argv[1], "dataset", create_if_needed=True)
    ds.write_xml_header(XML)
    for i in range(9):
        a = ismrmrd.Acquisition.from_array(
            (rng.standard_normal((3, 16)) + 1j * rng.standard_normal((3, 16))).astype(np.complex64),
            rng.uniform(-0.5, 0.5, (16, 2)).astype(np.float32) if i else None)
        a.idx.kspace_encode_step_1 = i % 8
        a.center_sample = 8
        a.sample_time_us = 5.0
        a.read_dir[0] = 1.0
        a.user_int[3] = -i
        if i == 0:
            a.setFlag(ismrmrd.ACQ_IS_NOISE_MEASUREMENT)
        if i == 8:
            a.setFlag(ismrmrd.ACQ_LAST_IN_MEASUREMENT)
        ds.append_acquisition(a)
    for k, (series, dtype) in enumerate([("mag", np.float32), ("cplx", np.complex64), ("dicomlike", np.uint16)]):
        for j in range(2):
            data = (np.arange(2 * 4 * 6).reshape(2, 1, 4, 6) * (j + 1) + k).astype(dtype)
            if dtype == np.complex64:
                data = data + 1j * data.real[::-1]
            im = ismrmrd.Image.from_array(data, transpose=False)
            im.image_index = j
            im.slice = j
            im.field_of_view[:] = (100.0, 100.0, 5.0)
            im.attribute_string = f"<ismrmrdMeta><meta><name>series</name><value>{series}</value></meta></ismrmrdMeta>"
            ds.append_image(series, im)
    for j in range(3):
        w = ismrmrd.Waveform.from_array(np.arange(2 * (4 + j), dtype=np.uint32).reshape(2, 4 + j) + 100 * j)
        w.waveform_id = j
        w.sample_time_us = 2500.0
        w.time_stamp = 1000 + j
        ds.append_waveform(w)
    ds.close()


if __name__ == "__main__":
    main()
