//! Label maps with per-label tissue parameters, and the [`Phantom`] trait that produces them.

use rayon::prelude::*;
use serde::Serialize;

use super::grid::{Grid, check_supersample, invalid};
use crate::Result;

/// The MR parameters of one label.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tissue {
    /// The label's name (`"T1-3"`, `"fill"`, `"e"`, …), unique within a phantom.
    pub name: String,
    /// What the label is made of (`"NiCl2 sphere"`, `"white matter"`, …).
    pub kind: String,
    /// Proton density relative to water (0 = no signal).
    pub pd: f64,
    /// Longitudinal relaxation time in ms (0 where `pd` is 0).
    pub t1_ms: f64,
    /// Transverse relaxation time in ms (0 where `pd` is 0).
    pub t2_ms: f64,
}

impl Tissue {
    /// A tissue from its parts.
    pub fn new(
        name: impl Into<String>,
        kind: impl Into<String>,
        pd: f64,
        t1_ms: f64,
        t2_ms: f64,
    ) -> Self {
        Tissue {
            name: name.into(),
            kind: kind.into(),
            pd,
            t1_ms,
            t2_ms,
        }
    }

    /// A signal-free label (PD, T1 and T2 all 0): air, plastic walls.
    pub fn void(name: impl Into<String>, kind: impl Into<String>) -> Self {
        Tissue::new(name, kind, 0.0, 0.0, 0.0)
    }
}

/// A rasterised phantom: one label per voxel plus the tissue of every label.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelMap {
    /// Where the voxels are.
    pub grid: Grid,
    /// One label per voxel, x fastest, then y, then z (`grid.index(x, y, z)`).
    pub labels: Vec<u16>,
    /// Tissue of every label, indexed by label (label 0 is the background).
    pub tissues: Vec<Tissue>,
}

impl LabelMap {
    /// Voxels along x, y, z.
    pub fn dims(&self) -> [usize; 3] {
        self.grid.dims()
    }

    /// Field of view along x, y, z in mm.
    pub fn fov_mm(&self) -> [f64; 3] {
        self.grid.fov_mm()
    }

    /// The label whose tissue is called `name`.
    pub fn label_named(&self, name: &str) -> Option<u16> {
        self.tissues
            .iter()
            .position(|t| t.name == name)
            .and_then(|i| u16::try_from(i).ok())
    }

    /// The tissue of `label`.
    pub fn tissue(&self, label: u16) -> Option<&Tissue> {
        self.tissues.get(label as usize)
    }

    /// Number of voxels carrying `label`.
    pub fn count(&self, label: u16) -> usize {
        self.labels.iter().filter(|&&l| l == label).count()
    }

    /// Mask of the voxels carrying `label` (same layout as `labels`).
    pub fn roi_mask(&self, label: u16) -> Vec<bool> {
        self.labels.iter().map(|&l| l == label).collect()
    }

    /// Mask of the voxels carrying the label called `name`.
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] naming `roi` when no label has that name.
    pub fn roi_mask_named(&self, name: &str) -> Result<Vec<bool>> {
        let label = self.label_named(name).ok_or_else(|| {
            invalid(
                "roi",
                format!(
                    "no label called {name:?} (known: {})",
                    self.names().join(", ")
                ),
            )
        })?;
        Ok(self.roi_mask(label))
    }

    /// Mask of the voxels of `label` that are more than `margin_mm` away from every voxel centre
    /// of another label (voxels outside the grid count as another label): the ROI eroded by a
    /// margin measured between voxel centres. A margin of 0 gives [`LabelMap::roi_mask`].
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] naming `margin_mm` when it is negative or not finite.
    pub fn eroded_mask(&self, label: u16, margin_mm: f64) -> Result<Vec<bool>> {
        if !(margin_mm.is_finite() && margin_mm >= 0.0) {
            return Err(invalid(
                "margin_mm",
                format!("must be a finite number >= 0, got {margin_mm}"),
            ));
        }
        let mask = self.roi_mask(label);
        if margin_mm == 0.0 {
            return Ok(mask);
        }
        let dims = self.grid.dims();
        let size = self.grid.voxel_size_mm();
        // Neighbour offsets within the margin, per axis only where the grid has extent.
        let reach: Vec<isize> = (0..3)
            .map(|a| {
                if a < self.grid.ndim() && size[a] > 0.0 {
                    (margin_mm / size[a]).floor() as isize
                } else {
                    0
                }
            })
            .collect();
        let mut offsets = Vec::new();
        for dz in -reach[2]..=reach[2] {
            for dy in -reach[1]..=reach[1] {
                for dx in -reach[0]..=reach[0] {
                    let d2 = (dx as f64 * size[0]).powi(2)
                        + (dy as f64 * size[1]).powi(2)
                        + (dz as f64 * size[2]).powi(2);
                    if d2 <= margin_mm * margin_mm && (dx, dy, dz) != (0, 0, 0) {
                        offsets.push([dx, dy, dz]);
                    }
                }
            }
        }
        let grid = &self.grid;
        let eroded = (0..mask.len())
            .into_par_iter()
            .map(|i| {
                if !mask[i] {
                    return false;
                }
                let v = grid.voxel(i);
                offsets.iter().all(|o| {
                    let p = [0, 1, 2].map(|a| v[a] as isize + o[a]);
                    (0..3).all(|a| p[a] >= 0 && (p[a] as usize) < dims[a])
                        && mask[grid.index(p[0] as usize, p[1] as usize, p[2] as usize)]
                })
            })
            .collect();
        Ok(eroded)
    }

    /// Proton density of every voxel.
    pub fn pd_map(&self) -> Vec<f32> {
        self.map(|t| t.pd)
    }

    /// T1 in ms of every voxel.
    pub fn t1_map_ms(&self) -> Vec<f32> {
        self.map(|t| t.t1_ms)
    }

    /// T2 in ms of every voxel.
    pub fn t2_map_ms(&self) -> Vec<f32> {
        self.map(|t| t.t2_ms)
    }

    /// The names of all labels, in label order.
    pub fn names(&self) -> Vec<&str> {
        self.tissues.iter().map(|t| t.name.as_str()).collect()
    }

    fn map(&self, f: impl Fn(&Tissue) -> f64) -> Vec<f32> {
        let values: Vec<f32> = self.tissues.iter().map(|t| f(t) as f32).collect();
        self.labels
            .iter()
            .map(|&l| values.get(l as usize).copied().unwrap_or(0.0))
            .collect()
    }
}

/// A digital phantom defined analytically in millimetres, rasterisable on any [`Grid`].
pub trait Phantom: Sync {
    /// The label at point `p` (mm; 2-D phantoms ignore `p[2]`).
    fn label_at(&self, p: [f64; 3]) -> u16;

    /// The tissue of every label, indexed by label.
    fn tissues(&self) -> Vec<Tissue>;

    /// Label map sampled at the voxel centres of `grid`.
    fn rasterize_grid(&self, grid: &Grid) -> LabelMap {
        let labels = (0..grid.len())
            .into_par_iter()
            .map(|i| self.label_at(grid.position_mm(i)))
            .collect();
        LabelMap {
            grid: grid.clone(),
            labels,
            tissues: self.tissues(),
        }
    }

    /// Label map of `matrix` voxels (`[nx, ny]` or `[nx, ny, nz]`) over `fov_mm`, centred on
    /// the origin and sampled at voxel centres.
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] for a bad matrix or field of view (see [`Grid::new`]).
    fn rasterize(&self, matrix: &[usize], fov_mm: &[f64]) -> Result<LabelMap> {
        Ok(self.rasterize_grid(&Grid::new(matrix, fov_mm)?))
    }

    /// Label map where each voxel takes the most frequent label among `supersample^ndim`
    /// sub-voxel samples (ties go to the lower label); `supersample = 1` is
    /// [`Phantom::rasterize_grid`].
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] naming `supersample` outside 1..=16.
    fn rasterize_supersampled(&self, grid: &Grid, supersample: usize) -> Result<LabelMap> {
        check_supersample(supersample)?;
        if supersample == 1 {
            return Ok(self.rasterize_grid(grid));
        }
        let labels = (0..grid.len())
            .into_par_iter()
            .map(|i| {
                let mut counts: Vec<(u16, usize)> = Vec::new();
                for p in grid.subsamples(i, supersample) {
                    let l = self.label_at(p);
                    match counts.iter_mut().find(|(k, _)| *k == l) {
                        Some((_, c)) => *c += 1,
                        None => counts.push((l, 1)),
                    }
                }
                counts
                    .into_iter()
                    .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
                    .map_or(0, |(l, _)| l)
            })
            .collect();
        Ok(LabelMap {
            grid: grid.clone(),
            labels,
            tissues: self.tissues(),
        })
    }

    /// Fraction of each voxel covered by `label`, estimated from `supersample^ndim` sub-voxel
    /// samples (partial-volume weights).
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] naming `supersample` outside 1..=16.
    fn label_fraction(&self, grid: &Grid, label: u16, supersample: usize) -> Result<Vec<f32>> {
        self.supersampled_mean(grid, supersample, &|p| {
            if self.label_at(p) == label { 1.0 } else { 0.0 }
        })
    }

    /// Proton-density image: the mean PD over `supersample^ndim` sub-voxel samples.
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] naming `supersample` outside 1..=16.
    fn pd_image(&self, grid: &Grid, supersample: usize) -> Result<Vec<f32>> {
        let pd: Vec<f64> = self.tissues().iter().map(|t| t.pd).collect();
        self.supersampled_mean(grid, supersample, &|p| {
            pd.get(self.label_at(p) as usize).copied().unwrap_or(0.0)
        })
    }

    /// Mean of `f` over the sub-voxel samples of every voxel of `grid`.
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] naming `supersample` outside 1..=16.
    fn supersampled_mean(
        &self,
        grid: &Grid,
        supersample: usize,
        f: &(dyn Fn([f64; 3]) -> f64 + Sync),
    ) -> Result<Vec<f32>> {
        check_supersample(supersample)?;
        Ok((0..grid.len())
            .into_par_iter()
            .map(|i| {
                if supersample == 1 {
                    return f(grid.position_mm(i)) as f32;
                }
                let points = grid.subsamples(i, supersample);
                let sum: f64 = points.iter().map(|&p| f(p)).sum();
                (sum / points.len() as f64) as f32
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A disc of radius 3 mm (label 1) in air.
    struct Disc;
    impl Phantom for Disc {
        fn label_at(&self, p: [f64; 3]) -> u16 {
            u16::from(p[0] * p[0] + p[1] * p[1] <= 9.0)
        }
        fn tissues(&self) -> Vec<Tissue> {
            vec![
                Tissue::void("air", "air"),
                Tissue::new("disc", "water", 1.0, 3000.0, 2000.0),
            ]
        }
    }

    #[test]
    fn rasterize_masks_and_maps() {
        let map = Disc.rasterize(&[16, 16], &[16.0, 16.0]).unwrap();
        assert_eq!(map.labels.len(), 256);
        let n = map.count(1);
        // Voxel centres on integer mm: lattice points within radius 3 = 29.
        assert_eq!(n, 29);
        assert_eq!(
            map.roi_mask_named("disc")
                .unwrap()
                .iter()
                .filter(|&&b| b)
                .count(),
            29
        );
        assert!(map.roi_mask_named("nope").is_err());
        assert_eq!(map.pd_map().iter().filter(|&&v| v == 1.0).count(), 29);
        assert_eq!(map.t1_map_ms()[map.grid.index(8, 8, 0)], 3000.0);
        // Eroding by 1 mm keeps the lattice points whose 4-neighbours (and diagonals within
        // 1 mm, i.e. only the 4-neighbours) are inside: radius <= 2 plus a few.
        let eroded = map.eroded_mask(1, 1.0).unwrap();
        let m = eroded.iter().filter(|&&b| b).count();
        assert!(m < n && m >= 13, "{m}");
        assert!(map.eroded_mask(1, -1.0).is_err());
        assert_eq!(map.eroded_mask(1, 0.0).unwrap(), map.roi_mask(1));
    }

    #[test]
    fn supersampling_estimates_area() {
        let grid = Grid::new(&[16, 16], &[16.0, 16.0]).unwrap();
        let frac = Disc.label_fraction(&grid, 1, 16).unwrap();
        let area: f64 = frac.iter().map(|&f| f as f64).sum();
        assert!((area - std::f64::consts::PI * 9.0).abs() < 0.3, "{area}");
        let pd = Disc.pd_image(&grid, 4).unwrap();
        assert_eq!(pd.len(), 256);
        let sup = Disc.rasterize_supersampled(&grid, 4).unwrap();
        assert!((sup.count(1) as f64 - std::f64::consts::PI * 9.0).abs() < 4.0);
        assert!(Disc.rasterize_supersampled(&grid, 0).is_err());
        assert!(Disc.pd_image(&grid, 99).is_err());
    }
}
