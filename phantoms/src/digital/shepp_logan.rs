//! Shepp–Logan head phantoms: the 2-D original (Shepp & Logan 1974) and modified (Toft 1996)
//! ellipses, the 3-D ellipsoids of Koay et al. 2007, as intensity images and as label maps with
//! MR tissue parameters.
//!
//! Geometry is given in normalised coordinates (the head fits in `[-1, 1]`); one normalised
//! unit is `radius_mm` millimetres. A point `(x, y)` is inside an ellipse with centre
//! `(x0, y0)`, semi-axes `(a, b)` and angle `φ` when `u²/a² + v²/b² ≤ 1` with
//! `u = (x-x0) cos φ + (y-y0) sin φ`, `v = (y-y0) cos φ - (x-x0) sin φ` (the form of ISMRMRD's
//! `shepp_logan_phantom`); ellipsoids add `(z-z0)²/c²` and rotate about z.
//!
//! Labels are *regions*: each distinct set of overlapping ellipses is one label (the lens where
//! ellipse `e` overlaps `f` is label `"e+f"`), so the classic intensity is a function of the
//! label. Tissues (PD, T1, T2) follow the MR Shepp–Logan of Gach, Tanase & Boada (2008) as
//! encoded in phantominator's `mr_shepp_logan.py` (not checked against the paper itself):
//! T1 = A·B0^C seconds, a region taking the tissue of the last ellipse containing it. The
//! geometry is the classic one, so the skull ring `a` is Gach's bone marrow (Gach's extra
//! scalp ellipse is not part of this geometry):
//!
//! | regions | tissue | PD | T1 at 1.5 T / 3 T (ms) | T2 (ms) |
//! |---|---|---|---|---|
//! | `a` | bone marrow (A 0.533, C 0.088) | 0.12 | 552.4 / 587.1 | 50 |
//! | `b` | gray matter (A 0.857, C 0.376) | 0.745 | 998.1 / 1295.3 | 100 |
//! | `c`, `d` (ventricles); 3-D `j` | CSF | 0.98 | 4200 | 1990 |
//! | `e`, `d+e` (2-D), `c+e` (3-D) | white matter (A 0.583, C 0.382) | 0.617 | 680.7 / 887.0 | 80 |
//! | `f`…`j` (2-D), `f`…`i` (3-D), overlaps with them | tumour (A 0.926, C 0.217) | 0.95 | 1011.2 / 1175.3 | 100 |
//!
//! # References
//! - Shepp LA, Logan BF (1974). The Fourier reconstruction of a head section. IEEE Trans Nucl
//!   Sci 21:21–43 (ellipse table as in Kak & Slaney, *Principles of Computerized Tomographic
//!   Imaging*, Table 3.1).
//! - Toft P (1996). The Radon transform: theory and implementation, PhD thesis, DTU, 199–200
//!   (higher-contrast "modified" intensities; used by ISMRMRD, BART and MATLAB).
//! - Koay CG, Sarlls JE, Özarslan E (2007). Three-dimensional analytical magnetic resonance
//!   imaging phantom in the Fourier domain. Magn Reson Med 58:430–436.
//! - Gach HM, Tanase C, Boada F (2008). 2D & 3D Shepp-Logan phantom standards for MRI. 19th
//!   Int Conf on Systems Engineering, 521–526.

use std::f64::consts::PI;

use rayon::prelude::*;

use super::grid::{Grid, check_supersample, invalid};
use super::label_map::{Phantom, Tissue};
use crate::Result;

/// Default size of one normalised unit in mm: 150 mm, so that the `[-1, 1]` square is the
/// 300 mm reconstruction field of view `ismrmrd_generate_cartesian_shepp_logan` writes.
pub const DEFAULT_RADIUS_MM: f64 = 150.0;

/// Default field strength for the tissue parameters, in tesla.
pub const DEFAULT_FIELD_T: f64 = 3.0;

/// One ellipse (2-D) or ellipsoid (3-D) of a Shepp–Logan table, in normalised units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ellipsoid {
    /// Letter of the ellipse in the literature tables (`'a'` … `'j'`).
    pub letter: char,
    /// Intensity added inside.
    pub amplitude: f64,
    /// Centre `(x0, y0, z0)`.
    pub centre: [f64; 3],
    /// Semi-axes `(a, b, c)` along the rotated u, v and along z (`c` is infinite in 2-D).
    pub semi_axes: [f64; 3],
    /// Rotation about z in radians.
    pub angle_rad: f64,
}

impl Ellipsoid {
    /// Whether the normalised point `p` lies inside (boundary included).
    pub fn contains(&self, p: [f64; 3]) -> bool {
        Prepared::new(self).contains(p)
    }
}

/// An [`Ellipsoid`] with its trigonometry and squared axes computed once. The arithmetic is
/// exactly that of [`Ellipsoid::contains`] (same operations, same rounding).
#[derive(Debug, Clone, Copy)]
struct Prepared {
    centre: [f64; 3],
    sin: f64,
    cos: f64,
    a2: f64,
    b2: f64,
    /// Squared z semi-axis; infinite for a 2-D ellipse.
    c2: f64,
    /// Bounding radius along z (infinite in 2-D) and in the plane, for a quick rejection.
    reach_z: f64,
    reach_xy: f64,
}

impl Prepared {
    fn new(e: &Ellipsoid) -> Self {
        let (sin, cos) = e.angle_rad.sin_cos();
        let [a, b, c] = e.semi_axes;
        Prepared {
            centre: e.centre,
            sin,
            cos,
            a2: a * a,
            b2: b * b,
            c2: c * c,
            reach_z: c * (1.0 + 1e-9),
            reach_xy: a.max(b) * (1.0 + 1e-9),
        }
    }

    fn contains(&self, p: [f64; 3]) -> bool {
        let dx = p[0] - self.centre[0];
        let dy = p[1] - self.centre[1];
        if dx.abs() > self.reach_xy || dy.abs() > self.reach_xy {
            return false;
        }
        let u = dx * self.cos + dy * self.sin;
        let v = dy * self.cos - dx * self.sin;
        let mut r = u * u / self.a2 + v * v / self.b2;
        if self.c2.is_finite() {
            let dz = p[2] - self.centre[2];
            if dz.abs() > self.reach_z {
                return false;
            }
            r += dz * dz / self.c2;
        }
        r <= 1.0
    }
}

/// Which intensities the 2-D phantom carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SheppLoganVariant {
    /// Shepp & Logan 1974: skull 2.0, brain 1.02, features ±0.01–0.02 (CT densities).
    Original,
    /// Toft's modified intensities (skull 1.0, brain 0.2, features ±0.1–0.2), as in ISMRMRD
    /// `shepp_logan_phantom`, BART `phantom` and MATLAB `phantom('Modified Shepp-Logan')`.
    Modified,
}

/// Row of [`TABLE_2D`].
type Row2d = (char, [f64; 2], [f64; 2], f64, f64, f64);

/// Row of [`TABLE_3D`].
type Row3d = (char, f64, [f64; 3], [f64; 3], f64);

/// Ellipse geometry of the 2-D phantom: letter, (x0, y0), (a, b), angle in degrees, original
/// and modified amplitude.
const TABLE_2D: [Row2d; 10] = [
    ('a', [0.0, 0.0], [0.69, 0.92], 0.0, 2.0, 1.0),
    ('b', [0.0, -0.0184], [0.6624, 0.874], 0.0, -0.98, -0.8),
    ('c', [0.22, 0.0], [0.11, 0.31], -18.0, -0.02, -0.2),
    ('d', [-0.22, 0.0], [0.16, 0.41], 18.0, -0.02, -0.2),
    ('e', [0.0, 0.35], [0.21, 0.25], 0.0, 0.01, 0.1),
    ('f', [0.0, 0.1], [0.046, 0.046], 0.0, 0.01, 0.1),
    ('g', [0.0, -0.1], [0.046, 0.046], 0.0, 0.01, 0.1),
    ('h', [-0.08, -0.605], [0.046, 0.023], 0.0, 0.01, 0.1),
    ('i', [0.0, -0.606], [0.023, 0.023], 0.0, 0.01, 0.1),
    ('j', [0.06, -0.605], [0.023, 0.046], 0.0, 0.01, 0.1),
];

/// Koay et al. 2007, Table 1 (as in BART's `shepplogan3d`): letter, amplitude, (x0, y0, z0),
/// (a, b, c), angle about z in radians.
const TABLE_3D: [Row3d; 10] = [
    ('a', 2.0, [0.0, 0.0, 0.0], [0.69, 0.92, 0.9], 0.0),
    ('b', -0.8, [0.0, 0.0, 0.0], [0.6624, 0.874, 0.88], 0.0),
    (
        'c',
        -0.2,
        [-0.22, 0.0, -0.25],
        [0.41, 0.16, 0.21],
        3.0 * PI / 5.0,
    ),
    (
        'd',
        -0.2,
        [0.22, 0.0, -0.25],
        [0.31, 0.11, 0.22],
        2.0 * PI / 5.0,
    ),
    ('e', 0.2, [0.0, 0.35, -0.25], [0.21, 0.25, 0.5], 0.0),
    ('f', 0.2, [0.0, 0.1, -0.25], [0.046, 0.046, 0.046], 0.0),
    ('g', 0.1, [-0.08, -0.65, -0.25], [0.046, 0.023, 0.02], 0.0),
    (
        'h',
        0.1,
        [0.06, -0.65, -0.25],
        [0.046, 0.023, 0.02],
        PI / 2.0,
    ),
    (
        'i',
        0.2,
        [0.06, -0.105, 0.625],
        [0.056, 0.04, 0.1],
        PI / 2.0,
    ),
    ('j', -0.2, [0.0, 0.1, 0.625], [0.056, 0.056, 0.1], 0.0),
];

/// Tissue classes of the MR Shepp–Logan (Gach et al. 2008, via phantominator).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TissueClass {
    /// Skull ring (Gach: bone marrow).
    Marrow,
    /// Brain background (Gach: gray matter).
    GrayMatter,
    /// Ventricles.
    Csf,
    /// Ellipse e.
    WhiteMatter,
    /// The small ellipses.
    Tumour,
}

impl TissueClass {
    /// `(kind, pd, T1 in ms at field b0, T2 in ms)`: T1 = A·B0^C s, or an explicit T1.
    fn parameters(self, b0: f64) -> (&'static str, f64, f64, f64) {
        let power = |a: f64, c: f64| 1000.0 * a * b0.powf(c);
        match self {
            TissueClass::Marrow => ("bone marrow", 0.12, power(0.533, 0.088), 50.0),
            TissueClass::GrayMatter => ("gray matter", 0.745, power(0.857, 0.376), 100.0),
            TissueClass::Csf => ("CSF", 0.98, 4200.0, 1990.0),
            TissueClass::WhiteMatter => ("white matter", 0.617, power(0.583, 0.382), 80.0),
            TissueClass::Tumour => ("tumour", 0.95, power(0.926, 0.217), 100.0),
        }
    }
}

/// One label of a Shepp–Logan phantom: the points inside exactly the ellipses in `members`.
#[derive(Debug, Clone, Copy)]
struct Region {
    name: &'static str,
    members: &'static str,
    class: TissueClass,
}

/// Regions of the 2-D geometry (every overlap present at 4096² sampling).
const REGIONS_2D: [Region; 13] = [
    region("a", "a", TissueClass::Marrow),
    region("b", "ab", TissueClass::GrayMatter),
    region("c", "abc", TissueClass::Csf),
    region("d", "abd", TissueClass::Csf),
    region("e", "abe", TissueClass::WhiteMatter),
    region("d+e", "abde", TissueClass::WhiteMatter),
    region("f", "abf", TissueClass::Tumour),
    region("e+f", "abef", TissueClass::Tumour),
    region("g", "abg", TissueClass::Tumour),
    region("d+g", "abdg", TissueClass::Tumour),
    region("h", "abh", TissueClass::Tumour),
    region("i", "abi", TissueClass::Tumour),
    region("j", "abj", TissueClass::Tumour),
];

/// Regions of the 3-D geometry (every overlap present at 400³ sampling).
const REGIONS_3D: [Region; 12] = [
    region("a", "a", TissueClass::Marrow),
    region("b", "ab", TissueClass::GrayMatter),
    region("c", "abc", TissueClass::Csf),
    region("d", "abd", TissueClass::Csf),
    region("e", "abe", TissueClass::WhiteMatter),
    region("c+e", "abce", TissueClass::WhiteMatter),
    region("f", "abf", TissueClass::Tumour),
    region("e+f", "abef", TissueClass::Tumour),
    region("g", "abg", TissueClass::Tumour),
    region("h", "abh", TissueClass::Tumour),
    region("i", "abi", TissueClass::Tumour),
    region("j", "abj", TissueClass::Csf),
];

const fn region(name: &'static str, members: &'static str, class: TissueClass) -> Region {
    Region {
        name,
        members,
        class,
    }
}

/// Bit mask of a region's member letters (`'a'` = bit 0).
fn member_mask(members: &str) -> u16 {
    members.bytes().fold(0, |m, b| m | (1u16 << (b - b'a')))
}

/// The machinery shared by the 2-D and 3-D phantoms.
#[derive(Debug, Clone)]
struct Model {
    ellipsoids: Vec<Ellipsoid>,
    prepared: Vec<Prepared>,
    regions: &'static [Region],
    masks: Vec<u16>,
    radius_mm: f64,
    field_t: f64,
    planar: bool,
}

impl Model {
    fn new(ellipsoids: Vec<Ellipsoid>, regions: &'static [Region], planar: bool) -> Self {
        Model {
            masks: regions.iter().map(|r| member_mask(r.members)).collect(),
            prepared: ellipsoids.iter().map(Prepared::new).collect(),
            ellipsoids,
            regions,
            radius_mm: DEFAULT_RADIUS_MM,
            field_t: DEFAULT_FIELD_T,
            planar,
        }
    }

    fn normalise(&self, p: [f64; 3]) -> [f64; 3] {
        let z = if self.planar {
            0.0
        } else {
            p[2] / self.radius_mm
        };
        [p[0] / self.radius_mm, p[1] / self.radius_mm, z]
    }

    fn membership(&self, q: [f64; 3]) -> u16 {
        self.prepared
            .iter()
            .enumerate()
            .filter(|(_, e)| e.contains(q))
            .fold(0, |m, (k, _)| m | (1 << k))
    }

    fn label_at(&self, p: [f64; 3]) -> u16 {
        let mask = self.membership(self.normalise(p));
        if mask == 0 {
            return 0;
        }
        if let Some(k) = self.masks.iter().position(|&m| m == mask) {
            return k as u16 + 1;
        }
        // An overlap missing from the table (cannot happen with the built-in tables): the
        // region sharing the most ellipses, the later one on ties.
        let best = self
            .masks
            .iter()
            .enumerate()
            .max_by_key(|&(k, &m)| ((m & mask).count_ones(), k))
            .map_or(0, |(k, _)| k);
        best as u16 + 1
    }

    fn intensity_at(&self, p: [f64; 3]) -> f64 {
        let q = self.normalise(p);
        self.prepared
            .iter()
            .zip(&self.ellipsoids)
            .filter(|(e, _)| e.contains(q))
            .map(|(_, e)| e.amplitude)
            .sum()
    }

    fn tissues(&self) -> Vec<Tissue> {
        let mut t = vec![Tissue::void("background", "air")];
        t.extend(self.regions.iter().map(|r| {
            let (kind, pd, t1, t2) = r.class.parameters(self.field_t);
            Tissue::new(r.name, kind, pd, t1, t2)
        }));
        t
    }

    fn region_intensity(&self, label: u16) -> Option<f64> {
        if label == 0 {
            return Some(0.0);
        }
        let mask = *self.masks.get(label as usize - 1)?;
        Some(
            self.ellipsoids
                .iter()
                .enumerate()
                .filter(|(k, _)| mask & (1 << k) != 0)
                .map(|(_, e)| e.amplitude)
                .sum(),
        )
    }

    fn intensity(&self, grid: &Grid, supersample: usize) -> Result<Vec<f32>> {
        check_supersample(supersample)?;
        Ok((0..grid.len())
            .into_par_iter()
            .map(|i| {
                if supersample == 1 {
                    return self.intensity_at(grid.position_mm(i)) as f32;
                }
                let pts = grid.subsamples(i, supersample);
                (pts.iter().map(|&p| self.intensity_at(p)).sum::<f64>() / pts.len() as f64) as f32
            })
            .collect())
    }

    fn set_radius(&mut self, radius_mm: f64) -> Result<()> {
        self.radius_mm = finite_positive("radius_mm", radius_mm, "mm")?;
        Ok(())
    }

    fn set_field(&mut self, field_t: f64) -> Result<()> {
        self.field_t = finite_positive("field_t", field_t, "tesla")?;
        Ok(())
    }

    fn normalised_grid(&self, matrix: &[usize]) -> Result<Grid> {
        let fov = vec![2.0 * self.radius_mm; matrix.len()];
        Grid::new(matrix, &fov)
    }
}

/// `value` when finite and positive, else an error naming `what` (a number of `unit`).
fn finite_positive(what: &str, value: f64, unit: &str) -> Result<f64> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(invalid(
            what,
            format!("must be a finite positive number of {unit}, got {value}"),
        ))
    }
}

/// The methods and the [`Phantom`] impl that [`SheppLogan2d`] and [`SheppLogan3d`] share, all
/// delegating to their `model`; `$grid_doc` and `$intensity_doc` are the first lines of the
/// docs of `normalised_grid` and `intensity_at`, which differ between the two.
macro_rules! model_delegates {
    ($ty:ident, $grid_doc:literal, $intensity_doc:literal) => {
        impl $ty {
            /// The same phantom with one normalised unit = `radius_mm` millimetres.
            ///
            /// # Errors
            /// [`crate::Error::Invalid`] naming `radius_mm` unless finite and positive.
            pub fn with_radius_mm(mut self, radius_mm: f64) -> Result<Self> {
                self.model.set_radius(radius_mm)?;
                Ok(self)
            }

            /// The same phantom with tissue parameters for field strength `field_t` (tesla).
            ///
            /// # Errors
            /// [`crate::Error::Invalid`] naming `field_t` unless finite and positive.
            pub fn with_field_t(mut self, field_t: f64) -> Result<Self> {
                self.model.set_field(field_t)?;
                Ok(self)
            }

            /// Millimetres per normalised unit.
            pub fn radius_mm(&self) -> f64 {
                self.model.radius_mm
            }

            /// Field strength of the tissue parameters, in tesla.
            pub fn field_t(&self) -> f64 {
                self.model.field_t
            }

            #[doc = $grid_doc]
            ///
            /// # Errors
            /// [`crate::Error::Invalid`] for a bad matrix.
            pub fn normalised_grid(&self, matrix: &[usize]) -> Result<Grid> {
                self.model.normalised_grid(matrix)
            }

            #[doc = $intensity_doc]
            pub fn intensity_at(&self, p: [f64; 3]) -> f64 {
                self.model.intensity_at(p)
            }

            /// Intensity image on `grid` (x fastest), averaged over `supersample^ndim` sub-voxel
            /// samples (1 = sampled at voxel centres).
            ///
            /// # Errors
            /// [`crate::Error::Invalid`] naming `supersample` outside 1..=16.
            pub fn intensity(&self, grid: &Grid, supersample: usize) -> Result<Vec<f32>> {
                self.model.intensity(grid, supersample)
            }

            /// Intensity of every point carrying `label` (the sum of its ellipses' amplitudes).
            pub fn region_intensity(&self, label: u16) -> Option<f64> {
                self.model.region_intensity(label)
            }
        }

        impl Phantom for $ty {
            fn label_at(&self, p: [f64; 3]) -> u16 {
                self.model.label_at(p)
            }

            fn tissues(&self) -> Vec<Tissue> {
                self.model.tissues()
            }
        }
    };
}

/// The 2-D Shepp–Logan phantom (an infinitely long cylinder along z).
///
/// ```
/// use accord_phantoms::digital::{Phantom, SheppLogan2d, SheppLoganVariant};
/// let sl = SheppLogan2d::new(SheppLoganVariant::Modified);
/// let grid = sl.normalised_grid(&[256, 256]).unwrap(); // [-1, 1] at 256², as ISMRMRD
/// let image = sl.intensity(&grid, 1).unwrap();
/// assert_eq!(image[grid.index(128, 128, 0)], 0.2f32);
/// let labels = sl.rasterize_grid(&grid);
/// assert_eq!(labels.tissue(labels.labels[grid.index(128, 128, 0)]).unwrap().kind, "gray matter");
/// ```
#[derive(Debug, Clone)]
pub struct SheppLogan2d {
    variant: SheppLoganVariant,
    model: Model,
}

impl SheppLogan2d {
    /// The phantom with the given intensities, one normalised unit = [`DEFAULT_RADIUS_MM`],
    /// tissues at [`DEFAULT_FIELD_T`].
    pub fn new(variant: SheppLoganVariant) -> Self {
        let ellipses = TABLE_2D
            .iter()
            .map(|&(letter, c, ax, deg, orig, modi)| Ellipsoid {
                letter,
                amplitude: match variant {
                    SheppLoganVariant::Original => orig,
                    SheppLoganVariant::Modified => modi,
                },
                centre: [c[0], c[1], 0.0],
                semi_axes: [ax[0], ax[1], f64::INFINITY],
                angle_rad: deg.to_radians(),
            })
            .collect();
        SheppLogan2d {
            variant,
            model: Model::new(ellipses, &REGIONS_2D, true),
        }
    }

    /// The intensity variant.
    pub fn variant(&self) -> SheppLoganVariant {
        self.variant
    }

    /// The ten ellipses (normalised units).
    pub fn ellipses(&self) -> &[Ellipsoid] {
        &self.model.ellipsoids
    }
}

model_delegates!(
    SheppLogan2d,
    "A grid of `matrix` voxels whose field of view is the normalised square `[-1, 1]²`\n\
     (`2 * radius_mm` on each axis).",
    "Classic Shepp–Logan intensity at point `p` (mm)."
);

/// The 3-D Shepp–Logan phantom of Koay et al. 2007 (the table BART's `phantom -3` uses).
#[derive(Debug, Clone)]
pub struct SheppLogan3d {
    model: Model,
}

impl Default for SheppLogan3d {
    fn default() -> Self {
        Self::new()
    }
}

impl SheppLogan3d {
    /// The phantom with one normalised unit = [`DEFAULT_RADIUS_MM`], tissues at
    /// [`DEFAULT_FIELD_T`].
    pub fn new() -> Self {
        let ellipsoids = TABLE_3D
            .iter()
            .map(
                |&(letter, amplitude, centre, semi_axes, angle_rad)| Ellipsoid {
                    letter,
                    amplitude,
                    centre,
                    semi_axes,
                    angle_rad,
                },
            )
            .collect();
        SheppLogan3d {
            model: Model::new(ellipsoids, &REGIONS_3D, false),
        }
    }

    /// The ten ellipsoids (normalised units).
    pub fn ellipsoids(&self) -> &[Ellipsoid] {
        &self.model.ellipsoids
    }
}

model_delegates!(
    SheppLogan3d,
    "A grid of `matrix` voxels whose field of view is the normalised cube `[-1, 1]³`.",
    "Koay intensity at point `p` (mm)."
);

#[cfg(test)]
mod tests {
    use super::*;

    /// Every membership set met on a fine grid is a listed region, and every region is met.
    fn regions_complete(model: &Model, n: usize, dims: usize) {
        let mut seen = vec![false; model.masks.len()];
        let coord = |i: usize| (i as f64 - (n / 2) as f64 + 0.37) / (n / 2) as f64;
        let nz = if dims == 3 { n } else { 1 };
        for z in 0..nz {
            for y in 0..n {
                for x in 0..n {
                    let q = [coord(x), coord(y), if dims == 3 { coord(z) } else { 0.0 }];
                    let m = model.membership(q);
                    if m == 0 {
                        continue;
                    }
                    let k = model.masks.iter().position(|&r| r == m);
                    assert!(k.is_some(), "membership {m:#b} at {q:?} has no region");
                    seen[k.unwrap()] = true;
                }
            }
        }
        assert!(seen.iter().all(|&s| s), "unseen regions: {seen:?}");
    }

    #[test]
    fn region_tables_are_complete() {
        regions_complete(
            &SheppLogan2d::new(SheppLoganVariant::Modified).model,
            2048,
            2,
        );
        regions_complete(&SheppLogan3d::new().model, 200, 3);
    }

    #[test]
    fn labels_carry_the_intensity() {
        for sl in [
            SheppLogan2d::new(SheppLoganVariant::Modified),
            SheppLogan2d::new(SheppLoganVariant::Original),
        ] {
            let grid = sl.normalised_grid(&[300, 300]).unwrap();
            let map = sl.rasterize_grid(&grid);
            let img = sl.intensity(&grid, 1).unwrap();
            for (l, v) in map.labels.iter().zip(&img) {
                assert!((sl.region_intensity(*l).unwrap() as f32 - v).abs() < 1e-6);
            }
        }
        let sl3 = SheppLogan3d::new();
        let grid = sl3.normalised_grid(&[48, 48, 48]).unwrap();
        let map = sl3.rasterize_grid(&grid);
        let img = sl3.intensity(&grid, 1).unwrap();
        for (l, v) in map.labels.iter().zip(&img) {
            assert!((sl3.region_intensity(*l).unwrap() as f32 - v).abs() < 1e-6);
        }
    }

    #[test]
    fn classic_values() {
        let m = SheppLogan2d::new(SheppLoganVariant::Modified);
        let o = SheppLogan2d::new(SheppLoganVariant::Original);
        let r = DEFAULT_RADIUS_MM;
        // Skull ring, brain, ventricle c, ellipse e, e+f lens.
        for (p, vm, vo) in [
            ([0.0, 0.9], 1.0, 2.0),
            ([0.0, -0.5], 0.2, 1.02),
            ([0.22, 0.0], 0.0, 1.0),
            ([0.0, 0.35], 0.3, 1.03),
            ([0.0, 0.12], 0.4, 1.04),
        ] {
            let q = [p[0] * r, p[1] * r, 0.0];
            assert!((m.intensity_at(q) - vm).abs() < 1e-12, "{p:?}");
            assert!((o.intensity_at(q) - vo).abs() < 1e-12, "{p:?}");
        }
        assert!(
            (m.intensity_at([0.0, 0.0, 1e6]) - 0.2).abs() < 1e-12,
            "2-D ignores z"
        );
        // 3-D: brain 1.2, and nothing above the skull.
        let k = SheppLogan3d::new();
        assert!((k.intensity_at([0.0, -0.5 * r, 0.0]) - 1.2).abs() < 1e-12);
        assert_eq!(k.intensity_at([0.0, 0.0, 0.95 * r]), 0.0);
    }

    #[test]
    fn tissues_follow_gach() {
        let sl = SheppLogan2d::new(SheppLoganVariant::Modified);
        let t3 = sl.tissues();
        let t15 = sl.clone().with_field_t(1.5).unwrap().tissues();
        let find = |t: &[Tissue], n: &str| t.iter().find(|x| x.name == n).unwrap().clone();
        // White matter: 583 ms * B0^0.382.
        assert!((find(&t3, "e").t1_ms - 583.0 * 3f64.powf(0.382)).abs() < 1e-9);
        assert!((find(&t15, "e").t1_ms - 583.0 * 1.5f64.powf(0.382)).abs() < 1e-9);
        assert_eq!(find(&t3, "c").t1_ms, 4200.0);
        assert_eq!(find(&t3, "b").kind, "gray matter");
        assert_eq!(t3[0].pd, 0.0);
        assert!(sl.clone().with_field_t(0.0).is_err());
        assert!(sl.clone().with_radius_mm(f64::NAN).is_err());
    }
}
