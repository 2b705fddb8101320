//! The sampling grid: matrix, field of view and centre, and where each voxel centre lies.

use serde::Serialize;

use crate::{Error, Result};

/// Largest number of voxels a grid may hold (2^30), so that a mistyped matrix fails cleanly
/// instead of exhausting memory.
pub const MAX_VOXELS: usize = 1 << 30;

/// Largest supersampling factor per axis accepted by the supersampled rasterisers.
pub const MAX_SUPERSAMPLE: usize = 16;

/// A 2-D or 3-D Cartesian sampling grid in millimetres.
///
/// Voxel `i` along an axis with `n` voxels and field of view `fov` has its centre at
/// `centre + (i - floor(n/2)) * fov / n`: the FFT convention of ISMRMRD and BART, in which
/// voxel `n/2` sits exactly on the grid centre (for even `n` the grid extends half a voxel
/// further on the negative side). A 2-D grid is a plane at `z = centre[2]` (its z size is 1 and
/// its z field of view 0).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Grid {
    dims: [usize; 3],
    fov_mm: [f64; 3],
    centre_mm: [f64; 3],
    ndim: usize,
}

impl Grid {
    /// A grid of `matrix` voxels (`[nx, ny]` or `[nx, ny, nz]`) spanning `fov_mm` (same length),
    /// centred on the origin.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming `matrix` or `fov_mm` when the lengths are not 2 or 3 or differ,
    /// a size is zero, the voxel count exceeds [`MAX_VOXELS`], or a field of view is not a
    /// finite positive number.
    pub fn new(matrix: &[usize], fov_mm: &[f64]) -> Result<Self> {
        if matrix.len() != 2 && matrix.len() != 3 {
            return Err(invalid(
                "matrix",
                format!("expected 2 or 3 sizes, got {}", matrix.len()),
            ));
        }
        if fov_mm.len() != matrix.len() {
            return Err(invalid(
                "fov_mm",
                format!(
                    "expected {} values (one per matrix axis), got {}",
                    matrix.len(),
                    fov_mm.len()
                ),
            ));
        }
        let mut total: usize = 1;
        for (axis, &n) in matrix.iter().enumerate() {
            if n == 0 {
                return Err(invalid(
                    "matrix",
                    format!("size along {} is zero", AXES[axis]),
                ));
            }
            total = total
                .checked_mul(n)
                .filter(|&t| t <= MAX_VOXELS)
                .ok_or_else(|| {
                    invalid(
                        "matrix",
                        format!("{matrix:?} has more than {MAX_VOXELS} voxels"),
                    )
                })?;
        }
        for (axis, &f) in fov_mm.iter().enumerate() {
            if !(f.is_finite() && f > 0.0) {
                return Err(invalid(
                    "fov_mm",
                    format!(
                        "field of view along {} must be a finite positive number of mm, got {f}",
                        AXES[axis]
                    ),
                ));
            }
        }
        let ndim = matrix.len();
        let mut dims = [1usize; 3];
        let mut fov = [0.0f64; 3];
        dims[..ndim].copy_from_slice(matrix);
        fov[..ndim].copy_from_slice(fov_mm);
        Ok(Grid {
            dims,
            fov_mm: fov,
            centre_mm: [0.0; 3],
            ndim,
        })
    }

    /// The same grid moved so that its centre (voxel `floor(n/2)` on every axis) lies at
    /// `centre_mm`; for a 2-D grid `centre_mm[2]` is the height of its plane.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming `centre_mm` when a coordinate is not finite.
    pub fn with_centre_mm(mut self, centre_mm: [f64; 3]) -> Result<Self> {
        if let Some(bad) = centre_mm.iter().find(|c| !c.is_finite()) {
            return Err(invalid(
                "centre_mm",
                format!("coordinates must be finite, got {bad}"),
            ));
        }
        self.centre_mm = centre_mm;
        Ok(self)
    }

    /// Voxels along x, y, z (z is 1 for a 2-D grid).
    pub fn dims(&self) -> [usize; 3] {
        self.dims
    }

    /// Field of view along x, y, z in mm (z is 0 for a 2-D grid).
    pub fn fov_mm(&self) -> [f64; 3] {
        self.fov_mm
    }

    /// Position of the grid centre in mm.
    pub fn centre_mm(&self) -> [f64; 3] {
        self.centre_mm
    }

    /// 2 for a plane, 3 for a volume.
    pub fn ndim(&self) -> usize {
        self.ndim
    }

    /// Number of voxels.
    pub fn len(&self) -> usize {
        self.dims.iter().product()
    }

    /// Always false: a valid grid has at least one voxel.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Voxel size in mm along x, y, z (z is 0 for a 2-D grid).
    pub fn voxel_size_mm(&self) -> [f64; 3] {
        [0, 1, 2].map(|a| self.fov_mm[a] / self.dims[a] as f64)
    }

    /// Coordinate in mm of the centre of voxel `i` along `axis` (0 = x, 1 = y, 2 = z).
    pub fn coordinate_mm(&self, axis: usize, i: usize) -> f64 {
        self.offset_mm(axis, i as f64)
    }

    /// Coordinate in mm of the (possibly fractional) voxel position `i` along `axis`.
    fn offset_mm(&self, axis: usize, i: f64) -> f64 {
        let n = self.dims[axis];
        // Multiply before dividing: (i - n/2) * fov / n is exact whenever the result is
        // representable, which keeps boundary decisions identical to integer-based generators.
        self.centre_mm[axis] + ((i - (n / 2) as f64) * self.fov_mm[axis]) / n as f64
    }

    /// Linear index of voxel `(x, y, z)`: x fastest, then y, then z.
    pub fn index(&self, x: usize, y: usize, z: usize) -> usize {
        x + self.dims[0] * (y + self.dims[1] * z)
    }

    /// Voxel `(x, y, z)` of a linear index.
    pub fn voxel(&self, index: usize) -> [usize; 3] {
        let x = index % self.dims[0];
        let rest = index / self.dims[0];
        [x, rest % self.dims[1], rest / self.dims[1]]
    }

    /// Centre in mm of the voxel with linear index `index`.
    pub fn position_mm(&self, index: usize) -> [f64; 3] {
        let v = self.voxel(index);
        [0, 1, 2].map(|a| self.coordinate_mm(a, v[a]))
    }

    /// The `s^ndim` sample points of voxel `index` for supersampling: the centres of an
    /// `s × s (× s)` sub-grid of the voxel (z is not subdivided on a 2-D grid).
    pub(crate) fn subsamples(&self, index: usize, s: usize) -> Vec<[f64; 3]> {
        let v = self.voxel(index);
        let offsets: Vec<f64> = (0..s).map(|k| (k as f64 + 0.5) / s as f64 - 0.5).collect();
        let along = |axis: usize| -> Vec<f64> {
            if axis < self.ndim {
                offsets
                    .iter()
                    .map(|o| self.offset_mm(axis, v[axis] as f64 + o))
                    .collect()
            } else {
                vec![self.coordinate_mm(axis, v[axis])]
            }
        };
        let (xs, ys, zs) = (along(0), along(1), along(2));
        let mut points = Vec::with_capacity(xs.len() * ys.len() * zs.len());
        for &z in &zs {
            for &y in &ys {
                for &x in &xs {
                    points.push([x, y, z]);
                }
            }
        }
        points
    }
}

/// Axis names for messages.
const AXES: [&str; 3] = ["x", "y", "z"];

/// Checks a supersampling factor.
pub(crate) fn check_supersample(supersample: usize) -> Result<()> {
    if supersample == 0 || supersample > MAX_SUPERSAMPLE {
        return Err(invalid(
            "supersample",
            format!("must be between 1 and {MAX_SUPERSAMPLE}, got {supersample}"),
        ));
    }
    Ok(())
}

/// An [`Error::Invalid`] for parameter `what`.
pub(crate) fn invalid(what: &str, message: impl Into<String>) -> Error {
    Error::Invalid {
        what: what.to_string(),
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fft_centred_voxels() {
        let g = Grid::new(&[4, 3], &[8.0, 3.0]).unwrap();
        assert_eq!(g.dims(), [4, 3, 1]);
        assert_eq!(
            (0..4).map(|i| g.coordinate_mm(0, i)).collect::<Vec<_>>(),
            [-4.0, -2.0, 0.0, 2.0]
        );
        assert_eq!(
            (0..3).map(|i| g.coordinate_mm(1, i)).collect::<Vec<_>>(),
            [-1.0, 0.0, 1.0]
        );
        assert_eq!(g.coordinate_mm(2, 0), 0.0);
        assert_eq!(g.voxel_size_mm(), [2.0, 1.0, 0.0]);
        let g = g.with_centre_mm([1.0, 2.0, 5.0]).unwrap();
        assert_eq!(g.position_mm(g.index(2, 1, 0)), [1.0, 2.0, 5.0]);
        assert_eq!(g.voxel(g.index(3, 2, 0)), [3, 2, 0]);
    }

    #[test]
    fn subsamples_cover_the_voxel() {
        let g = Grid::new(&[2, 2], &[2.0, 2.0]).unwrap();
        let pts = g.subsamples(g.index(1, 1, 0), 2);
        assert_eq!(pts.len(), 4);
        assert_eq!(pts[0], [-0.25, -0.25, 0.0]);
        assert_eq!(pts[3], [0.25, 0.25, 0.0]);
        let g3 = Grid::new(&[1, 1, 1], &[1.0, 1.0, 1.0]).unwrap();
        assert_eq!(g3.subsamples(0, 3).len(), 27);
    }

    #[test]
    fn bad_grids_are_named() {
        let what = |r: Result<Grid>| match r {
            Err(Error::Invalid { what, .. }) => what,
            other => panic!("expected Invalid, got {other:?}"),
        };
        assert_eq!(what(Grid::new(&[0, 4], &[1.0, 1.0])), "matrix");
        assert_eq!(what(Grid::new(&[4], &[1.0])), "matrix");
        assert_eq!(what(Grid::new(&[4, 4], &[1.0])), "fov_mm");
        assert_eq!(what(Grid::new(&[4, 4], &[1.0, 0.0])), "fov_mm");
        assert_eq!(what(Grid::new(&[4, 4], &[1.0, f64::NAN])), "fov_mm");
        assert_eq!(what(Grid::new(&[4, 4], &[-1.0, 1.0])), "fov_mm");
        assert_eq!(
            what(Grid::new(&[usize::MAX, 2, 2], &[1.0, 1.0, 1.0])),
            "matrix"
        );
        assert_eq!(
            what(Grid::new(&[4, 4], &[1.0, 1.0]).unwrap().with_centre_mm([
                0.0,
                f64::INFINITY,
                0.0
            ])),
            "centre_mm"
        );
        assert!(check_supersample(0).is_err());
        assert!(check_supersample(17).is_err());
        assert!(check_supersample(4).is_ok());
    }
}
