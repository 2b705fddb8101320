//! Image-based phantom QA on DICOM images, as hazen does it (ACR large phantom and MagNET flood
//! field): SNR (NEMA two-image subtraction and McCann single-image smoothing, with hazen's
//! normalised SNR, plus the NEMA single-image background-noise method, which hazen does not
//! have), ACR percent integral uniformity and percent signal ghosting on slice 7, and
//! ACR geometric accuracy (phantom diameters on slices 1 and 5 vs 190 mm).
//!
//! Layers: [`image`] and [`roi`] are the data the algorithms take; [`phantom`] finds the
//! phantom; [`snr`], [`uniformity`], [`ghosting`], [`geometry`] and [`acr`] (slice numbering)
//! are pure functions on images; [`dicom`] is the only module that reads files; [`run`] ties
//! them into the reports `accord qa` prints; [`figure`] draws images with their ROIs.

pub mod acr;
pub mod dicom;
pub mod figure;
pub mod geometry;
pub mod ghosting;
pub mod image;
pub mod phantom;
pub mod roi;
pub mod run;
pub mod snr;
pub mod uniformity;

pub use image::{Image, Spacing};
pub use roi::Roi;
pub use run::{PhantomKind, QaOptions, QaReport};
