//! The conventions every stage follows, in one place (the reference data in
//! `shared/ref/ismrmrd/` use the same ones).
//!
//! - **FFT**: centred and orthonormal. k-space → image is
//!   `fftshift(ifftn(ifftshift(k))) · sqrt(N)` (numpy), image → k-space its inverse; both keep
//!   the l2 norm ([`crate::Backend::fft`]).
//! - **k-space centre**: sample `N/2` of an axis of length `N` (also the ISMRMRD
//!   `center_sample` and the encoding-limit centre); the image centre is pixel `N/2`.
//! - **Readout oversampling**: removed by an inverse FFT along x, keeping the central
//!   `reconSpace.matrixSize.x` samples ([`crop_centre`]), and a forward FFT back when later
//!   stages work in k-space.
//! - **Orientation**: patient coordinates are LPS (ISMRMRD `position`, `read_dir`,
//!   `phase_dir`, `slice_dir`).
//! - **Array layout** of the outputs: numpy C order, `[..., y, x]` with x the readout
//!   (fastest) and y `kspace_encode_step_1`; 3-D `[z, y, x]` with z `kspace_encode_step_2`;
//!   repetitions `[repetition, y, x]`; slices × contrasts `[slice, contrast, y, x]`. Coil
//!   arrays put the coil axis first: `[coil, ..., y, x]`.

/// The index of the centre sample of an axis of length `n` (`n / 2`).
pub fn centre(n: usize) -> usize {
    n / 2
}

/// The first index of the central `keep` samples of an axis of length `n`, so that the centre
/// `n/2` lands on `keep/2`.
pub fn crop_start(n: usize, keep: usize) -> usize {
    centre(n) - centre(keep)
}

/// Copies the central `keep` samples of every line of length `n` in `lines` (consecutive
/// lines, last axis) into a new buffer of lines of length `keep`.
pub fn crop_centre<T: Copy>(lines: &[T], n: usize, keep: usize) -> Vec<T> {
    assert!(
        keep <= n && n > 0 && lines.len() % n == 0,
        "cannot crop {n} to {keep}"
    );
    let s = crop_start(n, keep);
    lines
        .chunks_exact(n)
        .flat_map(|l| l[s..s + keep].iter().copied())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crop_keeps_the_centre_on_the_centre() {
        assert_eq!(crop_start(512, 256), 128);
        assert_eq!(crop_start(5, 3), 1);
        let line: Vec<usize> = (0..8).collect();
        let c = crop_centre(&line, 8, 4);
        assert_eq!(c, vec![2, 3, 4, 5]);
        assert_eq!(c[centre(4)], line[centre(8)]);
    }
}
