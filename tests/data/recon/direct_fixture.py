"""Writes direct_k.npy and direct_caldir10.npy (tests/data/recon/), the fixture of
recon/tests/coils_grappa.rs::direct_maps_equal_bart_caldir: a synthetic, fully sampled 3-D
k-space (4 coils x [16, 24, 20], C order [coil, z, y, x], complex64) and the maps of
`bart caldir 10` (BART v0.8.00) on it, transposed to the same layout.

    python direct_fixture.py   (needs numpy and `bart` on PATH; run in an empty folder)
"""
import subprocess

import numpy as np

rng = np.random.default_rng(2026)
nc, nz, ny, nx = 4, 16, 24, 20
z, y, x = np.meshgrid(np.linspace(-1, 1, nz), np.linspace(-1, 1, ny), np.linspace(-1, 1, nx),
                      indexing="ij")
obj = ((x / 0.8) ** 2 + (y / 0.7) ** 2 + (z / 0.9) ** 2 < 1) * (1 + 0.3 * np.cos(3 * x))
obj = obj + 0.5 * ((x - 0.2) ** 2 / 0.05 + y ** 2 / 0.1 + z ** 2 / 0.2 < 1)
coils = []
for c in range(nc):
    phi = 2 * np.pi * c / nc
    cx, cy = 1.2 * np.cos(phi), 1.2 * np.sin(phi)
    mag = np.exp(-((x - cx) ** 2 + (y - cy) ** 2 + 0.5 * z ** 2) / 1.5)
    coils.append(mag * np.exp(1j * (phi + 0.7 * x - 0.4 * y + 0.2 * z)))
img = np.array(coils) * obj
ax = (1, 2, 3)
k = np.fft.fftshift(np.fft.fftn(np.fft.ifftshift(img, axes=ax), axes=ax, norm="ortho"), axes=ax)
k = (k + 0.002 * (rng.standard_normal(k.shape) + 1j * rng.standard_normal(k.shape)))
k = k.astype(np.complex64)
np.save("direct_k.npy", k)
kb = np.transpose(k, (3, 2, 1, 0))  # BART [x, y, z, coil], Fortran order
with open("k.hdr", "w") as f:
    f.write("# Dimensions\n%d %d %d %d 1\n" % kb.shape)
kb.ravel(order="F").tofile("k.cfl")
subprocess.run(["bart", "caldir", "10", "k", "s"], check=True)
dims = [int(v) for v in open("s.hdr").read().split("\n")[1].split()]
s = np.squeeze(np.fromfile("s.cfl", np.complex64).reshape(dims, order="F"))
np.save("direct_caldir10.npy", np.ascontiguousarray(np.transpose(s, (3, 2, 1, 0))))
