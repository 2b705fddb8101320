//! The long-format measurement table (`subject,site,session,roi,value[,ref_value][,unit]`):
//! parsing and strict validation, exactly as specified in the reference set's README.
//!
//! Validation reports **every** problem with its 1-based line (header = line 1), the column and
//! the offending text; a table with any error yields no statistics. An empty `value` is a
//! missing measurement and means the same as an omitted row.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// The kinds of validation error, named as in the reference schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// A required column is absent from the header.
    MissingColumn,
    /// A row has a different number of fields than the header.
    WrongFieldCount,
    /// `subject`, `site` or `roi` is empty.
    EmptyId,
    /// `session` is not an integer >= 1.
    BadSession,
    /// `value` or `ref_value` is not a decimal number.
    NonNumericValue,
    /// `value` or `ref_value` is NaN, infinite, or overflows to infinity.
    NonFiniteValue,
    /// The same (subject, site, session, roi) appears twice.
    DuplicateKey,
    /// `ref_value` differs within one (site, roi).
    InconsistentRefValue,
    /// The file is empty or is not readable CSV text.
    UnreadableTable,
}

impl ErrorKind {
    /// The snake_case name used in JSON and messages.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::MissingColumn => "missing_column",
            ErrorKind::WrongFieldCount => "wrong_field_count",
            ErrorKind::EmptyId => "empty_id",
            ErrorKind::BadSession => "bad_session",
            ErrorKind::NonNumericValue => "non_numeric_value",
            ErrorKind::NonFiniteValue => "non_finite_value",
            ErrorKind::DuplicateKey => "duplicate_key",
            ErrorKind::InconsistentRefValue => "inconsistent_ref_value",
            ErrorKind::UnreadableTable => "unreadable_table",
        }
    }
}

/// One validation problem, located by line and column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationError {
    /// 1-based line of the row (header = line 1).
    pub line: usize,
    /// The column concerned, when one is.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub column: Option<String>,
    /// What kind of problem.
    pub kind: ErrorKind,
    /// The offending text, as found in the file (trimmed).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub raw: Option<String>,
    /// For `duplicate_key` and `inconsistent_ref_value`: the line that came first.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub first_line: Option<usize>,
    /// A sentence for humans.
    #[serde(default)]
    pub message: String,
}

impl std::fmt::Display for ValidationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}: {}: {}",
            self.line,
            self.kind.name(),
            self.message
        )
    }
}

/// One measurement row that passed validation.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// 1-based line in the file.
    pub line: usize,
    /// Measured object (phantom serial or travelling subject).
    pub subject: String,
    /// Scanner / site.
    pub site: String,
    /// Repeat index inside subject × site, >= 1.
    pub session: u32,
    /// ROI, sphere or metric name.
    pub roi: String,
    /// The measurement; `None` = missing.
    pub value: Option<f64>,
    /// Reference (true) value for the ROI at this site, if given.
    pub ref_value: Option<f64>,
    /// Unit label (empty when absent).
    pub unit: String,
}

/// A validated measurement table.
#[derive(Debug, Clone, Default)]
pub struct MeasurementTable {
    /// Data rows in file order (blank rows skipped), including rows with a missing value.
    pub rows: Vec<Measurement>,
    /// Whether the header has a `ref_value` column.
    pub has_ref_value_column: bool,
    /// Whether the header has a `unit` column.
    pub has_unit_column: bool,
}

/// The outcome of reading a table: the rows that parsed, and every problem found.
#[derive(Debug, Clone, Default)]
pub struct ParsedTable {
    /// The table (complete only when `errors` is empty).
    pub table: MeasurementTable,
    /// Number of non-blank data rows (the header excluded).
    pub n_rows: usize,
    /// All problems, in file order.
    pub errors: Vec<ValidationError>,
}

impl ParsedTable {
    /// Whether the table passed validation.
    pub fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }
}

const REQUIRED: [&str; 5] = ["subject", "site", "session", "roi", "value"];

/// How a decimal field parsed.
enum Number {
    Finite(f64),
    NonFinite,
    Invalid,
}

/// Parses `[+-]digits[.digits][(e|E)[+-]digits]`; `nan`/`inf`/`infinity` (any case, optional
/// sign) and overflow are non-finite; everything else is not a number.
fn parse_decimal(s: &str) -> Number {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let lower = body.to_ascii_lowercase();
    if lower == "nan" || lower == "inf" || lower == "infinity" {
        return Number::NonFinite;
    }
    let b = body.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i > start
    };
    if !digits(&mut i) {
        return Number::Invalid;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if !digits(&mut i) {
            return Number::Invalid;
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if !digits(&mut i) {
            return Number::Invalid;
        }
    }
    if i != b.len() {
        return Number::Invalid;
    }
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() => Number::Finite(v),
        Ok(_) => Number::NonFinite,
        Err(_) => Number::Invalid,
    }
}

/// Parses a session index: an integer >= 1 (digits only, optional leading `+`).
fn parse_session(s: &str) -> Option<u32> {
    let body = s.strip_prefix('+').unwrap_or(s);
    if body.is_empty() || !body.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    body.parse::<u32>().ok().filter(|&v| v >= 1)
}

/// Maps a record's byte offset to its 1-based line. The csv crate's own line counter skips
/// blank lines inconsistently, and a record's offset can point at blank lines before it.
struct LineIndex<'a> {
    text: &'a [u8],
    newlines: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a str) -> Self {
        let text = text.as_bytes();
        LineIndex {
            text,
            newlines: text
                .iter()
                .enumerate()
                .filter(|(_, c)| **c == b'\n')
                .map(|(i, _)| i)
                .collect(),
        }
    }

    fn line(&self, pos: Option<&csv::Position>) -> usize {
        let Some(pos) = pos else { return 0 };
        let mut b = pos.byte() as usize;
        while b < self.text.len() && (self.text[b] == b'\n' || self.text[b] == b'\r') {
            b += 1;
        }
        1 + self.newlines.partition_point(|&n| n < b)
    }
}

/// Reads and validates a table from CSV text. Never fails: problems are in `errors`.
pub fn parse_table(text: &str) -> ParsedTable {
    let mut out = ParsedTable::default();
    let lines = LineIndex::new(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let unreadable = |line: usize, message: String| ValidationError {
        line,
        column: None,
        kind: ErrorKind::UnreadableTable,
        raw: None,
        first_line: None,
        message,
    };
    // Header: the first non-blank record.
    let header = loop {
        match records.next() {
            None => {
                out.errors
                    .push(unreadable(1, "the table is empty: no header line".into()));
                return out;
            }
            Some(Err(e)) => {
                let line = lines.line(e.position()).max(1);
                out.errors
                    .push(unreadable(line, format!("not readable as CSV: {e}")));
                return out;
            }
            Some(Ok(r)) if r.iter().all(str::is_empty) => continue,
            Some(Ok(r)) => break r,
        }
    };
    let header_line = lines.line(header.position()).max(1);
    let names: Vec<String> = header
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    let col = |name: &str| names.iter().position(|n| n == name);
    let mut missing = false;
    for name in REQUIRED {
        if col(name).is_none() {
            missing = true;
            out.errors.push(ValidationError {
                line: header_line,
                column: Some(name.to_string()),
                kind: ErrorKind::MissingColumn,
                raw: Some(header.iter().collect::<Vec<_>>().join(",")),
                first_line: None,
                message: format!("required column '{name}' is missing from the header"),
            });
        }
    }
    if missing {
        return out;
    }
    let [c_subject, c_site, c_session, c_roi, c_value] = REQUIRED.map(|n| col(n).unwrap_or(0));
    let c_ref = col("ref_value");
    let c_unit = col("unit");
    out.table.has_ref_value_column = c_ref.is_some();
    out.table.has_unit_column = c_unit.is_some();

    // Keys are interned to small integers: one hash of each field instead of cloned tuples.
    let mut ids: HashMap<String, u32> = HashMap::new();
    let mut intern = |s: &str| -> u32 {
        if let Some(&id) = ids.get(s) {
            return id;
        }
        let id = ids.len() as u32;
        ids.insert(s.to_string(), id);
        id
    };
    let mut first_seen: HashMap<(u32, u32, u32, u32), usize> = HashMap::new();
    let mut ref_seen: HashMap<(u32, u32), (u64, usize)> = HashMap::new();
    for record in records {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = lines.line(e.position());
                out.errors
                    .push(unreadable(line, format!("not readable as CSV: {e}")));
                continue;
            }
        };
        if record.iter().all(str::is_empty) {
            continue;
        }
        out.n_rows += 1;
        let line = lines.line(record.position());
        if record.len() != names.len() {
            out.errors.push(ValidationError {
                line,
                column: None,
                kind: ErrorKind::WrongFieldCount,
                raw: Some(record.iter().collect::<Vec<_>>().join(",")),
                first_line: None,
                message: format!("{} fields, the header has {}", record.len(), names.len()),
            });
            continue;
        }
        let field = |c: usize| record.get(c).unwrap_or("");
        let mut row_ok = true;
        let mut push = |column: &str, kind: ErrorKind, raw: &str, message: String| {
            out.errors.push(ValidationError {
                line,
                column: Some(column.to_string()),
                kind,
                raw: Some(raw.to_string()),
                first_line: None,
                message,
            });
        };
        for (c, name) in [(c_subject, "subject"), (c_site, "site")] {
            if field(c).is_empty() {
                push(name, ErrorKind::EmptyId, "", format!("'{name}' is empty"));
                row_ok = false;
            }
        }
        let session = parse_session(field(c_session));
        if session.is_none() {
            let raw = field(c_session);
            push(
                "session",
                ErrorKind::BadSession,
                raw,
                format!("session '{raw}' is not an integer >= 1"),
            );
            row_ok = false;
        }
        if field(c_roi).is_empty() {
            push("roi", ErrorKind::EmptyId, "", "'roi' is empty".into());
            row_ok = false;
        }
        let number =
            |c: Option<usize>, name: &str, push: &mut dyn FnMut(&str, ErrorKind, &str, String)| {
                let raw = c.map_or("", field);
                if raw.is_empty() {
                    return Ok(None);
                }
                match parse_decimal(raw) {
                    Number::Finite(v) => Ok(Some(v)),
                    Number::NonFinite => {
                        push(
                            name,
                            ErrorKind::NonFiniteValue,
                            raw,
                            format!("{name} '{raw}' is not a finite number"),
                        );
                        Err(())
                    }
                    Number::Invalid => {
                        push(
                            name,
                            ErrorKind::NonNumericValue,
                            raw,
                            format!("{name} '{raw}' is not a decimal number"),
                        );
                        Err(())
                    }
                }
            };
        let value = number(Some(c_value), "value", &mut push);
        let ref_value = number(c_ref, "ref_value", &mut push);
        let (Ok(value), Ok(ref_value), Some(session), true) = (value, ref_value, session, row_ok)
        else {
            continue;
        };
        let m = Measurement {
            line,
            subject: field(c_subject).to_string(),
            site: field(c_site).to_string(),
            session,
            roi: field(c_roi).to_string(),
            value,
            ref_value,
            unit: c_unit.map_or("", field).to_string(),
        };
        let (subject_id, site_id, roi_id) = (intern(&m.subject), intern(&m.site), intern(&m.roi));
        let key = (subject_id, site_id, m.session, roi_id);
        if let Some(&first) = first_seen.get(&key) {
            out.errors.push(ValidationError {
                line,
                column: None,
                kind: ErrorKind::DuplicateKey,
                raw: Some(format!("{},{},{},{}", m.subject, m.site, m.session, m.roi)),
                first_line: Some(first),
                message: format!(
                    "subject '{}', site '{}', session {}, roi '{}' already appeared on line {first}",
                    m.subject, m.site, m.session, m.roi
                ),
            });
            continue;
        }
        first_seen.insert(key, line);
        if let Some(r) = m.ref_value {
            let k = (site_id, roi_id);
            match ref_seen.get(&k) {
                Some(&(bits, first)) if bits != r.to_bits() => {
                    out.errors.push(ValidationError {
                        line,
                        column: Some("ref_value".into()),
                        kind: ErrorKind::InconsistentRefValue,
                        raw: Some(c_ref.map_or("", field).to_string()),
                        first_line: Some(first),
                        message: format!(
                            "ref_value {r} for site '{}', roi '{}' differs from {} on line {first}",
                            m.site,
                            m.roi,
                            f64::from_bits(bits)
                        ),
                    });
                    continue;
                }
                Some(_) => {}
                None => {
                    ref_seen.insert(k, (r.to_bits(), line));
                }
            }
        }
        out.table.rows.push(m);
    }
    out.errors.sort_by_key(|e| e.line);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(usize, &'static str)> {
        parse_table(text)
            .errors
            .iter()
            .map(|e| (e.line, e.kind.name()))
            .collect()
    }

    #[test]
    fn decimal_grammar() {
        for ok in ["1", "-2.5", "+3.25e-2", "1E5", "007"] {
            assert!(matches!(parse_decimal(ok), Number::Finite(_)), "{ok}");
        }
        for bad in [
            "abc",
            "N/A",
            "1,234.5",
            "12.3.4",
            "0x1F",
            "4987.1mm3",
            "-",
            ".5",
            "5.",
            "1e",
            "",
        ] {
            assert!(matches!(parse_decimal(bad), Number::Invalid), "{bad}");
        }
        for nf in ["nan", "-Inf", "INFINITY", "+inf", "1e400", "-1e400"] {
            assert!(matches!(parse_decimal(nf), Number::NonFinite), "{nf}");
        }
    }

    #[test]
    fn every_error_is_reported_with_its_line() {
        let t = "subject,site,session,roi,value,ref_value\n\
                 a,s1,1,r,1.0,5\n\
                 a,s1,0,r,1.0,5\n\
                 ,s1,2,r,1.0,5\n\
                 a,s1,1,r,2.0,5\n\
                 b,s1,1,r,2.0,6\n\
                 b,s1,2,r\n\
                 \n\
                 c,s2,1,r,nan,\n";
        assert_eq!(
            kinds(t),
            vec![
                (3, "bad_session"),
                (4, "empty_id"),
                (5, "duplicate_key"),
                (6, "inconsistent_ref_value"),
                (7, "wrong_field_count"),
                (9, "non_finite_value")
            ]
        );
        let p = parse_table(t);
        assert_eq!(p.n_rows, 7);
        assert_eq!(p.errors[2].first_line, Some(2));
    }

    #[test]
    fn missing_columns_and_empty_tables() {
        assert_eq!(
            kinds("subject,site,roi\n"),
            vec![(1, "missing_column"), (1, "missing_column")]
        );
        assert_eq!(kinds(""), vec![(1, "unreadable_table")]);
    }

    #[test]
    fn empty_value_is_missing_and_quoted_fields_are_fields() {
        let p = parse_table(
            "subject,site,session,roi,value,unit\n a , s ,1,r,,ms\nb,s,1,r,\"1,234.5\",ms\n",
        );
        assert_eq!(p.table.rows.len(), 1);
        assert_eq!(p.table.rows[0].subject, "a");
        assert_eq!(p.table.rows[0].value, None);
        assert_eq!(p.errors[0].raw.as_deref(), Some("1,234.5"));
    }
}
