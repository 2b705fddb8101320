//! Reading, writing and checking of single values: the [`XmlValue`] trait, its leaf
//! implementations (numbers, strings), the enumeration macro, and the pretty-printing writer.

use super::XmlElement;
use super::dom::{Node, Source, is_xml_ws};
use crate::error::XmlError;

/// A type that is the content of one XML element.
pub(crate) trait XmlValue: Sized {
    /// Read the element's content; `path` is the element path for error messages.
    fn read(src: &Source<'_>, node: &Node, path: &str) -> Result<Self, XmlError>;
    /// Write the element `<tag>…</tag>`.
    fn write(&self, w: &mut Writer, tag: &str);
    /// Report schema violations inside the value.
    fn check(&self, _path: &str, _out: &mut Vec<XmlError>) {}
    /// List paths of unknown elements kept inside the value.
    fn unknown(&self, _path: &str, _out: &mut Vec<String>) {}
}

/// A schema violation found by `validate()` (no position: the header may not come from text).
pub(crate) fn issue(element: impl Into<String>, message: impl Into<String>) -> XmlError {
    XmlError {
        line: 0,
        column: 0,
        element: element.into(),
        message: message.into(),
    }
}

/// The text of a simple-typed element; child elements are an error.
pub(crate) fn leaf_text<'n>(
    src: &Source<'_>,
    node: &'n Node,
    path: &str,
) -> Result<&'n str, XmlError> {
    if let Some(c) = node.children.first() {
        return Err(src.error(
            c.pos,
            path,
            format!(
                "<{}> holds a value and cannot contain the element <{}>",
                node.local, c.qname
            ),
        ));
    }
    Ok(&node.text)
}

impl XmlValue for String {
    fn read(src: &Source<'_>, node: &Node, path: &str) -> Result<Self, XmlError> {
        leaf_text(src, node, path).map(str::to_string)
    }
    fn write(&self, w: &mut Writer, tag: &str) {
        w.leaf(tag, self);
    }
}

macro_rules! int_value {
    ($($t:ty => $xsd:literal),* $(,)?) => {$(
        impl XmlValue for $t {
            fn read(src: &Source<'_>, node: &Node, path: &str) -> Result<Self, XmlError> {
                let text = leaf_text(src, node, path)?.trim_matches(is_xml_ws);
                let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(src.value_error(
                        node,
                        path,
                        format!("'{text}' is not a valid {} (an integer is required)", $xsd),
                    ));
                }
                text.trim_start_matches('+').parse::<$t>().map_err(|_| {
                    src.value_error(
                        node,
                        path,
                        format!(
                            "{text} is out of range for {} ({}..={})",
                            $xsd,
                            <$t>::MIN,
                            <$t>::MAX
                        ),
                    )
                })
            }
            fn write(&self, w: &mut Writer, tag: &str) {
                w.leaf(tag, &self.to_string());
            }
        }
    )*};
}
int_value!(u16 => "unsignedShort", u32 => "unsignedInt", u64 => "unsignedLong", i64 => "long");

macro_rules! float_value {
    ($($t:ty => $xsd:literal),* $(,)?) => {$(
        impl XmlValue for $t {
            fn read(src: &Source<'_>, node: &Node, path: &str) -> Result<Self, XmlError> {
                let text = leaf_text(src, node, path)?.trim_matches(is_xml_ws);
                let parsed = match text {
                    "INF" | "+INF" => Some(<$t>::INFINITY),
                    "-INF" => Some(<$t>::NEG_INFINITY),
                    "NaN" => Some(<$t>::NAN),
                    // Rust also accepts "inf"/"nan"/"infinity" words: only digits here.
                    t if t.bytes().any(|b| b.is_ascii_alphabetic() && !matches!(b, b'e' | b'E')) => None,
                    t => t.parse::<$t>().ok(),
                };
                parsed.ok_or_else(|| {
                    src.value_error(node, path, format!("'{text}' is not a valid {} (a number is required)", $xsd))
                })
            }
            fn write(&self, w: &mut Writer, tag: &str) {
                let s = if self.is_nan() {
                    "NaN".to_string()
                } else if self.is_infinite() {
                    if *self > 0.0 { "INF".to_string() } else { "-INF".to_string() }
                } else {
                    format!("{self:?}")
                };
                w.leaf(tag, &s);
            }
        }
    )*};
}
float_value!(f32 => "float", f64 => "double");

/// Define a schema enumeration: known values plus `Unknown(String)` for anything else, so
/// that every value read round-trips; `validate()` reports unknown values.
macro_rules! xml_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($xsd:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )*
        }
        default $default:ident;
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value the schema does not allow, kept as written (reported by `validate()`).
            Unknown(String),
        }

        impl $name {
            /// The values the schema allows, in schema order.
            pub const ALLOWED: &'static [&'static str] = &[$($text),*];

            /// The value as written in the XML.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $text, )*
                    Self::Unknown(s) => s,
                }
            }

            /// Whether the value is one the schema allows.
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Unknown(_))
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::$default
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $( $text => Self::$variant, )*
                    other => Self::Unknown(other.to_string()),
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(Self::from(s))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl $crate::xml::value::XmlValue for $name {
            fn read(
                src: &$crate::xml::dom::Source<'_>,
                node: &$crate::xml::dom::Node,
                path: &str,
            ) -> Result<Self, $crate::error::XmlError> {
                let text = $crate::xml::value::leaf_text(src, node, path)?;
                Ok(Self::from(text.trim_matches($crate::xml::dom::is_xml_ws)))
            }
            fn write(&self, w: &mut $crate::xml::value::Writer, tag: &str) {
                w.leaf(tag, self.as_str());
            }
            fn check(&self, path: &str, out: &mut Vec<$crate::error::XmlError>) {
                if let Self::Unknown(v) = self {
                    out.push($crate::xml::value::issue(
                        path,
                        format!(
                            "'{v}' is not an allowed {} value (allowed: {})",
                            $xsd,
                            Self::ALLOWED.join(", ")
                        ),
                    ));
                }
            }
        }
    };
}
pub(crate) use xml_enum;

/// Pretty-printing XML writer (two-space indent, one element per line).
pub(crate) struct Writer {
    buf: String,
    depth: usize,
    /// Written into the first start tag (the root's namespace declaration).
    root_attrs: Option<&'static str>,
    /// Buffer length right after each open start tag (to collapse empty elements).
    marks: Vec<usize>,
}

impl Writer {
    /// A writer whose first start tag gets `root_attrs` (e.g. ` xmlns="…"`).
    pub fn new(prolog: &str, root_attrs: &'static str) -> Self {
        Writer {
            buf: prolog.to_string(),
            depth: 0,
            root_attrs: Some(root_attrs),
            marks: Vec::new(),
        }
    }

    /// The text written.
    pub fn finish(self) -> String {
        self.buf
    }

    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.buf.push_str("  ");
        }
    }

    /// Start a complex element.
    pub fn open(&mut self, tag: &str) {
        self.indent();
        self.buf.push('<');
        self.buf.push_str(tag);
        if let Some(a) = self.root_attrs.take() {
            self.buf.push_str(a);
        }
        self.buf.push_str(">\n");
        self.depth += 1;
        self.marks.push(self.buf.len());
    }

    /// End a complex element (`<tag/>` when nothing was written inside).
    pub fn close(&mut self, tag: &str) {
        self.depth -= 1;
        let mark = self.marks.pop().unwrap_or(0);
        if self.buf.len() == mark {
            self.buf.truncate(mark - 2);
            self.buf.push_str("/>\n");
        } else {
            self.indent();
            self.buf.push_str("</");
            self.buf.push_str(tag);
            self.buf.push_str(">\n");
        }
    }

    /// A simple-typed element on one line.
    pub fn leaf(&mut self, tag: &str, text: &str) {
        self.indent();
        if text.is_empty() {
            self.buf.push_str(&format!("<{tag}/>\n"));
        } else {
            self.buf
                .push_str(&format!("<{tag}>{}</{tag}>\n", escape(text, false)));
        }
    }

    /// An element kept from the input, with its attributes and children.
    pub fn element(&mut self, e: &XmlElement) {
        self.indent();
        self.buf.push('<');
        self.buf.push_str(&e.name);
        for (k, v) in &e.attributes {
            self.buf.push_str(&format!(" {k}=\"{}\"", escape(v, true)));
        }
        if e.children.is_empty() {
            if e.text.is_empty() {
                self.buf.push_str("/>\n");
            } else {
                self.buf
                    .push_str(&format!(">{}</{}>\n", escape(&e.text, false), e.name));
            }
            return;
        }
        self.buf.push('>');
        self.buf.push_str(&escape(&e.text, false));
        self.buf.push('\n');
        self.depth += 1;
        for c in &e.children {
            self.element(c);
        }
        self.depth -= 1;
        self.indent();
        self.buf.push_str(&format!("</{}>\n", e.name));
    }
}

/// Escape text (or an attribute value) so that it reads back unchanged.
pub(crate) fn escape(s: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            '"' if attribute => out.push_str("&quot;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' if attribute => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
    out
}

/// Paths of the elements in `extra` below `path` (indexed when a name repeats).
pub(crate) fn extra_paths(extra: &[XmlElement], path: &str) -> Vec<String> {
    let mut seen: Vec<&str> = Vec::new();
    extra
        .iter()
        .map(|e| {
            let total = extra.iter().filter(|o| o.name == e.name).count();
            let n = seen.iter().filter(|s| **s == e.name).count();
            seen.push(&e.name);
            if total > 1 {
                format!("{path}/{}[{n}]", e.name)
            } else {
                format!("{path}/{}", e.name)
            }
        })
        .collect()
}

/// Report the kept unknown elements of one element (`known`: the names the schema allows
/// there, so that a repeated single element is described as such).
pub(crate) fn check_extra(
    extra: &[XmlElement],
    path: &str,
    known: &[&str],
    out: &mut Vec<XmlError>,
) {
    for (e, p) in extra.iter().zip(extra_paths(extra, path)) {
        let msg = if known.contains(&e.name.as_str()) {
            format!(
                "element <{}> may occur only once here; the repeated one was kept as an unknown element",
                e.name
            )
        } else {
            format!("unknown element <{}> (not in the ISMRMRD schema)", e.name)
        };
        out.push(issue(p, msg));
    }
}

/// Check an `xs:date` value (`[-]YYYY-MM-DD` with an optional time zone).
pub(crate) fn check_date(v: &str) -> Option<String> {
    let (body, tz) = split_tz(v);
    let ok = tz && {
        let body = body.strip_prefix('-').unwrap_or(body);
        let parts: Vec<&str> = body.split('-').collect();
        parts.len() == 3
            && parts[0].len() >= 4
            && all_digits(parts[0])
            && in_range(parts[1], 2, 1, 12)
            && in_range(parts[2], 2, 1, 31)
    };
    (!ok).then(|| format!("'{v}' is not a valid xs:date (YYYY-MM-DD)"))
}

/// Check an `xs:time` value (`HH:MM:SS[.fff]` with an optional time zone).
pub(crate) fn check_time(v: &str) -> Option<String> {
    let (body, tz) = split_tz(v);
    let ok = tz && {
        let (hms, frac) = match body.split_once('.') {
            Some((a, b)) => (a, Some(b)),
            None => (body, None),
        };
        let parts: Vec<&str> = hms.split(':').collect();
        parts.len() == 3
            && in_range(parts[0], 2, 0, 24)
            && in_range(parts[1], 2, 0, 59)
            && in_range(parts[2], 2, 0, 60)
            && frac.is_none_or(|f| !f.is_empty() && all_digits(f))
    };
    (!ok).then(|| format!("'{v}' is not a valid xs:time (HH:MM:SS)"))
}

/// Check an `xs:base64Binary` value.
pub(crate) fn check_base64(v: &str) -> Option<String> {
    let s: Vec<u8> = v.bytes().filter(|b| !b" \t\r\n".contains(b)).collect();
    let pad = s.iter().rev().take_while(|&&b| b == b'=').count();
    let body = &s[..s.len() - pad];
    let ok = s.len() % 4 == 0
        && pad <= 2
        && body
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/');
    (!ok).then(|| "value is not valid base64 (xs:base64Binary)".to_string())
}

/// Split an optional time zone (`Z`, `+HH:MM`, `-HH:MM`) off; the flag says it is well formed.
fn split_tz(v: &str) -> (&str, bool) {
    if let Some(b) = v.strip_suffix('Z') {
        return (b, true);
    }
    if v.len() > 6 && v.is_char_boundary(v.len() - 6) {
        let (b, tz) = v.split_at(v.len() - 6);
        let t = tz.as_bytes();
        if tz.is_ascii() && (t[0] == b'+' || t[0] == b'-') && t[3] == b':' {
            return (
                b,
                in_range(&tz[1..3], 2, 0, 14) && in_range(&tz[4..6], 2, 0, 59),
            );
        }
    }
    (v, true)
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn in_range(s: &str, len: usize, lo: u32, hi: u32) -> bool {
    s.len() == len && all_digits(s) && s.parse::<u32>().is_ok_and(|n| (lo..=hi).contains(&n))
}
