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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Info(args) => cmd::info::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("accord: error: {e}");
            let mut source = e.source();
            while let Some(s) = source {
                eprintln!("  caused by: {s}");
                source = s.source();
            }
            ExitCode::FAILURE
        }
    }
}
