//! Digital phantoms for simulation and tests: the Shepp–Logan head (2-D original and modified,
//! 3-D Koay) and the NIST/ISMRM system phantom (T1, T2 and PD sphere arrays with reference
//! T1/T2 by batch, field and temperature), defined analytically in millimetres and rasterised
//! on any grid as label maps with per-label tissue parameters (PD, T1, T2) and ROI masks.
//!
//! Everything here is a pure, deterministic function of its arguments: no files, no global
//! state (rasterisation runs on rayon's pool; results do not depend on the thread count).
//!
//! # Conventions
//! - **Units**: millimetres, milliseconds, tesla, °C.
//! - **Axes**: right-handed x, y, z. Images are stored x fastest, then y, then z
//!   ([`Grid::index`]); with row index = y, the y axis points *down* an image displayed with
//!   row 0 on top. No display flips are applied anywhere: a 2-D Shepp–Logan at 256² over its
//!   normalised field of view puts every pixel in the same region as ISMRMRD's
//!   `shepp_logan_phantom(256)` (values equal to float rounding, < 3e-8). BART's `phantom`
//!   images are the same arrays with BART's first axis = our −y and second = our x (3-D: the
//!   third = our −z).
//! - **Voxel centres**: voxel `i` of `n` over a field of view `fov` is centred at
//!   `(i - floor(n/2)) * fov / n` from the grid centre (the FFT convention of ISMRMRD and BART;
//!   voxel `n/2` is on the centre). A 2-D grid is the plane `z = centre_z`.
//! - **Sampling**: a label map samples each voxel at its centre; the supersampled variants
//!   average (or take the majority over) `s^ndim` sub-voxel points for partial-volume edges.
//! - **Labels**: `u16`, 0 = outside the object; [`LabelMap::tissues`] is indexed by label and
//!   names every label (`"T1-3"`, `"fill"`, `"e"`…).
//!
//! ```
//! use accord_phantoms::digital::{Batch, FieldStrength, Phantom, SphereArray, SystemPhantom};
//! let phantom = SystemPhantom::new(Batch::One, FieldStrength::T1_5).unwrap();
//! let volume = phantom.rasterize(&[64, 64, 64], &[220.0, 220.0, 220.0]).unwrap();
//! assert!(volume.label_named("T2-14").is_some());
//! let t1_map = volume.t1_map_ms();
//! assert_eq!(t1_map.len(), 64 * 64 * 64);
//! ```

pub mod grid;
pub mod label_map;
pub mod reference;
pub mod shepp_logan;
pub mod system;

pub use grid::{Grid, MAX_SUPERSAMPLE, MAX_VOXELS};
pub use label_map::{LabelMap, Phantom, Tissue};
pub use reference::{Batch, FieldStrength, ReferenceTable, SphereArray, SphereReference};
pub use shepp_logan::{
    DEFAULT_FIELD_T, DEFAULT_RADIUS_MM, Ellipsoid, SheppLogan2d, SheppLogan3d, SheppLoganVariant,
};
pub use system::{
    FILL_T1_MS, FILL_T2_MS, LABEL_AIR, LABEL_FILL, LABEL_SPHERE_WALL, PD_ARRAY_FRACTIONS,
    SPHERES_PER_ARRAY, Sphere, SystemGeometry, SystemPhantom, rasterize_plate,
};
