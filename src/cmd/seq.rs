//! `accord seq info FILE [--json]`: summary of a Pulseq `.seq` file (thin wiring over
//! `accord_seq::read_file` and `accord_seq::SeqSummary`).

use std::path::PathBuf;

use accord_seq::SeqSummary;
use clap::{Args, Subcommand};

/// Pulseq subcommands.
#[derive(Subcommand)]
pub enum SeqCommand {
    /// Summarise a `.seq` file: version, blocks, duration, events, definitions, signature.
    Info(SeqInfoArgs),
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
    }
}
