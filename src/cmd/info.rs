//! `accord info FILE [--group NAME] [--json]`: summary of an ISMRMRD HDF5 file or stream.

use std::path::PathBuf;

use accord_ismrmrd::FileSummary;
use clap::Args;

/// Arguments of `accord info`.
#[derive(Args)]
pub struct InfoArgs {
    /// ISMRMRD file: HDF5, or an ISMRMRD stream (e.g. from siemens_to_ismrmrd).
    pub file: PathBuf,
    /// Group to summarise (default: `dataset`, else the first group in the file).
    #[arg(long)]
    pub group: Option<String>,
    /// Print one JSON object instead of the human summary.
    #[arg(long)]
    pub json: bool,
}

/// Runs the subcommand.
pub fn run(args: &InfoArgs) -> Result<(), Box<dyn std::error::Error>> {
    let summary = FileSummary::from_path(&args.file, args.group.as_deref())?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print!("{summary}");
    }
    Ok(())
}
