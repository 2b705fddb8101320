//! The ISMRMRD XML header (`ismrmrd.xsd`) as typed structs: parse, validate, serialize.
//!
//! The types cover the whole ISMRMRD 1.15 schema; names are the schema names in snake_case
//! (`encodedSpace` → [`Encoding::encoded_space`], `fieldOfView_mm` → [`FieldOfViewMm`]).
//!
//! * [`parse_header`] reads a header leniently: the ISMRMRD namespace or no namespace, any
//!   child order, numbers with surrounding whitespace, `600.000000` for floats, empty
//!   `matrixSize`/`limit` members as their schema defaults. A document that is not well-formed,
//!   has another root element, or holds a value that does not fit its type (`abc` for a
//!   number, `70000` for an unsigned short) is an error with line, column and element path.
//! * Required elements that are absent do **not** fail parsing (real files omit some): the
//!   field keeps its default, its schema name goes into the parent's `missing` list, and
//!   [`IsmrmrdHeader::validate`] reports it.
//! * Elements the schema does not know (vendor extras), and repeats of single elements, are
//!   kept as [`XmlElement`] trees in the parent's `extra` list, written back (after the known
//!   children), and reported by [`IsmrmrdHeader::unknown_elements`] and `validate`.
//! * Enumerations keep values outside the schema as `Unknown(String)`, so any value
//!   round-trips; `validate` reports them.
//! * [`IsmrmrdHeader::to_xml`] writes schema order in the ISMRMRD namespace, so
//!   `parse_header(&h.to_xml()) == Ok(h)`.
//!
//! Not kept: comments, processing instructions, attributes of schema elements (such as
//! `xsi:schemaLocation` on the root) and stray text between schema elements.

mod dom;
mod types;
pub(crate) mod value;

pub use types::{
    AccelerationFactor, AcquisitionSystemInformation, CalibrationMode, CoilLabel, Diffusion,
    DiffusionDimension, Encoding, EncodingLimits, EncodingSpace, ExperimentalConditions,
    FieldOfViewMm, GradientDirection, InterleavingDimension, IsmrmrdHeader, Limit, MatrixSize,
    MeasurementDependency, MeasurementInformation, Multiband, MultibandCalibration,
    MultibandSpacing, ParallelImaging, PatientGender, PatientPosition, ReferencedImageSequence,
    SequenceParameters, StudyInformation, SubjectInformation, ThreeDimensionalFloat, Trajectory,
    TrajectoryDescription, UserParameterBase64, UserParameterDouble, UserParameterLong,
    UserParameterString, UserParameters, WaveformInformation, WaveformType,
};

use crate::error::XmlError;
use value::XmlValue;

/// The ISMRMRD XML namespace, written on the root element by [`IsmrmrdHeader::to_xml`].
pub const ISMRMRD_NAMESPACE: &str = dom::ISMRMRD_NS;

/// An element the schema does not define, kept as written (a small generic tree).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct XmlElement {
    /// Element name as written, with its namespace prefix if it had one.
    pub name: String,
    /// Attributes as written (name, unescaped value), including namespace declarations.
    pub attributes: Vec<(String, String)>,
    /// Character data: exact for an element without children, trimmed for mixed content.
    pub text: String,
    /// Child elements in document order.
    pub children: Vec<XmlElement>,
}

/// Parse an ISMRMRD XML header.
///
/// Fails only on malformed XML, a root element other than `ismrmrdHeader`, or a value that
/// does not fit its type; schema problems are left to [`IsmrmrdHeader::validate`].
///
/// ```
/// use accord_ismrmrd::xml::{parse_header, Trajectory};
///
/// let h = parse_header(
///     r#"<ismrmrdHeader xmlns="http://www.ismrm.org/ISMRMRD">
///          <encoding><trajectory>radial</trajectory></encoding>
///        </ismrmrdHeader>"#,
/// )
/// .unwrap();
/// assert_eq!(h.encoding[0].trajectory, Trajectory::Radial);
/// assert_eq!(h.encoding[0].trajectory.to_string(), "radial");
/// // experimentalConditions, encodedSpace, reconSpace and encodingLimits are missing:
/// assert_eq!(h.validate().len(), 4);
/// assert_eq!(parse_header(&h.to_xml()).unwrap(), h);
/// ```
pub fn parse_header(xml: &str) -> Result<IsmrmrdHeader, XmlError> {
    let src = dom::Source::new(xml);
    let root = dom::parse_document(&src)?;
    if root.local != "ismrmrdHeader" {
        return Err(src.error(
            root.pos,
            &root.qname,
            format!("root element is <{}>, expected <ismrmrdHeader>", root.qname),
        ));
    }
    if !root.is_schema_ns() {
        return Err(src.error(
            root.pos,
            &root.qname,
            format!(
                "root element is in namespace '{}', expected '{}' or none",
                root.ns.as_deref().unwrap_or(""),
                dom::ISMRMRD_NS
            ),
        ));
    }
    IsmrmrdHeader::read(&src, &root, "ismrmrdHeader")
}

impl std::str::FromStr for IsmrmrdHeader {
    type Err = XmlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_header(s)
    }
}

impl IsmrmrdHeader {
    /// Serialize: `<?xml version="1.0"?>`, schema element order, default namespace
    /// `http://www.ismrm.org/ISMRMRD`, two-space indentation; unknown elements kept from the
    /// input are written after the known children of their parent.
    pub fn to_xml(&self) -> String {
        let mut w = value::Writer::new(
            "<?xml version=\"1.0\"?>\n",
            " xmlns=\"http://www.ismrm.org/ISMRMRD\"",
        );
        self.write(&mut w, "ismrmrdHeader");
        w.finish()
    }

    /// Schema violations: missing required elements, unknown (kept) elements, repeated single
    /// elements, values outside an enumeration, malformed dates/times/base64, and element
    /// counts (no `encoding`, more than 32 `waveformInformation`). Line and column are 0.
    pub fn validate(&self) -> Vec<XmlError> {
        let mut out = Vec::new();
        self.check("ismrmrdHeader", &mut out);
        out
    }

    /// Whether [`validate`](Self::validate) finds nothing.
    pub fn is_valid(&self) -> bool {
        self.validate().is_empty()
    }

    /// Element paths of the unknown elements kept from the input (e.g.
    /// `ismrmrdHeader/acquisitionSystemInformation/vendorExtra`).
    pub fn unknown_elements(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.unknown("ismrmrdHeader", &mut out);
        out
    }
}
