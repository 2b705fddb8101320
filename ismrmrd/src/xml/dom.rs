//! First pass of the parser: quick-xml events to a small element tree that remembers where
//! every element and text starts, so the typed pass can report line and column.

use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

use super::XmlElement;
use crate::error::XmlError;

/// The ISMRMRD namespace URI.
pub(crate) const ISMRMRD_NS: &str = "http://www.ismrm.org/ISMRMRD";

/// Deepest element nesting accepted (guards the recursive passes against hostile input).
const MAX_DEPTH: usize = 256;

/// Element names that the schema repeats; their paths carry an index (`encoding[0]`).
const REPEATED: &[&str] = &[
    "encoding",
    "waveformInformation",
    "coilLabel",
    "measurementDependency",
    "referencedSOPInstanceUID",
    "userParameterLong",
    "userParameterDouble",
    "userParameterString",
    "userParameterBase64",
    "diffusion",
    "spacing",
    "dZ",
    "TR",
    "TE",
    "TI",
    "flipAngle_deg",
    "echo_spacing",
];

/// One element of the document.
#[derive(Debug)]
pub(crate) struct Node {
    /// Name as written, with its prefix.
    pub qname: String,
    /// Name without its prefix.
    pub local: String,
    /// Resolved namespace URI (`None`: no namespace).
    pub ns: Option<String>,
    /// Attributes as written (names with prefixes, values unescaped).
    pub attrs: Vec<(String, String)>,
    /// Prefixes used by the element and attribute names, with their URIs (`""` for the
    /// default namespace of an unprefixed element).
    pub used_ns: Vec<(String, String)>,
    /// Concatenated character data (entities decoded, line ends normalised).
    pub text: String,
    /// Byte offset of the first non-whitespace character of `text`.
    pub text_pos: Option<usize>,
    /// Byte offset of the `<` of the start tag.
    pub pos: usize,
    /// Child elements in document order.
    pub children: Vec<Node>,
}

impl Node {
    /// No child elements and only whitespace text (`<x/>`, `<x></x>`, `<x> </x>`).
    pub fn is_empty(&self) -> bool {
        self.children.is_empty() && self.text.trim_matches(is_xml_ws).is_empty()
    }

    /// In the ISMRMRD namespace or in no namespace (both are accepted for schema elements).
    pub fn is_schema_ns(&self) -> bool {
        match &self.ns {
            None => true,
            Some(ns) => ns == ISMRMRD_NS,
        }
    }
}

/// XML whitespace.
pub(crate) fn is_xml_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// The source text and its line starts, for turning byte offsets into line/column.
pub(crate) struct Source<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> Source<'a> {
    /// Index the line starts of `text`.
    pub fn new(text: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Source { text, line_starts }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&s| s <= offset);
        let mut start = self.line_starts[line - 1];
        if start == 0 && self.text.starts_with('\u{feff}') {
            start = '\u{feff}'.len_utf8().min(offset); // a byte-order mark is not a column
        }
        (line, self.text[start..offset].chars().count() + 1)
    }

    /// An error at a byte offset.
    pub fn error(&self, offset: usize, element: &str, message: impl Into<String>) -> XmlError {
        let (line, column) = self.line_col(offset);
        XmlError {
            line,
            column,
            element: element.to_string(),
            message: message.into(),
        }
    }

    /// An error at an element's value: its first text character, else its start tag.
    pub fn value_error(&self, node: &Node, element: &str, message: impl Into<String>) -> XmlError {
        self.error(node.text_pos.unwrap_or(node.pos), element, message)
    }
}

/// An element being read: the node and its namespace declarations.
struct Open {
    node: Node,
    decls: Vec<(String, String)>,
    path: String,
}

/// Parse a whole document into its root element.
pub(crate) fn parse_document(src: &Source<'_>) -> Result<Node, XmlError> {
    let full = src.text;
    let base = if full.starts_with('\u{feff}') {
        '\u{feff}'.len_utf8()
    } else {
        0
    };
    let mut reader = Reader::from_str(&full[base..]);
    {
        let cfg = reader.config_mut();
        cfg.check_end_names = false; // checked here, to report the unclosed start tag
        cfg.check_comments = true;
        cfg.expand_empty_elements = false;
        cfg.trim_text(false);
    }
    let mut stack: Vec<Open> = Vec::new();
    let mut root: Option<Node> = None;
    let stack_path = |stack: &[Open]| stack.last().map(|o| o.path.clone()).unwrap_or_default();

    loop {
        let start = base + reader.buffer_position() as usize;
        let event = match reader.read_event() {
            Ok(ev) => ev,
            Err(e) => {
                let at = base + reader.error_position() as usize;
                return Err(src.error(at, &stack_path(&stack), format!("malformed XML: {e}")));
            }
        };
        match event {
            Event::Start(e) | Event::Empty(e) if root.is_some() && stack.is_empty() => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                return Err(src.error(
                    start,
                    &name,
                    format!(
                        "malformed XML: second root element <{name}> after the document element"
                    ),
                ));
            }
            Event::Start(e) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(src.error(
                        start,
                        &stack_path(&stack),
                        format!("elements nested deeper than {MAX_DEPTH} levels"),
                    ));
                }
                let open = open_element(src, &e, start, &stack, reader.decoder())?;
                stack.push(open);
            }
            Event::Empty(e) => {
                let open = open_element(src, &e, start, &stack, reader.decoder())?;
                match stack.last_mut() {
                    Some(parent) => parent.node.children.push(open.node),
                    None => root = Some(open.node),
                }
            }
            Event::End(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                let Some(open) = stack.pop() else {
                    return Err(src.error(
                        start,
                        "",
                        format!("malformed XML: unexpected end tag </{name}>"),
                    ));
                };
                if open.node.qname != name {
                    let (l, c) = src.line_col(start);
                    return Err(src.error(
                        open.node.pos,
                        &open.path,
                        format!(
                            "malformed XML: element <{}> is not closed (found </{name}> at line {l}, column {c})",
                            open.node.qname
                        ),
                    ));
                }
                match stack.last_mut() {
                    Some(parent) => parent.node.children.push(open.node),
                    None => root = Some(open.node),
                }
            }
            Event::Text(t) => {
                let raw: &[u8] = t.as_ref();
                let first = raw
                    .iter()
                    .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
                let text = t.xml10_content().map_err(|e| {
                    src.error(start, &stack_path(&stack), format!("malformed XML: {e}"))
                })?;
                add_text(src, &mut stack, &text, first.map(|i| start + i))?;
            }
            Event::CData(t) => {
                let text = t.decode().map_err(|e| {
                    src.error(start, &stack_path(&stack), format!("malformed XML: {e}"))
                })?;
                let text = text.replace("\r\n", "\n").replace('\r', "\n");
                add_text(src, &mut stack, &text, Some(start))?;
            }
            Event::GeneralRef(r) => {
                let name = String::from_utf8_lossy(r.as_ref()).into_owned();
                let resolved = if r.is_char_ref() {
                    match r.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        _ => {
                            return Err(src.error(
                                start,
                                &stack_path(&stack),
                                format!("malformed XML: invalid character reference &{name};"),
                            ));
                        }
                    }
                } else if let Some(s) = quick_xml::escape::resolve_predefined_entity(&name) {
                    s.to_string()
                } else {
                    return Err(src.error(
                        start,
                        &stack_path(&stack),
                        format!("malformed XML: unknown entity &{name}; (only the five XML entities are defined)"),
                    ));
                };
                add_text(src, &mut stack, &resolved, Some(start))?;
            }
            Event::Comment(_) | Event::PI(_) | Event::Decl(_) | Event::DocType(_) => {}
            Event::Eof => break,
        }
    }
    if let Some(open) = stack.last() {
        return Err(src.error(
            open.node.pos,
            &open.path,
            format!(
                "malformed XML: element <{}> is not closed (end of document reached)",
                open.node.qname
            ),
        ));
    }
    root.ok_or_else(|| src.error(full.len(), "", "malformed XML: no root element"))
}

/// Append character data to the open element (only whitespace is allowed outside the root).
fn add_text(
    src: &Source<'_>,
    stack: &mut [Open],
    text: &str,
    first_non_ws: Option<usize>,
) -> Result<(), XmlError> {
    match stack.last_mut() {
        Some(open) => {
            if open.node.text_pos.is_none() && !text.trim_matches(is_xml_ws).is_empty() {
                open.node.text_pos = first_non_ws;
            }
            open.node.text.push_str(text);
            Ok(())
        }
        None if text.trim_matches(is_xml_ws).is_empty() => Ok(()),
        None => Err(src.error(
            first_non_ws.unwrap_or(0),
            "",
            "malformed XML: text outside the root element",
        )),
    }
}

/// Build the node for a start (or empty-element) tag: attributes, namespaces, path.
fn open_element(
    src: &Source<'_>,
    e: &BytesStart<'_>,
    pos: usize,
    stack: &[Open],
    decoder: quick_xml::encoding::Decoder,
) -> Result<Open, XmlError> {
    let qname = String::from_utf8_lossy(e.name().as_ref()).into_owned();
    let local = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
    let path = {
        let parent = stack.last();
        let mut name = local.clone();
        if REPEATED.contains(&local.as_str()) {
            let n = parent.map_or(0, |p| {
                p.node.children.iter().filter(|c| c.local == local).count()
            });
            name = format!("{local}[{n}]");
        }
        match parent {
            Some(p) => format!("{}/{name}", p.path),
            None => name,
        }
    };
    let mut attrs = Vec::new();
    let mut decls = Vec::new();
    for a in e.attributes() {
        let a =
            a.map_err(|err| src.error(pos, &path, format!("malformed XML: bad attribute: {err}")))?;
        let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
        let value = a
            .decode_and_unescape_value(decoder)
            .map_err(|err| {
                src.error(
                    pos,
                    &path,
                    format!("malformed XML: bad attribute value: {err}"),
                )
            })?
            .into_owned();
        if key == "xmlns" {
            decls.push((String::new(), value.clone()));
        } else if let Some(p) = key.strip_prefix("xmlns:") {
            decls.push((p.to_string(), value.clone()));
        }
        attrs.push((key, value));
    }
    let resolve = |prefix: &str| -> Option<String> {
        if prefix == "xml" {
            return Some("http://www.w3.org/XML/1998/namespace".to_string());
        }
        decls
            .iter()
            .rev()
            .chain(stack.iter().rev().flat_map(|o| o.decls.iter().rev()))
            .find(|(p, _)| p == prefix)
            .map(|(_, uri)| uri.clone())
    };
    let resolve_declared = |prefix: &str| {
        resolve(prefix).ok_or_else(|| {
            src.error(
                pos,
                &path,
                format!("malformed XML: undeclared namespace prefix '{prefix}'"),
            )
        })
    };
    let mut used_ns = Vec::new();
    let ns = match qname.split_once(':') {
        Some((prefix, _)) => {
            let uri = resolve_declared(prefix)?;
            used_ns.push((prefix.to_string(), uri.clone()));
            Some(uri)
        }
        None => resolve("")
            .filter(|u| !u.is_empty())
            .inspect(|u| used_ns.push((String::new(), u.clone()))),
    };
    for (key, _) in &attrs {
        if let Some((prefix, _)) = key.split_once(':')
            && prefix != "xmlns"
            && prefix != "xml"
        {
            let uri = resolve_declared(prefix)?;
            used_ns.push((prefix.to_string(), uri));
        }
    }
    Ok(Open {
        node: Node {
            qname,
            local,
            ns,
            attrs,
            used_ns,
            text: String::new(),
            text_pos: None,
            pos,
            children: Vec::new(),
        },
        decls,
        path,
    })
}

/// Keep an element the schema does not know as a generic tree. Namespace prefixes (and a
/// foreign default namespace) declared on ancestors are re-declared on it so that it stays
/// self-contained when written back.
pub(crate) fn to_element(node: &Node) -> XmlElement {
    let mut el = convert(node);
    let mut declared: Vec<String> = Vec::new();
    let mut used: Vec<(String, String)> = Vec::new();
    collect_ns(node, &mut declared, &mut used);
    for (prefix, uri) in used {
        let is_default = prefix.is_empty();
        if is_default && uri == ISMRMRD_NS {
            continue; // the output root declares it
        }
        if !declared.contains(&prefix) {
            let key = if is_default {
                "xmlns".to_string()
            } else {
                format!("xmlns:{prefix}")
            };
            el.attributes.push((key, uri));
            declared.push(prefix);
        }
    }
    el
}

fn convert(node: &Node) -> XmlElement {
    let text = if node.children.is_empty() {
        node.text.clone()
    } else {
        node.text.trim_matches(is_xml_ws).to_string()
    };
    XmlElement {
        name: node.qname.clone(),
        attributes: node.attrs.clone(),
        text,
        children: node.children.iter().map(convert).collect(),
    }
}

fn collect_ns(node: &Node, declared: &mut Vec<String>, used: &mut Vec<(String, String)>) {
    for (k, _) in &node.attrs {
        if k == "xmlns" {
            declared.push(String::new());
        } else if let Some(p) = k.strip_prefix("xmlns:") {
            declared.push(p.to_string());
        }
    }
    for u in &node.used_ns {
        if !used.iter().any(|(p, _)| *p == u.0) {
            used.push(u.clone());
        }
    }
    for c in &node.children {
        collect_ns(c, declared, used);
    }
}
