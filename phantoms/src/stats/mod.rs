//! Inter-scanner agreement statistics on a long-format measurement table
//! (`subject,site,session,roi,value[,ref_value][,unit]`), exactly as specified by the reference
//! set (`shared/ref/stats/README.md`): strict validation, CoV within/between/total, wSD and
//! repeatability coefficient, ISO 5725 reproducibility, the six ICC forms with ANOVA, F tests
//! and CIs (pingouin 0.7's formulas, full precision), Bland–Altman for every site pair, pooled
//! subject × ROI statistics, reference-value deviations, and a REML estimate when listwise
//! deletion drops targets.
//!
//! Pure computation: text in, [`Analysis`] out; reading files is the caller's business.
//!
//! ```
//! use accord_phantoms::stats::{analyze, parse_table};
//! let csv = "subject,site,session,roi,value\n\
//!            s1,A,1,T1,1000\ns1,B,1,T1,1010\ns2,A,1,T1,800\ns2,B,1,T1,812\ns3,A,1,T1,1200\ns3,B,1,T1,1190\n";
//! let analysis = analyze("example", &parse_table(csv));
//! let roi = &analysis.results.as_ref().unwrap().per_roi[0];
//! let icc_a1 = roi.icc_between_sites.form("ICC(2,1)").unwrap().icc.unwrap();
//! assert!(icc_a1 > 0.98);
//! ```

pub mod analysis;
pub mod bland_altman;
pub mod descriptive;
pub mod dist;
pub mod icc;
pub mod reml;
pub mod synthetic;
pub mod table;

pub use analysis::{Analysis, Design, PooledResult, Results, RoiResult, analyze};
pub use bland_altman::{BaPair, BlandAltman};
pub use icc::{IccBlock, IccForm, IccStatus};
pub use table::{ErrorKind, MeasurementTable, ParsedTable, ValidationError, parse_table};
