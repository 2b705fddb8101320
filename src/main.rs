//! `accord`: the Accord command-line tool. Thin wiring only: parse arguments, call the library,
//! print results. Subcommands arrive with the issues that need them.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

/// Vendor-agnostic MRI acquisition and reconstruction.
#[derive(Parser)]
#[command(name = "accord", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Summarise an ISMRMRD file: acquisitions, flags, counters, encodings, images, waveforms.
    Info(cmd::info::InfoArgs),
    /// Inter-scanner agreement of a measurement table: CoV, ICC, Bland–Altman, reports.
    Analyze(cmd::analyze::AnalyzeArgs),
    /// Image-based phantom QA on DICOM images: SNR, uniformity, ghosting, geometry.
    #[command(subcommand)]
    Qa(cmd::qa::QaCommand),
    /// Reconstruct ISMRMRD raw data with one configuration (`--explain` prints the pipeline).
    Recon(cmd::recon::ReconArgs),
    /// Pulseq sequences: `seq info` (summary, timing, k-space), `seq convert` (1.4/1.5), `seq plot`.
    #[command(subcommand)]
    Seq(cmd::seq::SeqCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Info(args) => cmd::info::run(&args),
        Command::Analyze(args) => cmd::analyze::run(&args),
        Command::Qa(command) => cmd::qa::run(&command),
        Command::Seq(command) => cmd::seq::run(&command),
        Command::Recon(args) => cmd::recon::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Library errors already name the file, the place and the cause.
            eprintln!("accord: error: {e}");
            ExitCode::FAILURE
        }
    }
}
