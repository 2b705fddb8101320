//! `accord qa snr|uniformity|ghosting|geometry FILES_OR_DIRS... [--json] [--png OUT.png]
//! [--force]`: image-based phantom QA on DICOM images. Thin wiring: the measurements, their
//! reports and figures live in `accord_phantoms::qa`.

use std::path::PathBuf;

use accord_phantoms::output::write_atomic;
use accord_phantoms::qa::dicom::LoadOptions;
use accord_phantoms::qa::run::{self, PhantomKind, QaOptions, QaReport};
use clap::{Args, Subcommand, ValueEnum};

/// The QA measurements.
#[derive(Subcommand)]
pub enum QaCommand {
    /// Signal-to-noise ratio: two images (or series) by NEMA subtraction plus smoothing on each;
    /// one by the single-image smoothing method; every image also by the NEMA single-image
    /// background method (0.655 S / SD of air; flagged where its single-channel magnitude
    /// assumption fails). ACR series use slice 7.
    Snr(SnrArgs),
    /// ACR percent integral uniformity on slice 7 (limit >= 87.5 % below 3 T, >= 82 % at 3 T).
    Uniformity(QaArgs),
    /// ACR percent signal ghosting on slice 7 (limit <= 2.5 %).
    Ghosting(QaArgs),
    /// ACR geometric accuracy: diameters on slices 1 and 5 vs 190 mm (limit +-2 mm).
    Geometry(QaArgs),
}

/// Arguments shared by the QA measurements.
#[derive(Args)]
pub struct QaArgs {
    /// DICOM files, or folders holding them (read non-recursively; non-DICOM files in a folder
    /// are skipped). An ACR series, or the single image to measure.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Print one JSON object instead of the text summary.
    #[arg(long)]
    pub json: bool,
    /// Write a PNG of the measured image(s) with the ROIs drawn.
    #[arg(long, value_name = "OUT.png")]
    pub png: Option<PathBuf>,
    /// Overwrite the PNG if it exists.
    #[arg(long)]
    pub force: bool,
    /// Use stored pixel values, ignoring Rescale Slope/Intercept (as hazen does; for
    /// comparisons only).
    #[arg(long)]
    pub stored_values: bool,
}

/// Arguments of `accord qa snr`.
#[derive(Args)]
pub struct SnrArgs {
    /// Common arguments.
    #[command(flatten)]
    pub common: QaArgs,
    /// Phantom type: `acr` uses slice 7 and a 25-pixel smoothing kernel, `flood` the image given
    /// and a 9-pixel kernel; `auto` is `acr` when a series holds several images.
    #[arg(long, value_enum, default_value_t = Phantom::Auto)]
    pub phantom: Phantom,
    /// Smoothing kernel size in pixels (overrides the phantom's default).
    #[arg(long, value_name = "PIXELS", value_parser = clap::value_parser!(u16).range(2..))]
    pub kernel: Option<u16>,
}

/// Phantom type for SNR.
#[derive(Clone, Copy, ValueEnum)]
pub enum Phantom {
    /// ACR if a series holds several images, flood field otherwise.
    Auto,
    /// ACR large phantom.
    Acr,
    /// Flood-field (MagNET) phantom.
    Flood,
}

/// Runs the subcommand.
pub fn run(command: &QaCommand) -> Result<(), Box<dyn std::error::Error>> {
    let (common, phantom, kernel) = match command {
        QaCommand::Snr(a) => (&a.common, a.phantom, a.kernel),
        QaCommand::Uniformity(a) | QaCommand::Ghosting(a) | QaCommand::Geometry(a) => {
            (a, Phantom::Auto, None)
        }
    };
    // Refuse to clobber before doing any work.
    if let Some(png) = &common.png
        && !common.force
        && png.exists()
    {
        return Err(accord_phantoms::Error::OutputExists {
            path: png.display().to_string(),
        }
        .into());
    }
    let options = QaOptions {
        load: LoadOptions {
            stored_values: common.stored_values,
        },
        phantom: match phantom {
            Phantom::Auto => PhantomKind::Auto,
            Phantom::Acr => PhantomKind::Acr,
            Phantom::Flood => PhantomKind::Flood,
        },
        kernel: kernel.map(usize::from),
    };
    let report: QaReport = match command {
        QaCommand::Snr(_) => run::snr(&common.files, &options)?,
        QaCommand::Uniformity(_) => run::uniformity(&common.files, &options)?,
        QaCommand::Ghosting(_) => run::ghosting(&common.files, &options)?,
        QaCommand::Geometry(_) => run::geometry(&common.files, &options)?,
    };
    if let Some(png) = &common.png {
        let name = png.display().to_string();
        write_atomic(png, &report.png(&name)?, common.force)?;
    }
    if common.json {
        println!("{}", serde_json::to_string_pretty(&report.json)?);
    } else {
        println!("{}", report.text);
        if let Some(png) = &common.png {
            println!("  figure    {}", png.display());
        }
    }
    match report.failure {
        Some(f) => Err(format!("the measurement could not be made: {f}").into()),
        None => Ok(()),
    }
}
