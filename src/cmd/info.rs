//! `accord info FILE [--group NAME] [--json]`.

use std::path::PathBuf;

use accord_ismrmrd::{FileSummary, IsmrmrdFile};
use clap::Args;

/// Arguments of `accord info`.
#[derive(Args)]
pub struct InfoArgs {
    /// ISMRMRD HDF5 file.
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
    let file = IsmrmrdFile::open(&args.file)?;
    let summary = FileSummary::from_file(&file, args.group.as_deref())?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print!("{summary}");
    }
    Ok(())
}
