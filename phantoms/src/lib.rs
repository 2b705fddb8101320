//! Accord phantoms and multi-site agreement analysis.
//!
//! Layers, from the bottom up (algorithms never touch files; the `io`-facing modules do):
//! - [`stats`]: the long-format measurement table (parsing and strict validation) and the
//!   inter-scanner statistics on it: CoV, within-subject SD, repeatability and reproducibility,
//!   the six ICC forms with ANOVA, F tests and CIs, Bland–Altman, pooled and reference comparisons.
//! - [`report`]: figures (Bland–Altman, CoV bars, ICC forest, measured vs reference) and the
//!   self-contained HTML report built from an analysis.
//! - [`qa`]: image-based phantom QA on DICOM images (SNR, uniformity, ghosting, geometry).
//! - [`digital`]: digital phantoms (Shepp–Logan, NIST/ISMRM system phantom) as label maps.

pub mod digital;
pub mod error;
pub mod figure;
pub mod output;
pub mod qa;
pub mod report;
pub mod stats;

pub use error::{Error, Result};
