//! `accord qa snr|uniformity|ghosting|geometry FILES... [--json]`: image-based phantom QA.

use clap::{Args, Subcommand};

/// The QA measurements.
#[derive(Subcommand)]
pub enum QaCommand {
    /// Signal-to-noise ratio (NEMA subtraction of two images, or single image).
    Snr(QaArgs),
}

/// Arguments shared by the QA measurements.
#[derive(Args)]
pub struct QaArgs {
    /// DICOM files.
    pub files: Vec<std::path::PathBuf>,
}

/// Runs the subcommand.
pub fn run(_command: &QaCommand) -> Result<(), Box<dyn std::error::Error>> {
    Err("accord qa: not built yet".into())
}
