//! Reports of an inter-scanner analysis ([`crate::stats::Analysis`]): the human summary
//! `accord analyze` prints, and the report directory `accord analyze --report DIR` writes —
//! a self-contained `report.html`, every figure as PNG and SVG, and `summary.csv`.
//!
//! Rendering is pure ([`render`] returns the files in memory); only [`write_report`] touches
//! the file system, atomically and without clobbering unless asked.
//!
//! ```
//! use accord_phantoms::report;
//! use accord_phantoms::stats::{analyze, parse_table};
//! let csv = "subject,site,session,roi,value\n\
//!            s1,A,1,T1,1000\ns1,B,1,T1,1010\ns2,A,1,T1,800\ns2,B,1,T1,812\ns3,A,1,T1,1200\ns3,B,1,T1,1190\n";
//! let parsed = parse_table(csv);
//! let analysis = analyze("example", &parsed);
//! let units = report::roi_units(&parsed.table);
//! let files = report::render(&analysis, &units).unwrap();
//! assert!(files.iter().any(|f| f.name == "report.html"));
//! assert!(files.iter().any(|f| f.name == "icc_forest.svg"));
//! ```

pub mod figures;
pub mod html;
pub mod interpret;
pub mod summary;
pub mod text;

use std::collections::BTreeMap;
use std::path::Path;

use crate::output::write_atomic;
use crate::stats::{Analysis, MeasurementTable};
use crate::{Error, Result};

pub use figures::{Figure, FigureKind};
pub use html::render_html;
pub use interpret::{KooLiBand, koo_li};
pub use summary::{HeadlineRow, SUMMARY_COLUMNS, headline_rows, summary_csv};
pub use text::summary;

/// Unit label per ROI (ROIs without a unit are absent).
pub type Units = BTreeMap<String, String>;

/// The unit of each ROI from the table's `unit` column (several distinct units for one ROI
/// are joined with ` / `).
pub fn roi_units(table: &MeasurementTable) -> Units {
    let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in &table.rows {
        let u = r.unit.trim();
        if u.is_empty() {
            continue;
        }
        let list = seen.entry(r.roi.clone()).or_default();
        if !list.iter().any(|x| x == u) {
            list.push(u.to_string());
        }
    }
    seen.into_iter().map(|(k, v)| (k, v.join(" / "))).collect()
}

/// One file of a report, in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFile {
    /// File name inside the report directory (no directories).
    pub name: String,
    /// Contents.
    pub bytes: Vec<u8>,
}

/// The name of the report page inside the report directory.
pub const REPORT_HTML: &str = "report.html";

/// Renders the whole report in memory: every figure (`.png` and `.svg`), `summary.csv`, and
/// `report.html` last.
///
/// # Errors
/// [`Error::Invalid`] when the analysis has no results (an invalid table); [`Error::Plot`]
/// when a figure cannot be drawn.
pub fn render(analysis: &Analysis, units: &Units) -> Result<Vec<ReportFile>> {
    if analysis.results.is_none() {
        return Err(Error::Invalid {
            what: analysis.table.clone(),
            message: "the table is invalid: no statistics, no report".into(),
        });
    }
    let figures = figures::all(analysis, units)?;
    let mut files = Vec::with_capacity(2 * figures.len() + 2);
    for f in &figures {
        files.push(ReportFile {
            name: format!("{}.png", f.stem),
            bytes: f.png.clone(),
        });
        files.push(ReportFile {
            name: format!("{}.svg", f.stem),
            bytes: f.svg.clone().into_bytes(),
        });
    }
    files.push(ReportFile {
        name: "summary.csv".into(),
        bytes: summary_csv(analysis)?,
    });
    files.push(ReportFile {
        name: REPORT_HTML.into(),
        bytes: render_html(analysis, units, &figures).into_bytes(),
    });
    Ok(files)
}

/// Writes a rendered report into `dir` (created if needed). Without `force`, refuses before
/// writing anything when `report.html` or any other file of the report already exists. Each
/// file is written atomically and `report.html` last, so a failure never leaves a partial or
/// stale-looking page.
///
/// # Errors
/// [`Error::OutputExists`] (naming the file) without `force`; [`Error::Io`] on a file-system
/// failure; [`Error::Invalid`] for a file name that is not a plain name.
pub fn write_report(dir: &Path, files: &[ReportFile], force: bool) -> Result<()> {
    for f in files {
        let plain =
            !f.name.is_empty() && !f.name.contains(['/', '\\']) && f.name != "." && f.name != "..";
        if !plain {
            return Err(Error::Invalid {
                what: f.name.clone(),
                message: "report file names must be plain names".into(),
            });
        }
    }
    if dir.exists() && !dir.is_dir() {
        return Err(Error::BadFile {
            path: dir.display().to_string(),
            message: "exists and is not a directory".into(),
        });
    }
    if !force {
        let html = dir.join(REPORT_HTML);
        let clash = std::iter::once(html.clone())
            .chain(files.iter().map(|f| dir.join(&f.name)))
            .find(|p| p.exists());
        if let Some(p) = clash {
            return Err(Error::OutputExists {
                path: p.display().to_string(),
            });
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let (page, rest): (Vec<&ReportFile>, Vec<&ReportFile>) =
        files.iter().partition(|f| f.name == REPORT_HTML);
    for f in rest.into_iter().chain(page) {
        write_atomic(&dir.join(&f.name), &f.bytes, force)?;
    }
    Ok(())
}
