"""Python side of benches/recon_compare.sh: pygrappa timings and the NRMSE of every result.

  recon_peer.py grappa K RUNS LO HI OUT.npy
      K (a BART .cfl/.hdr base, dims [x, y, 1, coil], zero-filled) as kspace[ky, kx, coil];
      RUNS times pygrappa.grappa(kspace, calib=kspace[LO:HI], kernel_size=(5, 5), lamda=0.01)
      (the reference command of tests/data/provenance/sl_r2.json), timed in-process around the
      grappa call only (imports, cfl reading, the iFFT and RSS are not counted); writes the RSS
      of the centred orthonormal iFFT of the last result to OUT.npy as float32 [y, x].
      Prints the seconds of every run on one line.

  recon_peer.py nrmse GT.npy IMAGE [IMAGE ...]
      For every IMAGE (.npy, float or complex, or a BART .cfl base / .cfl file) prints
      "nrmse nrmse_support" with the reference data's definitions (accord_recon::metrics):
      a = |image|, b = gt, s = <a,b>/<a,a>, nrmse = ||s a - b|| / ||b||; the support variant
      restricts both norms to gt > 0.05 max(gt) (s from all pixels).
"""
import sys
import time


def fail_missing(what):
    print(
        f"recon_peer.py: cannot import {what}; install the peers with\n"
        f"  {sys.executable} -m pip install numpy scipy scikit-image tqdm pygrappa==0.26.3",
        file=sys.stderr,
    )
    sys.exit(2)


try:
    import numpy as np
except ImportError:
    fail_missing("numpy")


def read_cfl(base):
    """A BART .cfl/.hdr pair as a complex64 array in C order (BART's dims reversed)."""
    if base.endswith(".cfl") or base.endswith(".hdr"):
        base = base[:-4]
    with open(base + ".hdr") as f:
        lines = [line for line in f if not line.startswith("#")]
    dims = [int(d) for d in lines[0].split()]
    data = np.fromfile(base + ".cfl", dtype=np.complex64)
    return data.reshape(dims[::-1])


def read_image(path):
    if path.endswith(".npy"):
        a = np.load(path)
    else:
        a = read_cfl(path)
    return np.squeeze(a)


def nrmse(img, gt):
    a = np.abs(img).astype(np.float64).ravel()
    b = gt.astype(np.float64).ravel()
    if a.shape != b.shape:
        raise SystemExit(f"recon_peer.py: image has {a.size} pixels, ground truth {b.size}")
    s = a.dot(b) / a.dot(a)
    d = s * a - b
    m = b > 0.05 * b.max()
    return np.linalg.norm(d) / np.linalg.norm(b), np.linalg.norm(d[m]) / np.linalg.norm(b[m])


def ifft2c(k, axes=(0, 1)):
    """Centred orthonormal inverse FFT (accord_recon::conventions)."""
    return np.fft.fftshift(
        np.fft.ifftn(np.fft.ifftshift(k, axes=axes), axes=axes, norm="ortho"), axes=axes
    )


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "nrmse":
        gt = np.load(sys.argv[2])
        for p in sys.argv[3:]:
            e, es = nrmse(read_image(p), gt)
            print(f"{e:.5f} {es:.5f}")
        return
    if len(sys.argv) == 7 and sys.argv[1] == "grappa":
        try:
            from pygrappa import grappa
        except ImportError:
            fail_missing("pygrappa")
        k = read_cfl(sys.argv[2])  # [coil, 1, y, x]
        runs, lo, hi, out = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
        kspace = np.ascontiguousarray(np.transpose(k[:, 0], (1, 2, 0)))  # [ky, kx, coil]
        calib = kspace[lo:hi].copy()
        times = []
        res = None
        for _ in range(max(runs, 1)):
            t0 = time.perf_counter()
            res = grappa(kspace, calib, kernel_size=(5, 5), lamda=0.01)
            times.append(time.perf_counter() - t0)
        img = np.sqrt(np.sum(np.abs(ifft2c(res)) ** 2, axis=-1)).astype(np.float32)
        np.save(out, img)
        print(" ".join(f"{t:.4f}" for t in times))
        return
    print(__doc__, file=sys.stderr)
    sys.exit(2)


if __name__ == "__main__":
    main()
