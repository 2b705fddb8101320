//! `accord analyze TABLE.csv [--json] [--report DIR] [--force] [--quiet]`: inter-scanner
//! agreement statistics (CoV, wSD/RC, ICC, Bland–Altman, reference deviations) of a
//! long-format measurement table, as a human summary, a JSON document, or a report directory.

use std::path::{Path, PathBuf};

use accord_phantoms::report;
use accord_phantoms::stats::{analyze, parse_table};
use clap::Args;

/// Arguments of `accord analyze`.
#[derive(Args)]
pub struct AnalyzeArgs {
    /// Long-format measurement table (CSV): `subject,site,session,roi,value[,ref_value][,unit]`.
    pub table: PathBuf,
    /// Print the analysis as one JSON object instead of the human summary.
    #[arg(long)]
    pub json: bool,
    /// Write report.html (self-contained), the figures (PNG and SVG) and summary.csv into DIR.
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// Overwrite an existing report in DIR.
    #[arg(long)]
    pub force: bool,
    /// Print nothing on success except what --json asks for (errors still go to stderr).
    #[arg(long, short)]
    pub quiet: bool,
}

/// Reads the table as UTF-8 text; errors name the file.
fn read_table(path: &Path) -> Result<String, Box<dyn std::error::Error>> {
    let bytes = std::fs::read(path).map_err(|e| accord_phantoms::Error::io(path, e))?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = 1 + e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count();
        format!(
            "{}: not UTF-8 text (invalid byte at offset {at}, line {line}); save the table as UTF-8 CSV",
            path.display()
        )
        .into()
    })
}

/// Runs the subcommand.
pub fn run(args: &AnalyzeArgs) -> Result<(), Box<dyn std::error::Error>> {
    let text = read_table(&args.table)?;
    let name = args
        .table
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "table".into());
    let parsed = parse_table(&text);
    let analysis = analyze(&name, &parsed);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&analysis)?);
    }
    let file = args.table.display();
    if analysis.expect_error {
        for e in &analysis.validation.errors {
            eprintln!("{file}:{}: {}: {}", e.line, e.kind.name(), e.message);
        }
        let n = analysis.validation.errors.len();
        let no_report = if args.report.is_some() {
            "; no report written"
        } else {
            ""
        };
        return Err(format!(
            "{file}: invalid table ({n} error{}): no statistics computed{no_report}",
            if n == 1 { "" } else { "s" }
        )
        .into());
    }
    let units = report::roi_units(&parsed.table);
    if !args.json && !args.quiet {
        print!("{}", report::summary(&analysis, &units));
    }
    if let Some(dir) = &args.report {
        let html = dir.join(report::REPORT_HTML);
        if !args.force && html.exists() {
            return Err(accord_phantoms::Error::OutputExists {
                path: html.display().to_string(),
            }
            .into());
        }
        let files = report::render(&analysis, &units)?;
        report::write_report(dir, &files, args.force)?;
        if !args.quiet {
            let msg = format!(
                "report: {} ({} files in {})",
                html.display(),
                files.len(),
                dir.display()
            );
            if args.json {
                eprintln!("{msg}");
            } else {
                println!("\n{msg}");
            }
        }
    }
    Ok(())
}
