//! The NIST/ISMRM system phantom (Caliber "Premium System Phantom"): a 200 mm sphere of fill
//! solution carrying a T1 array (14 NiCl2 spheres), a T2 array (14 MnCl2 spheres) and a PD
//! array (14 H2O/D2O spheres) on parallel plates.
//!
//! Phantom frame (mm): origin at the centre of the 200 mm sphere; z along the plate stack (the
//! anterior-posterior axis when the phantom is scanned coronally as in hazen's protocol);
//! looking at a plate image with x to the right and y down (row index), sphere 1 is at the
//! top and the outer ring (spheres 1–10) runs clockwise, the inner four spheres 11–14 sit on
//! the diagonals starting top-left, as in hazen's relaxometry templates and BART's
//! `nist_phantom_t2`.
//!
//! # Geometry and where the numbers come from
//! | quantity | value | source |
//! |---|---|---|
//! | fill radius | 100 mm | the 200 mm sphere (Stupic et al. 2021); the plate-4 slice of hazen's images shows a 198–202 mm outline |
//! | outer ring radius | 50 mm | hazen templates (192 px over 250 mm): 50.2–50.4 mm; hazen's site-4 images: 50.0 mm |
//! | inner ring radius | 28 mm | hazen templates: 28.1–28.4 mm; site-4 images: 27.2–29.5 mm |
//! | angles | outer 36°·(k−1), inner 45° + 90°·m, clockwise from the top | hazen templates, BART |
//! | sphere inner diameter | 16 mm (approximate) | half-maximum diameter in hazen's site-3/4 images: 15.3–16.6 mm |
//! | sphere wall | 1.5 mm (approximate) | BART's `nist_phantom_t2` ring (0.088 vs 0.074 normalised) |
//! | plate planes | T1 z = +55, T2 z = +15, PD z = −25 mm (approximate) | T1/T2 slices 40 mm apart in every hazen site; outline radii 99 and 82–84 mm on the T2/T1 slices put them ~15 and ~55 mm from the centre; PD 40 mm beyond T2 (hazen's 3-slice protocol) |
//!
//! Not modelled: the 57-sphere fiducial array, the plates themselves, resolution and
//! slice-profile insets, bolt holes. The PD array reuses the relaxation-array layout
//! (approximate) and carries nominal PD fractions 1.00, 0.90, …, 0.05 (placeholders: the
//! manual's H2O/D2O fractions were not available) with the fill's T1/T2.
//!
//! # Tissues
//! T1/T2 of the relaxation spheres come from a [`ReferenceTable`] chosen by batch, field and
//! temperature; their PD is 1 (aqueous solutions). The fill is given hazen's "free water"
//! values (T1 2700 ms, T2 2400 ms at both fields, approximate). Sphere walls carry no signal.

use serde::Serialize;

use super::grid::{Grid, invalid};
use super::label_map::{LabelMap, Phantom, Tissue};
use super::reference::{Batch, FieldStrength, ReferenceTable, SphereArray};
use crate::Result;

/// Label of everything outside the phantom.
pub const LABEL_AIR: u16 = 0;
/// Label of the fill solution.
pub const LABEL_FILL: u16 = 1;
/// Label shared by all sphere walls.
pub const LABEL_SPHERE_WALL: u16 = 2;
/// Number of spheres per array.
pub const SPHERES_PER_ARRAY: usize = 14;

/// Fill solution T1 in ms (hazen's "free water", approximate).
pub const FILL_T1_MS: f64 = 2700.0;
/// Fill solution T2 in ms (hazen's "free water", approximate).
pub const FILL_T2_MS: f64 = 2400.0;

/// Nominal PD of PD-1 … PD-14 (placeholders, see the module documentation).
pub const PD_ARRAY_FRACTIONS: [f64; SPHERES_PER_ARRAY] = [
    1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.35, 0.3, 0.25, 0.2, 0.15, 0.1, 0.05,
];

/// Dimensions of the system phantom in mm (see the module documentation for their sources).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SystemGeometry {
    /// Radius of the fill (inner radius of the 200 mm shell).
    pub fill_radius_mm: f64,
    /// Distance of spheres 1–10 from the plate centre.
    pub outer_ring_radius_mm: f64,
    /// Distance of spheres 11–14 from the plate centre.
    pub inner_ring_radius_mm: f64,
    /// Inner diameter of every sphere (the solution).
    pub sphere_inner_diameter_mm: f64,
    /// Wall thickness of every sphere.
    pub sphere_wall_mm: f64,
    /// z of the T1-array sphere centres.
    pub t1_plate_z_mm: f64,
    /// z of the T2-array sphere centres.
    pub t2_plate_z_mm: f64,
    /// z of the PD-array sphere centres.
    pub pd_plate_z_mm: f64,
    /// Rotation of all arrays about z, clockwise in the image (degrees).
    pub rotation_deg: f64,
}

impl Default for SystemGeometry {
    fn default() -> Self {
        SystemGeometry {
            fill_radius_mm: 100.0,
            outer_ring_radius_mm: 50.0,
            inner_ring_radius_mm: 28.0,
            sphere_inner_diameter_mm: 16.0,
            sphere_wall_mm: 1.5,
            t1_plate_z_mm: 55.0,
            t2_plate_z_mm: 15.0,
            pd_plate_z_mm: -25.0,
            rotation_deg: 0.0,
        }
    }
}

impl SystemGeometry {
    /// Checks that every dimension is finite, sizes are positive (the wall may be 0) and every
    /// sphere lies inside the fill.
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] naming the offending field.
    pub fn validate(&self) -> Result<()> {
        let fields = [
            ("fill_radius_mm", self.fill_radius_mm, true),
            ("outer_ring_radius_mm", self.outer_ring_radius_mm, true),
            ("inner_ring_radius_mm", self.inner_ring_radius_mm, true),
            (
                "sphere_inner_diameter_mm",
                self.sphere_inner_diameter_mm,
                true,
            ),
            ("sphere_wall_mm", self.sphere_wall_mm, false),
            ("t1_plate_z_mm", self.t1_plate_z_mm, false),
            ("t2_plate_z_mm", self.t2_plate_z_mm, false),
            ("pd_plate_z_mm", self.pd_plate_z_mm, false),
            ("rotation_deg", self.rotation_deg, false),
        ];
        for (name, v, positive) in fields {
            if !v.is_finite() || (positive && v <= 0.0) {
                return Err(invalid(
                    name,
                    format!(
                        "must be a finite{} number, got {v}",
                        if positive { " positive" } else { "" }
                    ),
                ));
            }
        }
        if self.sphere_wall_mm < 0.0 {
            return Err(invalid(
                "sphere_wall_mm",
                format!("must be >= 0, got {}", self.sphere_wall_mm),
            ));
        }
        let outer = self.sphere_inner_diameter_mm / 2.0 + self.sphere_wall_mm;
        for array in SphereArray::ALL {
            let z = self.plate_z_mm(array);
            let r = self.outer_ring_radius_mm.max(self.inner_ring_radius_mm);
            if (r * r + z * z).sqrt() + outer > self.fill_radius_mm {
                return Err(invalid(
                    "fill_radius_mm",
                    format!(
                        "the {} array (z = {z} mm, ring {r} mm) does not fit inside the fill",
                        array.prefix()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// z of the sphere centres of `array`.
    pub fn plate_z_mm(&self, array: SphereArray) -> f64 {
        match array {
            SphereArray::T1 => self.t1_plate_z_mm,
            SphereArray::T2 => self.t2_plate_z_mm,
            SphereArray::Pd => self.pd_plate_z_mm,
        }
    }

    /// Centre of sphere `index` (1-based, 1..=14) of `array`, in mm.
    pub fn sphere_centre_mm(&self, array: SphereArray, index: usize) -> [f64; 3] {
        let (radius, angle_deg) = if index <= 10 {
            (self.outer_ring_radius_mm, 36.0 * (index as f64 - 1.0))
        } else {
            (
                self.inner_ring_radius_mm,
                315.0 + 90.0 * (index as f64 - 11.0),
            )
        };
        let theta = (angle_deg + self.rotation_deg).to_radians();
        // Clockwise from the top of an image whose y axis points down.
        [
            radius * theta.sin(),
            -radius * theta.cos(),
            self.plate_z_mm(array),
        ]
    }
}

/// One sphere of the phantom.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sphere {
    /// `"T1-1"` … `"PD-14"`.
    pub name: String,
    /// The array it belongs to.
    pub array: SphereArray,
    /// 1-based index within the array.
    pub index: usize,
    /// Its label in label maps.
    pub label: u16,
    /// Centre in mm.
    pub centre_mm: [f64; 3],
    /// Radius of the solution in mm.
    pub inner_radius_mm: f64,
    /// Its tissue parameters.
    pub tissue: Tissue,
}

/// The NIST/ISMRM system phantom with the reference values of one batch, field and
/// temperature.
///
/// ```
/// use accord_phantoms::digital::{Batch, FieldStrength, Phantom, SphereArray, SystemPhantom};
/// let phantom = SystemPhantom::new(Batch::Two, FieldStrength::T3).unwrap();
/// let grid = phantom.plate_grid(SphereArray::T1, &[192, 192], &[250.0, 250.0]).unwrap();
/// let map = phantom.rasterize_grid(&grid);
/// let label = map.label_named("T1-1").unwrap();
/// assert_eq!(map.tissue(label).unwrap().t1_ms, 1883.97);
/// let roi = phantom.roi_mask(&grid, "T1-1", 2.0).unwrap();
/// assert!(roi.iter().filter(|&&b| b).count() > 50);
/// ```
#[derive(Debug, Clone)]
pub struct SystemPhantom {
    reference: ReferenceTable,
    geometry: SystemGeometry,
    spheres: Vec<Sphere>,
}

impl SystemPhantom {
    /// The phantom of `batch` with the reference values at `field` and 20 °C, default geometry.
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] naming `field` for a combination that is not tabulated.
    pub fn new(batch: Batch, field: FieldStrength) -> Result<Self> {
        Self::from_reference(
            ReferenceTable::new(batch, field)?,
            SystemGeometry::default(),
        )
    }

    /// The phantom with reference values at `temperature_c` (see
    /// [`ReferenceTable::at_temperature`]).
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] naming `field` or `temperature_c`.
    pub fn at_temperature(batch: Batch, field: FieldStrength, temperature_c: f64) -> Result<Self> {
        Self::from_reference(
            ReferenceTable::at_temperature(batch, field, temperature_c)?,
            SystemGeometry::default(),
        )
    }

    /// The phantom from an explicit reference table and geometry.
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] naming the geometry field that is out of range.
    pub fn from_reference(reference: ReferenceTable, geometry: SystemGeometry) -> Result<Self> {
        geometry.validate()?;
        let mut spheres = Vec::with_capacity(3 * SPHERES_PER_ARRAY);
        for (a, array) in SphereArray::ALL.into_iter().enumerate() {
            for index in 1..=SPHERES_PER_ARRAY {
                let name = array.sphere_name(index);
                let tissue = match array {
                    SphereArray::T1 | SphereArray::T2 => {
                        let r = reference.sphere(&name).ok_or_else(|| {
                            invalid("reference", format!("the table has no sphere {name}"))
                        })?;
                        let kind = if array == SphereArray::T1 {
                            "NiCl2 sphere"
                        } else {
                            "MnCl2 sphere"
                        };
                        Tissue::new(&name, kind, 1.0, r.t1_ms, r.t2_ms)
                    }
                    SphereArray::Pd => Tissue::new(
                        &name,
                        "H2O/D2O sphere (nominal PD)",
                        PD_ARRAY_FRACTIONS[index - 1],
                        FILL_T1_MS,
                        FILL_T2_MS,
                    ),
                };
                spheres.push(Sphere {
                    label: (3 + a * SPHERES_PER_ARRAY + index - 1) as u16,
                    centre_mm: geometry.sphere_centre_mm(array, index),
                    inner_radius_mm: geometry.sphere_inner_diameter_mm / 2.0,
                    name,
                    array,
                    index,
                    tissue,
                });
            }
        }
        Ok(SystemPhantom {
            reference,
            geometry,
            spheres,
        })
    }

    /// The same phantom with another geometry.
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] naming the geometry field that is out of range.
    pub fn with_geometry(self, geometry: SystemGeometry) -> Result<Self> {
        Self::from_reference(self.reference, geometry)
    }

    /// The reference table in use.
    pub fn reference(&self) -> &ReferenceTable {
        &self.reference
    }

    /// The geometry in use.
    pub fn geometry(&self) -> &SystemGeometry {
        &self.geometry
    }

    /// All 42 spheres: T1-1 … T1-14, T2-1 … T2-14, PD-1 … PD-14 (labels 3 … 44).
    pub fn spheres(&self) -> &[Sphere] {
        &self.spheres
    }

    /// The sphere called `name`.
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] naming `roi` for an unknown name.
    pub fn sphere(&self, name: &str) -> Result<&Sphere> {
        self.spheres.iter().find(|s| s.name == name).ok_or_else(|| {
            invalid(
                "roi",
                format!(
                    "no sphere called {name:?} (expected T1-1..T1-14, T2-1..T2-14 or PD-1..PD-14)"
                ),
            )
        })
    }

    /// A 2-D grid in the plane of `array`'s sphere centres, centred on the phantom axis.
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] for a bad matrix or field of view (see [`Grid::new`]).
    pub fn plate_grid(&self, array: SphereArray, matrix: &[usize], fov_mm: &[f64]) -> Result<Grid> {
        if matrix.len() != 2 {
            return Err(invalid(
                "matrix",
                format!("a plate image needs 2 sizes, got {}", matrix.len()),
            ));
        }
        Grid::new(matrix, fov_mm)?.with_centre_mm([0.0, 0.0, self.geometry.plate_z_mm(array)])
    }

    /// Mask of the voxels of `grid` whose centres lie inside sphere `name` shrunk by
    /// `erode_mm` (distance from the sphere centre ≤ inner radius − `erode_mm`): an analytic
    /// ROI, exact at any resolution.
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] naming `roi` for an unknown sphere, or `erode_mm` when it is
    /// negative, not finite, or not smaller than the sphere radius.
    pub fn roi_mask(&self, grid: &Grid, name: &str, erode_mm: f64) -> Result<Vec<bool>> {
        let sphere = self.sphere(name)?;
        if !(erode_mm.is_finite() && erode_mm >= 0.0 && erode_mm < sphere.inner_radius_mm) {
            return Err(invalid(
                "erode_mm",
                format!(
                    "must be >= 0 and below the sphere radius {} mm, got {erode_mm}",
                    sphere.inner_radius_mm
                ),
            ));
        }
        let r = sphere.inner_radius_mm - erode_mm;
        let c = sphere.centre_mm;
        Ok((0..grid.len())
            .map(|i| {
                let p = grid.position_mm(i);
                dist2(p, c) <= r * r
            })
            .collect())
    }
}

fn dist2(p: [f64; 3], c: [f64; 3]) -> f64 {
    (p[0] - c[0]).powi(2) + (p[1] - c[1]).powi(2) + (p[2] - c[2]).powi(2)
}

impl Phantom for SystemPhantom {
    fn label_at(&self, p: [f64; 3]) -> u16 {
        let g = &self.geometry;
        if p[0] * p[0] + p[1] * p[1] + p[2] * p[2] > g.fill_radius_mm * g.fill_radius_mm {
            return LABEL_AIR;
        }
        let r_in = g.sphere_inner_diameter_mm / 2.0;
        let r_out = r_in + g.sphere_wall_mm;
        for s in &self.spheres {
            if (p[2] - s.centre_mm[2]).abs() > r_out {
                continue;
            }
            let d2 = dist2(p, s.centre_mm);
            if d2 <= r_in * r_in {
                return s.label;
            }
            if d2 <= r_out * r_out {
                return LABEL_SPHERE_WALL;
            }
        }
        LABEL_FILL
    }

    fn tissues(&self) -> Vec<Tissue> {
        let mut t = vec![
            Tissue::void("air", "air"),
            Tissue::new("fill", "fill solution", 1.0, FILL_T1_MS, FILL_T2_MS),
            Tissue::void("sphere wall", "plastic"),
        ];
        t.extend(self.spheres.iter().map(|s| s.tissue.clone()));
        t
    }
}

/// Rasterises one plate of `phantom` (see [`SystemPhantom::plate_grid`]).
///
/// # Errors
/// [`crate::Error::Invalid`] for a bad matrix or field of view.
pub fn rasterize_plate(
    phantom: &SystemPhantom,
    array: SphereArray,
    matrix: &[usize],
    fov_mm: &[f64],
) -> Result<LabelMap> {
    Ok(phantom.rasterize_grid(&phantom.plate_grid(array, matrix, fov_mm)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_names() {
        let p = SystemPhantom::new(Batch::One, FieldStrength::T1_5).unwrap();
        assert_eq!(p.spheres().len(), 42);
        let t = p.tissues();
        assert_eq!(t.len(), 45);
        for s in p.spheres() {
            assert_eq!(t[s.label as usize].name, s.name);
        }
        assert_eq!(p.sphere("T1-1").unwrap().tissue.t1_ms, 2033.0);
        assert_eq!(p.sphere("T2-14").unwrap().tissue.t2_ms, 8.15);
        assert_eq!(p.sphere("PD-14").unwrap().tissue.pd, 0.05);
        assert!(p.sphere("T1-15").is_err());
        // Sphere 1 at the top (negative y), sphere 4 to the right, 11 top-left.
        let c = |n: &str| p.sphere(n).unwrap().centre_mm;
        assert!(c("T1-1")[1] < -49.9 && c("T1-1")[0].abs() < 1e-9);
        assert!(c("T1-4")[0] > 45.0);
        assert!(c("T1-11")[0] < 0.0 && c("T1-11")[1] < 0.0);
        assert_eq!(p.label_at(c("T2-7")), p.sphere("T2-7").unwrap().label);
        assert_eq!(p.label_at([0.0, 0.0, 0.0]), LABEL_FILL);
        assert_eq!(p.label_at([0.0, 0.0, 100.5]), LABEL_AIR);
        let mut w = c("PD-3");
        w[0] += 8.7;
        assert_eq!(p.label_at(w), LABEL_SPHERE_WALL);
    }

    #[test]
    fn geometry_is_checked() {
        let p = SystemPhantom::new(Batch::Two, FieldStrength::T3).unwrap();
        let what = |g: SystemGeometry| match p.clone().with_geometry(g) {
            Err(crate::Error::Invalid { what, .. }) => what,
            other => panic!("{other:?}"),
        };
        let bad = SystemGeometry {
            sphere_inner_diameter_mm: 0.0,
            ..Default::default()
        };
        assert_eq!(what(bad), "sphere_inner_diameter_mm");
        let bad = SystemGeometry {
            fill_radius_mm: 60.0,
            ..Default::default()
        };
        assert_eq!(what(bad), "fill_radius_mm");
        let bad = SystemGeometry {
            rotation_deg: f64::NAN,
            ..Default::default()
        };
        assert_eq!(what(bad), "rotation_deg");
        let bad = SystemGeometry {
            sphere_wall_mm: -1.0,
            ..Default::default()
        };
        assert_eq!(what(bad), "sphere_wall_mm");
        let grid = p
            .plate_grid(SphereArray::T1, &[64, 64], &[250.0, 250.0])
            .unwrap();
        assert!(p.roi_mask(&grid, "T1-1", 8.0).is_err());
        assert!(p.roi_mask(&grid, "T1-1", -0.1).is_err());
        assert!(p.roi_mask(&grid, "X-1", 0.0).is_err());
        assert!(
            p.plate_grid(SphereArray::T1, &[64, 64, 4], &[1.0, 1.0, 1.0])
                .is_err()
        );
    }
}
