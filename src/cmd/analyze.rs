//! `accord analyze TABLE.csv [--json] [--report DIR]`: inter-scanner agreement statistics.

use clap::Args;

/// Arguments of `accord analyze`.
#[derive(Args)]
pub struct AnalyzeArgs {
    /// Long-format measurement table (CSV).
    pub table: std::path::PathBuf,
}

/// Runs the subcommand.
pub fn run(_args: &AnalyzeArgs) -> Result<(), Box<dyn std::error::Error>> {
    Err("accord analyze: not built yet".into())
}
