//! Readout oversampling removal and central crops, on the backend (per
//! [`crate::conventions`]): inverse FFT along x, keep the central `reconSpace.matrixSize.x`
//! samples, forward FFT back when the next stage works in k-space.
//!
//! Crops are backend gathers, so they run where the data live.

use crate::backend::{Backend, FftDirection};
use crate::conventions::crop_start;
use crate::error::{ReconError, Result};
use crate::kspace::CoilKspace;

/// Crops axis `axis` of `x` (shape `shape`, C order) to its central `keep` samples (the centre
/// `n/2` lands on `keep/2`). Returns the cropped buffer and its shape.
pub fn crop_axis_centre<B: Backend>(
    be: &B,
    x: &B::Buf,
    shape: &[usize],
    axis: usize,
    keep: usize,
) -> Result<(B::Buf, Vec<usize>)> {
    let total: usize = shape.iter().product();
    if axis >= shape.len() || be.len(x) != total {
        return Err(ReconError::shape(
            "crop",
            format!(
                "axis {axis} of shape {shape:?} for a buffer of {} elements",
                be.len(x)
            ),
        ));
    }
    let n = shape[axis];
    if keep == 0 || keep > n {
        return Err(ReconError::shape(
            "crop",
            format!("cannot crop axis {axis} of length {n} to {keep}"),
        ));
    }
    let mut out_shape = shape.to_vec();
    out_shape[axis] = keep;
    if keep == n {
        let mut y = be.zeros(total);
        be.copy(&mut y, x);
        return Ok((y, out_shape));
    }
    if total > u32::MAX as usize {
        return Err(ReconError::shape(
            "crop",
            format!("{total} elements exceed the 32-bit index range"),
        ));
    }
    let inner: usize = shape[axis + 1..].iter().product();
    let outer: usize = shape[..axis].iter().product();
    let start = crop_start(n, keep);
    let mut idx = Vec::with_capacity(outer * keep * inner);
    for o in 0..outer {
        for k in 0..keep {
            let base = (o * n + start + k) * inner;
            idx.extend((base..base + inner).map(|i| i as u32));
        }
    }
    let idx = be.upload_idx(&idx);
    let mut y = be.zeros(outer * keep * inner);
    be.gather(&mut y, x, &idx);
    Ok((y, out_shape))
}

/// Readout oversampling removal in the image domain: `x` is already inverse-transformed along
/// its last axis; keeps the central `keep` samples of that axis.
pub fn crop_readout<B: Backend>(
    be: &B,
    x: &B::Buf,
    shape: &[usize],
    keep: usize,
) -> Result<(B::Buf, Vec<usize>)> {
    let last = shape.len().checked_sub(1).ok_or_else(|| {
        ReconError::shape("crop_readout", "a 0-dimensional array has no readout axis")
    })?;
    crop_axis_centre(be, x, shape, last, keep)
}

/// Readout oversampling removal in k-space: inverse FFT along the last axis (x), keep the
/// central `keep` samples, forward FFT back. The k-space centre `n/2` lands on `keep/2`.
pub fn remove_readout_oversampling<B: Backend>(
    be: &B,
    kspace: &B::Buf,
    shape: &[usize],
    keep: usize,
) -> Result<(B::Buf, Vec<usize>)> {
    let last = shape.len().checked_sub(1).ok_or_else(|| {
        ReconError::shape(
            "remove_readout_oversampling",
            "a 0-dimensional array has no readout axis",
        )
    })?;
    if be.len(kspace) != shape.iter().product::<usize>() {
        return Err(ReconError::shape(
            "remove_readout_oversampling",
            format!("shape {shape:?} for {} elements", be.len(kspace)),
        ));
    }
    let mut img = be.zeros(be.len(kspace));
    be.copy(&mut img, kspace);
    be.fft(&mut img, shape, &[last], FftDirection::Inverse);
    let (mut out, out_shape) = crop_readout(be, &img, shape, keep)?;
    be.fft(&mut out, &out_shape, &[last], FftDirection::Forward);
    Ok((out, out_shape))
}

/// Removes the readout oversampling of assembled k-space in place (imaging and calibration
/// data): x becomes `reconSpace.matrixSize.x`. A no-op when x already has that size.
pub fn remove_oversampling_kspace<B: Backend>(be: &B, ks: &mut CoilKspace) -> Result<()> {
    let keep = ks.geometry.recon_matrix[0];
    let nx = ks.matrix[2];
    if keep == nx {
        return Ok(());
    }
    let shape = ks.shape();
    let (out, _) = remove_readout_oversampling(be, &be.upload(&ks.data), &shape, keep)?;
    ks.data = be.download(&out);
    if let Some(cal) = &mut ks.calibration {
        let (out, _) = remove_readout_oversampling(be, &be.upload(&cal.data), &shape, keep)?;
        cal.data = be.download(&out);
    }
    ks.matrix[2] = keep;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CpuBackend;
    use crate::backend::C32;

    #[test]
    fn crop_any_axis_keeps_the_centre() {
        let be = CpuBackend::new();
        // shape [2, 4, 3]: value = 100·a + 10·b + c.
        let shape = [2, 4, 3];
        let x: Vec<C32> = (0..24)
            .map(|i| C32::new((100 * (i / 12) + 10 * ((i / 3) % 4) + i % 3) as f32, 0.0))
            .collect();
        let (y, s) = crop_axis_centre(&be, &be.upload(&x), &shape, 1, 2).unwrap();
        assert_eq!(s, vec![2, 2, 3]);
        let y: Vec<f32> = be.download(&y).iter().map(|v| v.re).collect();
        assert_eq!(
            y,
            vec![
                10., 11., 12., 20., 21., 22., 110., 111., 112., 120., 121., 122.
            ]
        );
        assert!(crop_axis_centre(&be, &be.upload(&x), &shape, 3, 2).is_err());
        assert!(crop_axis_centre(&be, &be.upload(&x), &shape, 1, 5).is_err());
    }

    #[test]
    fn oversampling_removal_keeps_a_band_limited_line() {
        // An object filling the central half of a 2× oversampled FOV: removing the
        // oversampling keeps its k-space samples at the centre (decimation by 2).
        let be = CpuBackend::new();
        let n = 16;
        let mut img = vec![C32::new(0.0, 0.0); n];
        for (i, v) in img.iter_mut().enumerate().take(12).skip(4) {
            *v = C32::new(1.0 + i as f32, 0.5);
        }
        let mut k = be.upload(&img);
        be.fft(&mut k, &[n], &[0], FftDirection::Forward);
        let (k2, s) = remove_readout_oversampling(&be, &k, &[n], n / 2).unwrap();
        assert_eq!(s, vec![n / 2]);
        let mut back = k2.clone();
        be.fft(&mut back, &[n / 2], &[0], FftDirection::Inverse);
        let back = be.download(&back);
        for (i, v) in back.iter().enumerate() {
            assert!(
                (v - img[4 + i]).norm() < 1e-4,
                "pixel {i}: {v} vs {}",
                img[4 + i]
            );
        }
    }
}
