//! NIfTI-1 encoding of reconstructed images with the scanner geometry (`.nii`, `.nii.gz`).
//!
//! The geometry comes from the ISMRMRD headers in LPS (position of the image centre, the
//! read/phase/slice direction cosines, the field of view); NIfTI's world space is RAS, so x and
//! y change sign. Voxel `(i, j, k)` = (x, y, z) of the C-order array `[..., z, y, x]` (i fastest,
//! which is the array's own memory order); the image centre is voxel `N/2` on every axis, as in
//! [`crate::conventions`]. Both the sform (scanner, code 1) and the qform (code 1) are set.
//! This module only encodes bytes; writing them to a file is the caller's job.

use std::io::Write;

use crate::backend::C32;
use crate::error::{ReconError, Result};

/// Scanner geometry of a volume, LPS millimetres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NiftiGeometry {
    /// Voxel size along x (read), y (phase), z (slice) in mm.
    pub voxel_mm: [f64; 3],
    /// Position of the image centre (voxel N/2 on every axis), LPS mm.
    pub centre_lps_mm: [f64; 3],
    /// Read (x) direction cosines, LPS.
    pub read_dir: [f64; 3],
    /// Phase (y) direction cosines, LPS.
    pub phase_dir: [f64; 3],
    /// Slice (z) direction cosines, LPS.
    pub slice_dir: [f64; 3],
}

impl NiftiGeometry {
    /// Unit voxels at the origin, axes along LPS (when the headers carry no geometry).
    pub fn identity() -> Self {
        NiftiGeometry {
            voxel_mm: [1.0; 3],
            centre_lps_mm: [0.0; 3],
            read_dir: [1.0, 0.0, 0.0],
            phase_dir: [0.0, 1.0, 0.0],
            slice_dir: [0.0, 0.0, 1.0],
        }
    }

    /// The 3×4 voxel → RAS mm affine (rows x, y, z) for an image of `[nx, ny, nz]` voxels.
    pub fn affine(&self, [nx, ny, nz]: [usize; 3]) -> [[f64; 4]; 3] {
        let dirs = [self.read_dir, self.phase_dir, self.slice_dir];
        let n = [nx, ny, nz];
        let mut a = [[0.0; 4]; 3];
        for row in 0..3 {
            let flip = if row < 2 { -1.0 } else { 1.0 }; // LPS → RAS
            let mut origin = self.centre_lps_mm[row];
            for (col, d) in dirs.iter().enumerate() {
                let step = d[row] * self.voxel_mm[col];
                a[row][col] = flip * step;
                origin -= (n[col] / 2) as f64 * step;
            }
            a[row][3] = flip * origin;
        }
        a
    }
}

/// Voxel values of a NIfTI image.
#[derive(Debug, Clone, Copy)]
pub enum NiftiData<'a> {
    /// Magnitude, NIfTI datatype FLOAT32.
    F32(&'a [f32]),
    /// Complex, NIfTI datatype COMPLEX64.
    C64(&'a [C32]),
}

impl NiftiData<'_> {
    fn len(&self) -> usize {
        match self {
            NiftiData::F32(v) => v.len(),
            NiftiData::C64(v) => v.len(),
        }
    }
}

/// Encodes a NIfTI-1 single file. `shape` is the C-order array shape `[..., z, y, x]` with at
/// most 7 axes; axes before z become NIfTI dims 4–7 (e.g. repetitions). `gzip` compresses
/// (`.nii.gz`).
pub fn encode(
    data: NiftiData<'_>,
    shape: &[usize],
    geometry: &NiftiGeometry,
    gzip: bool,
) -> Result<Vec<u8>> {
    if shape.is_empty() || shape.len() > 7 {
        return Err(ReconError::shape(
            "NIfTI output",
            format!("{}-D arrays cannot be written (1 to 7 axes)", shape.len()),
        ));
    }
    if shape.iter().product::<usize>() != data.len() || shape.iter().any(|&n| n > 32767) {
        return Err(ReconError::shape(
            "NIfTI output",
            format!("shape {shape:?} for {} values", data.len()),
        ));
    }
    // NIfTI order: x, y, z, then the leading axes from the innermost out.
    let mut dims: Vec<usize> = shape.iter().rev().copied().collect();
    while dims.len() < 3 {
        dims.push(1);
    }
    let mut h = vec![0u8; 352];
    let put_i32 =
        |h: &mut Vec<u8>, off: usize, v: i32| h[off..off + 4].copy_from_slice(&v.to_le_bytes());
    let put_i16 =
        |h: &mut Vec<u8>, off: usize, v: i16| h[off..off + 2].copy_from_slice(&v.to_le_bytes());
    let put_f32 =
        |h: &mut Vec<u8>, off: usize, v: f32| h[off..off + 4].copy_from_slice(&v.to_le_bytes());
    put_i32(&mut h, 0, 348); // sizeof_hdr
    put_i16(&mut h, 40, dims.len() as i16); // dim[0]
    for (k, &n) in dims.iter().enumerate() {
        put_i16(&mut h, 42 + 2 * k, n as i16);
    }
    for k in dims.len()..7 {
        put_i16(&mut h, 42 + 2 * k, 1);
    }
    let (datatype, bitpix) = match data {
        NiftiData::F32(_) => (16i16, 32i16),
        NiftiData::C64(_) => (32, 64),
    };
    put_i16(&mut h, 70, datatype);
    put_i16(&mut h, 72, bitpix);
    // pixdim: [qfac, dx, dy, dz, dt, ...]
    let affine = geometry.affine([dims[0], dims[1], dims[2]]);
    let (quat, qfac) = quaternion(geometry);
    put_f32(&mut h, 76, qfac as f32);
    for k in 0..3 {
        put_f32(&mut h, 80 + 4 * k, geometry.voxel_mm[k] as f32);
    }
    for k in 3..7 {
        put_f32(&mut h, 80 + 4 * k, 1.0);
    }
    put_f32(&mut h, 108, 352.0); // vox_offset
    put_f32(&mut h, 112, 1.0); // scl_slope
    h[123] = 2 | 8; // xyzt_units: mm, s
    let descrip = b"Accord reconstruction";
    h[148..148 + descrip.len()].copy_from_slice(descrip);
    put_i16(&mut h, 252, 1); // qform_code: scanner
    put_i16(&mut h, 254, 1); // sform_code: scanner
    for (k, q) in quat.iter().enumerate() {
        put_f32(&mut h, 256 + 4 * k, *q as f32); // quatern_b, c, d
    }
    for (k, row) in affine.iter().enumerate() {
        put_f32(&mut h, 268 + 4 * k, row[3] as f32); // qoffset_x, y, z
    }
    for (row, r) in affine.iter().enumerate() {
        for (col, v) in r.iter().enumerate() {
            put_f32(&mut h, 280 + 16 * row + 4 * col, *v as f32); // srow_x, y, z
        }
    }
    h[344..348].copy_from_slice(b"n+1\0");
    let mut bytes = h;
    match data {
        NiftiData::F32(v) => v
            .iter()
            .for_each(|x| bytes.extend_from_slice(&x.to_le_bytes())),
        NiftiData::C64(v) => v.iter().for_each(|x| {
            bytes.extend_from_slice(&x.re.to_le_bytes());
            bytes.extend_from_slice(&x.im.to_le_bytes());
        }),
    }
    if !gzip {
        return Ok(bytes);
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&bytes)
        .and_then(|()| gz.finish())
        .map_err(|e| ReconError::numerical("NIfTI gzip", e.to_string()))
}

/// The qform quaternion `(b, c, d)` and `qfac` of the RAS rotation (NIfTI-1 standard, method 2).
fn quaternion(g: &NiftiGeometry) -> ([f64; 3], f64) {
    // Columns: RAS directions of i, j, k (unit vectors).
    let ras = |d: [f64; 3]| [-d[0], -d[1], d[2]];
    let (c0, c1, mut c2) = (ras(g.read_dir), ras(g.phase_dir), ras(g.slice_dir));
    let det = c0[0] * (c1[1] * c2[2] - c1[2] * c2[1]) - c1[0] * (c0[1] * c2[2] - c0[2] * c2[1])
        + c2[0] * (c0[1] * c1[2] - c0[2] * c1[1]);
    let qfac = if det < 0.0 {
        c2 = [-c2[0], -c2[1], -c2[2]];
        -1.0
    } else {
        1.0
    };
    let r = [
        [c0[0], c1[0], c2[0]],
        [c0[1], c1[1], c2[1]],
        [c0[2], c1[2], c2[2]],
    ];
    let a = r[0][0] + r[1][1] + r[2][2] + 1.0;
    let (b, c, d) = if a > 0.5 {
        let a = 0.5 * a.sqrt();
        (
            0.25 * (r[2][1] - r[1][2]) / a,
            0.25 * (r[0][2] - r[2][0]) / a,
            0.25 * (r[1][0] - r[0][1]) / a,
        )
    } else {
        let xd = 1.0 + r[0][0] - (r[1][1] + r[2][2]);
        let yd = 1.0 + r[1][1] - (r[0][0] + r[2][2]);
        let zd = 1.0 + r[2][2] - (r[0][0] + r[1][1]);
        let (mut b, mut c, mut d, a);
        if xd > 1.0 {
            b = 0.5 * xd.sqrt();
            c = 0.25 * (r[0][1] + r[1][0]) / b;
            d = 0.25 * (r[0][2] + r[2][0]) / b;
            a = 0.25 * (r[2][1] - r[1][2]) / b;
        } else if yd > 1.0 {
            c = 0.5 * yd.sqrt();
            b = 0.25 * (r[0][1] + r[1][0]) / c;
            d = 0.25 * (r[1][2] + r[2][1]) / c;
            a = 0.25 * (r[0][2] - r[2][0]) / c;
        } else {
            d = 0.5 * zd.sqrt();
            b = 0.25 * (r[0][2] + r[2][0]) / d;
            c = 0.25 * (r[1][2] + r[2][1]) / d;
            a = 0.25 * (r[1][0] - r[0][1]) / d;
        }
        if a < 0.0 {
            b = -b;
            c = -c;
            d = -d;
        }
        (b, c, d)
    };
    ([b, c, d], qfac)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f32_at(b: &[u8], off: usize) -> f32 {
        f32::from_le_bytes(b[off..off + 4].try_into().unwrap())
    }
    fn i16_at(b: &[u8], off: usize) -> i16 {
        i16::from_le_bytes(b[off..off + 2].try_into().unwrap())
    }

    #[test]
    fn header_layout_and_affine() {
        let g = NiftiGeometry {
            voxel_mm: [2.0, 2.0, 5.0],
            centre_lps_mm: [10.0, -20.0, 30.0],
            ..NiftiGeometry::identity()
        };
        let data = vec![1.5f32; 2 * 3 * 4];
        let b = encode(NiftiData::F32(&data), &[2, 3, 4], &g, false).unwrap();
        assert_eq!(b.len(), 352 + 4 * 24);
        assert_eq!(i16_at(&b, 40), 3);
        assert_eq!((i16_at(&b, 42), i16_at(&b, 44), i16_at(&b, 46)), (4, 3, 2));
        assert_eq!(i16_at(&b, 70), 16);
        assert_eq!(&b[344..348], b"n+1\0");
        // Voxel (i, j, k) = (N/2, ...) maps to the centre, in RAS (x, y negated).
        let a = g.affine([4, 3, 2]);
        let at =
            |i: f64, j: f64, k: f64, r: usize| a[r][0] * i + a[r][1] * j + a[r][2] * k + a[r][3];
        assert!((at(2.0, 1.0, 1.0, 0) + 10.0).abs() < 1e-9);
        assert!((at(2.0, 1.0, 1.0, 1) - 20.0).abs() < 1e-9);
        assert!((at(2.0, 1.0, 1.0, 2) - 30.0).abs() < 1e-9);
        assert_eq!(f32_at(&b, 280), -2.0); // srow_x[0]: -dx (L→R)
        assert_eq!(f32_at(&b, 360 - 8), 1.5);
        // Identity LPS axes → RAS rotation diag(-1,-1,1): quaternion (0, 0, 1), qfac 1.
        assert!((f32_at(&b, 264) - 1.0).abs() < 1e-6 && f32_at(&b, 76) == 1.0);
    }

    #[test]
    fn complex_gzip_and_bad_shapes() {
        let data = vec![C32::new(1.0, -1.0); 8];
        let b = encode(
            NiftiData::C64(&data),
            &[2, 2, 2],
            &NiftiGeometry::identity(),
            true,
        )
        .unwrap();
        let mut plain = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&b[..]), &mut plain).unwrap();
        assert_eq!(plain.len(), 352 + 64);
        assert_eq!(i16_at(&plain, 70), 32);
        let e = encode(
            NiftiData::C64(&data),
            &[3, 3],
            &NiftiGeometry::identity(),
            false,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("shape [3, 3] for 8 values"), "{e}");
    }
}
