//! `accord seq info FILE [--json]`, `accord seq convert IN OUT [--version 1.4|1.5] [--force]`
//! and `accord seq plot FILE -o OUT.png|svg [--blocks A..B | --time T0..T1] [--force]`: thin
//! wiring over `accord_seq` (reader, `SeqSummary`, writer, `plot`) and atomic output writing.

use std::path::{Path, PathBuf};

use accord_seq::SeqSummary;
use accord_seq::plot::{PlotFormat, PlotOptions, PlotRange, plot};
use accord_seq::write::{WriteOptions, WriteVersion, write_file};
use clap::{Args, Subcommand, ValueEnum};

/// Pulseq subcommands.
#[derive(Subcommand)]
pub enum SeqCommand {
    /// Summarise a `.seq` file: version, blocks, duration, events, definitions, signature,
    /// timing check, k-space and gradient waveforms.
    Info(SeqInfoArgs),
    /// Rewrite a `.seq` file in format 1.5 or 1.4 (atomic; never replaces the input).
    Convert(SeqConvertArgs),
    /// Draw the sequence diagram (ADC, RF magnitude and phase, Gx, Gy, Gz) to PNG or SVG.
    Plot(SeqPlotArgs),
}

/// Arguments of `accord seq info`.
#[derive(Args)]
pub struct SeqInfoArgs {
    /// Pulseq `.seq` file (format 1.2 – 1.5).
    pub file: PathBuf,
    /// Print one JSON object (the reference corpus' key names) instead of the text summary.
    #[arg(long)]
    pub json: bool,
}

/// Target format of `accord seq convert`.
#[derive(Clone, Copy, ValueEnum)]
pub enum TargetVersion {
    /// Format 1.4.1.
    #[value(name = "1.4")]
    V14,
    /// Format 1.5.0.
    #[value(name = "1.5")]
    V15,
}

/// Arguments of `accord seq convert`.
#[derive(Args)]
pub struct SeqConvertArgs {
    /// Input `.seq` file (format 1.2 – 1.5).
    pub input: PathBuf,
    /// Output `.seq` file (must differ from the input).
    pub output: PathBuf,
    /// Format version to write.
    #[arg(long = "version", value_enum, default_value = "1.5")]
    pub version: TargetVersion,
    /// Replace OUTPUT if it exists.
    #[arg(long)]
    pub force: bool,
}

/// Arguments of `accord seq plot`.
#[derive(Args)]
pub struct SeqPlotArgs {
    /// Pulseq `.seq` file (format 1.2 – 1.5).
    pub file: PathBuf,
    /// Output picture; the extension (`.png` or `.svg`) picks the format.
    #[arg(short = 'o', long = "output")]
    pub output: PathBuf,
    /// Blocks to draw, 1-based inclusive (e.g. `1..10`).
    #[arg(long, conflicts_with = "time")]
    pub blocks: Option<String>,
    /// Time window in seconds (e.g. `0..20e-3`; `0..20ms` and `us` work too).
    #[arg(long)]
    pub time: Option<String>,
    /// Replace the output if it exists.
    #[arg(long)]
    pub force: bool,
}

/// Runs the subcommand.
pub fn run(command: &SeqCommand) -> Result<(), Box<dyn std::error::Error>> {
    match command {
        SeqCommand::Info(args) => {
            let seq = accord_seq::read_file(&args.file)?;
            let summary = SeqSummary::with_analysis(&seq);
            if args.json {
                println!("{}", serde_json::to_string_pretty(&summary)?);
            } else {
                print!("{summary}");
            }
            Ok(())
        }
        SeqCommand::Convert(args) => convert(args),
        SeqCommand::Plot(args) => plot_cmd(args),
    }
}

/// The canonical form of a path that may not exist yet (its parent canonicalised).
fn canonical_target(p: &Path) -> Option<PathBuf> {
    if let Ok(c) = p.canonicalize() {
        return Some(c);
    }
    let parent = match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    Some(parent.canonicalize().ok()?.join(p.file_name()?))
}

/// Refuses an output that is the input (same canonical path).
fn check_not_input(input: &Path, output: &Path) -> Result<(), String> {
    let same = match (input.canonicalize(), canonical_target(output)) {
        (Ok(a), Some(b)) => a == b,
        _ => false,
    };
    if same {
        return Err(format!(
            "{}: output is the input file {} (never overwritten); choose another output",
            output.display(),
            input.display()
        ));
    }
    Ok(())
}

/// Refuses an existing output without `--force`.
fn check_clobber(output: &Path, force: bool) -> Result<(), String> {
    if !force && output.exists() {
        return Err(format!(
            "{}: output exists; use --force to replace it",
            output.display()
        ));
    }
    Ok(())
}

fn convert(args: &SeqConvertArgs) -> Result<(), Box<dyn std::error::Error>> {
    check_not_input(&args.input, &args.output)?;
    check_clobber(&args.output, args.force)?;
    let seq = accord_seq::read_file(&args.input)?;
    let version = match args.version {
        TargetVersion::V14 => WriteVersion::V1_4,
        TargetVersion::V15 => WriteVersion::V1_5,
    };
    write_file(&args.output, &seq, WriteOptions { version }, args.force)
        .map_err(|e| e.with_file(&args.output))?;
    Ok(())
}

fn plot_cmd(args: &SeqPlotArgs) -> Result<(), Box<dyn std::error::Error>> {
    let ext = args
        .output
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    let format = match ext.as_deref() {
        Some("png") => PlotFormat::Png,
        Some("svg") => PlotFormat::Svg,
        _ => {
            return Err(format!(
                "{}: unknown picture format; the output must end in .png or .svg",
                args.output.display()
            )
            .into());
        }
    };
    check_not_input(&args.file, &args.output)?;
    check_clobber(&args.output, args.force)?;
    let range = match (&args.blocks, &args.time) {
        (Some(b), _) => PlotRange::parse_blocks(b)?,
        (None, Some(t)) => PlotRange::parse_time(t)?,
        (None, None) => PlotRange::All,
    };
    let seq = accord_seq::read_file(&args.file)?;
    let opts = PlotOptions {
        format,
        range,
        title: args
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        ..PlotOptions::default()
    };
    let bytes = plot(&seq, &opts).map_err(|e| e.with_file(&args.file))?;
    accord_phantoms::output::write_atomic(&args.output, &bytes, args.force)?;
    Ok(())
}
