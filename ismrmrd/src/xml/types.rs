//! The typed header: one struct per complex type of the ISMRMRD 1.15 schema, one enum per
//! enumeration. Field names are the schema names in snake_case; the schema name of every
//! field is in its documentation.

use super::XmlElement;
use super::dom::{Node, Source, to_element};
use super::value::{
    Writer, XmlValue, check_base64, check_date, check_extra, check_time, extra_paths, issue,
    xml_enum,
};
use crate::error::XmlError;

/// Type of a field of the given cardinality.
macro_rules! field_ty {
    (req, $t:ty) => { $t };
    (opt, $t:ty) => { Option<$t> };
    (list, $t:ty) => { Vec<$t> };
}

/// Whether the field holds at most one element.
macro_rules! is_single {
    (req) => {
        true
    };
    (opt) => {
        true
    };
    (list) => {
        false
    };
}

/// The value used for an empty element (`<z/>`) where the schema gives a default.
macro_rules! empty_default {
    () => {
        None
    };
    ($e:expr) => {
        Some($e)
    };
}

/// Move the values read into the struct field.
macro_rules! assign {
    (req, $out:ident, $f:ident, $xml:literal) => {
        match $f.into_iter().next() {
            Some(v) => $out.$f = v,
            None => $out.missing.push($xml.to_string()),
        }
    };
    (opt, $out:ident, $f:ident, $xml:literal) => {
        $out.$f = $f.into_iter().next();
    };
    (list, $out:ident, $f:ident, $xml:literal) => {
        $out.$f = $f;
    };
}

/// The present values of a field with their element paths.
macro_rules! values {
    (req, $s:ident, $f:ident, $path:ident, $xml:literal) => {
        (!$s.missing.iter().any(|m| m == $xml))
            .then(|| (format!("{}/{}", $path, $xml), &$s.$f))
            .into_iter()
            .collect::<Vec<_>>()
    };
    (opt, $s:ident, $f:ident, $path:ident, $xml:literal) => {
        $s.$f
            .iter()
            .map(|v| (format!("{}/{}", $path, $xml), v))
            .collect::<Vec<_>>()
    };
    (list, $s:ident, $f:ident, $path:ident, $xml:literal) => {
        $s.$f
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("{}/{}[{}]", $path, $xml, i), v))
            .collect::<Vec<_>>()
    };
}

/// Check the number of elements of a repeated field.
macro_rules! count_check {
    (req, $s:ident, $f:ident, $path:ident, $xml:literal, $out:ident) => {};
    (opt, $s:ident, $f:ident, $path:ident, $xml:literal, $out:ident) => {};
    (list ($min:literal, $max:expr), $s:ident, $f:ident, $path:ident, $xml:literal, $out:ident) => {
        check_count($s.$f.len(), $min, $max, $path, $xml, $out)
    };
}

/// Define a schema complex type: the struct (with `extra` and `missing`), and its reading,
/// writing (schema order) and checking.
macro_rules! xml_struct {
    (
        $(#[$smeta:meta])*
        pub struct $name:ident {
            $(
                $(#[$fmeta:meta])*
                $field:ident : $kind:ident $(($min:literal, $max:expr))? [$ty:ty] = $xml:literal
                    $(, empty = $empty:expr)? $(, check = $check:path)? ;
            )*
        }
    ) => {
        $(#[$smeta])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: field_ty!($kind, $ty), )*
            /// Unknown child elements kept from the input; written back after the known ones.
            #[serde(skip_serializing_if = "Vec::is_empty")]
            pub extra: Vec<XmlElement>,
            /// Schema names of required child elements that were absent from the input:
            /// reported by `validate()` and left out by `to_xml()`.
            #[serde(skip_serializing_if = "Vec::is_empty")]
            pub missing: Vec<String>,
        }

        impl $name {
            /// Schema names of the child elements, in schema order.
            pub(crate) const CHILDREN: &'static [&'static str] = &[$($xml),*];
        }

        impl XmlValue for $name {
            fn read(src: &Source<'_>, node: &Node, path: &str) -> Result<Self, XmlError> {
                let mut out = <Self as Default>::default();
                $( let mut $field: Vec<$ty> = Vec::new(); )*
                'children: for child in &node.children {
                    if child.is_schema_ns() {
                        $(
                            if child.local == $xml && accepts(is_single!($kind), $field.len()) {
                                let cpath = if is_single!($kind) {
                                    format!("{}/{}", path, $xml)
                                } else {
                                    format!("{}/{}[{}]", path, $xml, $field.len())
                                };
                                let dflt: Option<$ty> = empty_default!($($empty)?);
                                let v = match dflt {
                                    Some(d) if child.is_empty() => d,
                                    _ => <$ty as XmlValue>::read(src, child, &cpath)?,
                                };
                                $field.push(v);
                                continue 'children;
                            }
                        )*
                    }
                    out.extra.push(to_element(child));
                }
                $( assign!($kind, out, $field, $xml); )*
                Ok(out)
            }

            fn write(&self, w: &mut Writer, tag: &str) {
                w.open(tag);
                $(
                    for (_, v) in values!($kind, self, $field, tag, $xml) {
                        v.write(w, $xml);
                    }
                )*
                for e in &self.extra {
                    w.element(e);
                }
                w.close(tag);
            }

            fn check(&self, path: &str, out: &mut Vec<XmlError>) {
                for m in &self.missing {
                    out.push(issue(format!("{path}/{m}"), format!("required element <{m}> is missing")));
                }
                $(
                    count_check!($kind $(($min, $max))?, self, $field, path, $xml, out);
                    for (p, v) in values!($kind, self, $field, path, $xml) {
                        v.check(&p, out);
                        $(
                            if let Some(msg) = $check(v.as_str()) {
                                out.push(issue(p.clone(), msg));
                            }
                        )?
                    }
                )*
                check_extra(&self.extra, path, Self::CHILDREN, out);
            }

            fn unknown(&self, path: &str, out: &mut Vec<String>) {
                $(
                    for (p, v) in values!($kind, self, $field, path, $xml) {
                        v.unknown(&p, out);
                    }
                )*
                out.extend(extra_paths(&self.extra, path));
            }
        }
    };
}

/// Whether another occurrence of a child element is read into its field.
fn accepts(single: bool, count: usize) -> bool {
    !single || count == 0
}

/// Report a repeated element occurring too few or too many times.
fn check_count(n: usize, min: usize, max: usize, path: &str, xml: &str, out: &mut Vec<XmlError>) {
    if n < min {
        out.push(issue(
            format!("{path}/{xml}"),
            format!("at least {min} <{xml}> element(s) required, found {n}"),
        ));
    }
    if n > max {
        out.push(issue(
            format!("{path}/{xml}[{max}]"),
            format!("at most {max} <{xml}> elements allowed, found {n}"),
        ));
    }
}

const UNBOUNDED: usize = usize::MAX;

// ---------------------------------------------------------------------------------------------
// Enumerations

xml_enum! {
    /// `trajectoryType`: the k-space trajectory of an encoding.
    pub enum Trajectory ("trajectory") {
        /// `cartesian`
        Cartesian = "cartesian",
        /// `epi`
        Epi = "epi",
        /// `radial`
        Radial = "radial",
        /// `goldenangle`
        GoldenAngle = "goldenangle",
        /// `spiral`
        Spiral = "spiral",
        /// `other`
        Other = "other",
    }
    default Cartesian;
}

xml_enum! {
    /// `patientPositionType`: patient orientation on the table (head/feet first, supine/prone/decubitus).
    pub enum PatientPosition ("patientPosition") {
        /// `HFP`: head first, prone.
        Hfp = "HFP",
        /// `HFS`: head first, supine.
        Hfs = "HFS",
        /// `HFDR`: head first, decubitus right.
        Hfdr = "HFDR",
        /// `HFDL`: head first, decubitus left.
        Hfdl = "HFDL",
        /// `FFP`: feet first, prone.
        Ffp = "FFP",
        /// `FFS`: feet first, supine.
        Ffs = "FFS",
        /// `FFDR`: feet first, decubitus right.
        Ffdr = "FFDR",
        /// `FFDL`: feet first, decubitus left.
        Ffdl = "FFDL",
    }
    default Hfs;
}

xml_enum! {
    /// `patientGender` (pattern `[MFO]`).
    pub enum PatientGender ("patientGender") {
        /// `M`
        Male = "M",
        /// `F`
        Female = "F",
        /// `O`: other.
        Other = "O",
    }
    default Other;
}

xml_enum! {
    /// `calibrationModeType`: where parallel-imaging calibration data come from.
    pub enum CalibrationMode ("calibrationMode") {
        /// `embedded`
        Embedded = "embedded",
        /// `interleaved`
        Interleaved = "interleaved",
        /// `separate`
        Separate = "separate",
        /// `external`
        External = "external",
        /// `other`
        Other = "other",
    }
    default Other;
}

xml_enum! {
    /// `interleavingDimensionType`: the dimension along which calibration is interleaved.
    pub enum InterleavingDimension ("interleavingDimension") {
        /// `phase`
        Phase = "phase",
        /// `repetition`
        Repetition = "repetition",
        /// `contrast`
        Contrast = "contrast",
        /// `average`
        Average = "average",
        /// `other`
        Other = "other",
    }
    default Other;
}

xml_enum! {
    /// `multibandCalibrationType`: how simultaneous-multislice calibration is done.
    pub enum MultibandCalibration ("multiband calibration") {
        /// `separable2D`
        Separable2D = "separable2D",
        /// `full3D`
        Full3D = "full3D",
        /// `other`
        Other = "other",
    }
    default Other;
}

xml_enum! {
    /// `waveformType` of a `waveformInformation`.
    pub enum WaveformType ("waveformType") {
        /// `ecg`
        Ecg = "ecg",
        /// `pulse`
        Pulse = "pulse",
        /// `respiratory`
        Respiratory = "respiratory",
        /// `trigger`
        Trigger = "trigger",
        /// `gradientwaveform`
        GradientWaveform = "gradientwaveform",
        /// `other`
        Other = "other",
    }
    default Other;
}

xml_enum! {
    /// `diffusionDimensionType`: the encoding counter that steps through diffusion directions.
    pub enum DiffusionDimension ("diffusionDimension") {
        /// `average`
        Average = "average",
        /// `contrast`
        Contrast = "contrast",
        /// `phase`
        Phase = "phase",
        /// `repetition`
        Repetition = "repetition",
        /// `set`
        Set = "set",
        /// `segment`
        Segment = "segment",
        /// `user_0`
        User0 = "user_0",
        /// `user_1`
        User1 = "user_1",
        /// `user_2`
        User2 = "user_2",
        /// `user_3`
        User3 = "user_3",
        /// `user_4`
        User4 = "user_4",
        /// `user_5`
        User5 = "user_5",
        /// `user_6`
        User6 = "user_6",
        /// `user_7`
        User7 = "user_7",
    }
    default Repetition;
}

// ---------------------------------------------------------------------------------------------
// The header

xml_struct! {
    /// `ismrmrdHeader`: the whole XML header (schema order of the children).
    #[derive(Default)]
    pub struct IsmrmrdHeader {
        /// `version` (the writer's schema/library version; not reliable).
        version: opt [i64] = "version";
        /// `subjectInformation`
        subject_information: opt [SubjectInformation] = "subjectInformation";
        /// `studyInformation`
        study_information: opt [StudyInformation] = "studyInformation";
        /// `measurementInformation`
        measurement_information: opt [MeasurementInformation] = "measurementInformation";
        /// `acquisitionSystemInformation`
        acquisition_system_information: opt [AcquisitionSystemInformation] = "acquisitionSystemInformation";
        /// `experimentalConditions` (required).
        experimental_conditions: req [ExperimentalConditions] = "experimentalConditions";
        /// `encoding` (one or more).
        encoding: list(1, UNBOUNDED) [Encoding] = "encoding";
        /// `sequenceParameters`
        sequence_parameters: opt [SequenceParameters] = "sequenceParameters";
        /// `userParameters`
        user_parameters: opt [UserParameters] = "userParameters";
        /// `waveformInformation` (at most 32).
        waveform_information: list(0, 32) [WaveformInformation] = "waveformInformation";
    }
}

xml_struct! {
    /// `subjectInformationType`: the patient.
    #[derive(Default)]
    pub struct SubjectInformation {
        /// `patientName`
        patient_name: opt [String] = "patientName";
        /// `patientWeight_kg`
        patient_weight_kg: opt [f32] = "patientWeight_kg";
        /// `patientHeight_m`
        patient_height_m: opt [f32] = "patientHeight_m";
        /// `patientID`
        patient_id: opt [String] = "patientID";
        /// `patientBirthdate` (`xs:date`, kept as written, e.g. `1970-01-31`).
        patient_birthdate: opt [String] = "patientBirthdate", check = check_date;
        /// `patientGender`
        patient_gender: opt [PatientGender] = "patientGender";
    }
}

xml_struct! {
    /// `studyInformationType`: the study (exam).
    #[derive(Default)]
    pub struct StudyInformation {
        /// `studyDate` (`xs:date`, kept as written).
        study_date: opt [String] = "studyDate", check = check_date;
        /// `studyTime` (`xs:time`, kept as written, e.g. `11:59:45`).
        study_time: opt [String] = "studyTime", check = check_time;
        /// `studyID`
        study_id: opt [String] = "studyID";
        /// `accessionNumber`
        accession_number: opt [i64] = "accessionNumber";
        /// `referringPhysicianName`
        referring_physician_name: opt [String] = "referringPhysicianName";
        /// `studyDescription`
        study_description: opt [String] = "studyDescription";
        /// `studyInstanceUID`
        study_instance_uid: opt [String] = "studyInstanceUID";
        /// `bodyPartExamined`
        body_part_examined: opt [String] = "bodyPartExamined";
    }
}

xml_struct! {
    /// `measurementInformationType`: the series (measurement).
    #[derive(Default)]
    pub struct MeasurementInformation {
        /// `measurementID`
        measurement_id: opt [String] = "measurementID";
        /// `seriesDate` (`xs:date`, kept as written).
        series_date: opt [String] = "seriesDate", check = check_date;
        /// `seriesTime` (`xs:time`, kept as written).
        series_time: opt [String] = "seriesTime", check = check_time;
        /// `patientPosition` (required).
        patient_position: req [PatientPosition] = "patientPosition";
        /// `relativeTablePosition`
        relative_table_position: opt [ThreeDimensionalFloat] = "relativeTablePosition";
        /// `initialSeriesNumber`
        initial_series_number: opt [i64] = "initialSeriesNumber";
        /// `protocolName`
        protocol_name: opt [String] = "protocolName";
        /// `sequenceName`
        sequence_name: opt [String] = "sequenceName";
        /// `seriesDescription`
        series_description: opt [String] = "seriesDescription";
        /// `measurementDependency` (e.g. the noise or sensitivity-map scan).
        measurement_dependency: list(0, UNBOUNDED) [MeasurementDependency] = "measurementDependency";
        /// `seriesInstanceUIDRoot`
        series_instance_uid_root: opt [String] = "seriesInstanceUIDRoot";
        /// `frameOfReferenceUID`
        frame_of_reference_uid: opt [String] = "frameOfReferenceUID";
        /// `referencedImageSequence`
        referenced_image_sequence: opt [ReferencedImageSequence] = "referencedImageSequence";
    }
}

xml_struct! {
    /// `measurementDependencyType`: another measurement this one depends on.
    #[derive(Default)]
    pub struct MeasurementDependency {
        /// `dependencyType` (e.g. `Noise`, `SenMap`).
        dependency_type: req [String] = "dependencyType";
        /// `measurementID`
        measurement_id: req [String] = "measurementID";
    }
}

xml_struct! {
    /// `referencedImageSequenceType`: DICOM SOP instance UIDs of referenced images.
    #[derive(Default)]
    pub struct ReferencedImageSequence {
        /// `referencedSOPInstanceUID`
        referenced_sop_instance_uid: list(0, UNBOUNDED) [String] = "referencedSOPInstanceUID";
    }
}

xml_struct! {
    /// `threeDimensionalFloat`: an `{x, y, z}` vector.
    #[derive(Default)]
    pub struct ThreeDimensionalFloat {
        /// `x`
        x: req [f32] = "x";
        /// `y`
        y: req [f32] = "y";
        /// `z`
        z: req [f32] = "z";
    }
}

xml_struct! {
    /// `acquisitionSystemInformationType`: the scanner and the receiver.
    #[derive(Default)]
    pub struct AcquisitionSystemInformation {
        /// `systemVendor`
        system_vendor: opt [String] = "systemVendor";
        /// `systemModel`
        system_model: opt [String] = "systemModel";
        /// `systemFieldStrength_T`
        system_field_strength_t: opt [f32] = "systemFieldStrength_T";
        /// `relativeReceiverNoiseBandwidth`
        relative_receiver_noise_bandwidth: opt [f32] = "relativeReceiverNoiseBandwidth";
        /// `receiverChannels`
        receiver_channels: opt [u16] = "receiverChannels";
        /// `coilLabel`
        coil_label: list(0, UNBOUNDED) [CoilLabel] = "coilLabel";
        /// `institutionName`
        institution_name: opt [String] = "institutionName";
        /// `stationName`
        station_name: opt [String] = "stationName";
        /// `deviceID`
        device_id: opt [String] = "deviceID";
        /// `deviceSerialNumber`
        device_serial_number: opt [String] = "deviceSerialNumber";
    }
}

xml_struct! {
    /// `coilLabelType`: the name of one receiver channel.
    #[derive(Default)]
    pub struct CoilLabel {
        /// `coilNumber`
        coil_number: req [u16] = "coilNumber";
        /// `coilName`
        coil_name: req [String] = "coilName";
    }
}

xml_struct! {
    /// `experimentalConditionsType`.
    #[derive(Default)]
    pub struct ExperimentalConditions {
        /// `H1resonanceFrequency_Hz` (required).
        h1_resonance_frequency_hz: req [i64] = "H1resonanceFrequency_Hz";
    }
}

xml_struct! {
    /// `encodingType`: one encoding space (matrix, field of view, limits, trajectory).
    #[derive(Default)]
    pub struct Encoding {
        /// `encodedSpace` (required).
        encoded_space: req [EncodingSpace] = "encodedSpace";
        /// `reconSpace` (required).
        recon_space: req [EncodingSpace] = "reconSpace";
        /// `encodingLimits` (required).
        encoding_limits: req [EncodingLimits] = "encodingLimits";
        /// `trajectory` (required).
        trajectory: req [Trajectory] = "trajectory";
        /// `trajectoryDescription`
        trajectory_description: opt [TrajectoryDescription] = "trajectoryDescription";
        /// `parallelImaging`
        parallel_imaging: opt [ParallelImaging] = "parallelImaging";
        /// `echoTrainLength`
        echo_train_length: opt [i64] = "echoTrainLength";
    }
}

xml_struct! {
    /// `encodingSpaceType`: a matrix and its field of view.
    #[derive(Default)]
    pub struct EncodingSpace {
        /// `matrixSize` (required).
        matrix_size: req [MatrixSize] = "matrixSize";
        /// `fieldOfView_mm` (required).
        field_of_view_mm: req [FieldOfViewMm] = "fieldOfView_mm";
    }
}

xml_struct! {
    /// `matrixSizeType`: matrix size; an empty element (`<z/>`) reads as the schema default 1.
    pub struct MatrixSize {
        /// `x`
        x: req [u16] = "x", empty = 1;
        /// `y`
        y: req [u16] = "y", empty = 1;
        /// `z`
        z: req [u16] = "z", empty = 1;
    }
}

impl Default for MatrixSize {
    /// `1 × 1 × 1`, the schema default.
    fn default() -> Self {
        MatrixSize {
            x: 1,
            y: 1,
            z: 1,
            extra: Vec::new(),
            missing: Vec::new(),
        }
    }
}

xml_struct! {
    /// `fieldOfView_mm`: field of view in millimetres.
    #[derive(Default)]
    pub struct FieldOfViewMm {
        /// `x`
        x: req [f32] = "x";
        /// `y`
        y: req [f32] = "y";
        /// `z`
        z: req [f32] = "z";
    }
}

xml_struct! {
    /// `encodingLimitsType`: ranges of the encoding counters.
    #[derive(Default)]
    pub struct EncodingLimits {
        /// `kspace_encoding_step_0`
        kspace_encoding_step_0: opt [Limit] = "kspace_encoding_step_0";
        /// `kspace_encoding_step_1`
        kspace_encoding_step_1: opt [Limit] = "kspace_encoding_step_1";
        /// `kspace_encoding_step_2`
        kspace_encoding_step_2: opt [Limit] = "kspace_encoding_step_2";
        /// `average`
        average: opt [Limit] = "average";
        /// `slice`
        slice: opt [Limit] = "slice";
        /// `contrast`
        contrast: opt [Limit] = "contrast";
        /// `phase`
        phase: opt [Limit] = "phase";
        /// `repetition`
        repetition: opt [Limit] = "repetition";
        /// `set`
        set: opt [Limit] = "set";
        /// `segment`
        segment: opt [Limit] = "segment";
        /// `user_0`
        user_0: opt [Limit] = "user_0";
        /// `user_1`
        user_1: opt [Limit] = "user_1";
        /// `user_2`
        user_2: opt [Limit] = "user_2";
        /// `user_3`
        user_3: opt [Limit] = "user_3";
        /// `user_4`
        user_4: opt [Limit] = "user_4";
        /// `user_5`
        user_5: opt [Limit] = "user_5";
        /// `user_6`
        user_6: opt [Limit] = "user_6";
        /// `user_7`
        user_7: opt [Limit] = "user_7";
    }
}

xml_struct! {
    /// `limitType`: `{minimum, maximum, center}` of one counter; empty elements read as 0.
    #[derive(Default)]
    pub struct Limit {
        /// `minimum`
        minimum: req [u16] = "minimum", empty = 0;
        /// `maximum`
        maximum: req [u16] = "maximum", empty = 0;
        /// `center`
        center: req [u16] = "center", empty = 0;
    }
}

xml_struct! {
    /// `trajectoryDescriptionType`: free-form description of a non-Cartesian trajectory.
    #[derive(Default)]
    pub struct TrajectoryDescription {
        /// `identifier` (required).
        identifier: req [String] = "identifier";
        /// `userParameterLong`
        user_parameter_long: list(0, UNBOUNDED) [UserParameterLong] = "userParameterLong";
        /// `userParameterDouble`
        user_parameter_double: list(0, UNBOUNDED) [UserParameterDouble] = "userParameterDouble";
        /// `userParameterString`
        user_parameter_string: list(0, UNBOUNDED) [UserParameterString] = "userParameterString";
        /// `comment`
        comment: opt [String] = "comment";
    }
}

xml_struct! {
    /// `parallelImagingType`: acceleration and calibration.
    #[derive(Default)]
    pub struct ParallelImaging {
        /// `accelerationFactor` (required).
        acceleration_factor: req [AccelerationFactor] = "accelerationFactor";
        /// `calibrationMode`
        calibration_mode: opt [CalibrationMode] = "calibrationMode";
        /// `interleavingDimension`
        interleaving_dimension: opt [InterleavingDimension] = "interleavingDimension";
        /// `multiband` (simultaneous multislice).
        multiband: opt [Multiband] = "multiband";
    }
}

xml_struct! {
    /// `accelerationFactorType`: undersampling factors along the two phase-encode directions.
    pub struct AccelerationFactor {
        /// `kspace_encoding_step_1`
        kspace_encoding_step_1: req [u16] = "kspace_encoding_step_1";
        /// `kspace_encoding_step_2`
        kspace_encoding_step_2: req [u16] = "kspace_encoding_step_2";
    }
}

impl Default for AccelerationFactor {
    /// No acceleration (`1 × 1`).
    fn default() -> Self {
        AccelerationFactor {
            kspace_encoding_step_1: 1,
            kspace_encoding_step_2: 1,
            extra: Vec::new(),
            missing: Vec::new(),
        }
    }
}

xml_struct! {
    /// `multibandType`: simultaneous-multislice parameters.
    #[derive(Default)]
    pub struct Multiband {
        /// `spacing` (one or more).
        spacing: list(1, UNBOUNDED) [MultibandSpacing] = "spacing";
        /// `deltaKz` (CAIPI shift).
        delta_kz: req [f32] = "deltaKz";
        /// `multiband_factor`
        multiband_factor: req [u32] = "multiband_factor";
        /// `calibration`
        calibration: req [MultibandCalibration] = "calibration";
        /// `calibration_encoding` (index of the encoding holding calibration data).
        calibration_encoding: req [u64] = "calibration_encoding";
    }
}

xml_struct! {
    /// `multibandSpacingType`: slice offsets within one multiband packet.
    #[derive(Default)]
    pub struct MultibandSpacing {
        /// `dZ` (one or more).
        dz: list(1, UNBOUNDED) [f32] = "dZ";
    }
}

xml_struct! {
    /// `sequenceParametersType`: timing and contrast parameters (ms, degrees).
    #[derive(Default)]
    pub struct SequenceParameters {
        /// `TR` (ms).
        tr: list(0, UNBOUNDED) [f32] = "TR";
        /// `TE` (ms).
        te: list(0, UNBOUNDED) [f32] = "TE";
        /// `TI` (ms).
        ti: list(0, UNBOUNDED) [f32] = "TI";
        /// `flipAngle_deg`
        flip_angle_deg: list(0, UNBOUNDED) [f32] = "flipAngle_deg";
        /// `sequence_type`
        sequence_type: opt [String] = "sequence_type";
        /// `echo_spacing` (ms).
        echo_spacing: list(0, UNBOUNDED) [f32] = "echo_spacing";
        /// `diffusionDimension`
        diffusion_dimension: opt [DiffusionDimension] = "diffusionDimension";
        /// `diffusion`
        diffusion: list(0, UNBOUNDED) [Diffusion] = "diffusion";
        /// `diffusionScheme`
        diffusion_scheme: opt [String] = "diffusionScheme";
    }
}

xml_struct! {
    /// `diffusionType`: one diffusion encoding.
    #[derive(Default)]
    pub struct Diffusion {
        /// `gradientDirection` (required).
        gradient_direction: req [GradientDirection] = "gradientDirection";
        /// `bvalue` (required, s/mm²).
        bvalue: req [f32] = "bvalue";
    }
}

xml_struct! {
    /// `gradientDirectionType`: a diffusion direction in patient coordinates.
    #[derive(Default)]
    pub struct GradientDirection {
        /// `rl`
        rl: req [f32] = "rl";
        /// `ap`
        ap: req [f32] = "ap";
        /// `fh`
        fh: req [f32] = "fh";
    }
}

xml_struct! {
    /// `userParametersType`: vendor and user parameters by name.
    #[derive(Default)]
    pub struct UserParameters {
        /// `userParameterLong`
        user_parameter_long: list(0, UNBOUNDED) [UserParameterLong] = "userParameterLong";
        /// `userParameterDouble`
        user_parameter_double: list(0, UNBOUNDED) [UserParameterDouble] = "userParameterDouble";
        /// `userParameterString`
        user_parameter_string: list(0, UNBOUNDED) [UserParameterString] = "userParameterString";
        /// `userParameterBase64`
        user_parameter_base64: list(0, UNBOUNDED) [UserParameterBase64] = "userParameterBase64";
    }
}

xml_struct! {
    /// `userParameterLongType`: a named integer.
    #[derive(Default)]
    pub struct UserParameterLong {
        /// `name`
        name: req [String] = "name";
        /// `value`
        value: req [i64] = "value";
    }
}

xml_struct! {
    /// `userParameterDoubleType`: a named double.
    #[derive(Default)]
    pub struct UserParameterDouble {
        /// `name`
        name: req [String] = "name";
        /// `value`
        value: req [f64] = "value";
    }
}

xml_struct! {
    /// `userParameterStringType`: a named string.
    #[derive(Default)]
    pub struct UserParameterString {
        /// `name`
        name: req [String] = "name";
        /// `value`
        value: req [String] = "value";
    }
}

xml_struct! {
    /// `userParameterBase64Type`: named binary data, kept as its base64 text.
    #[derive(Default)]
    pub struct UserParameterBase64 {
        /// `name`
        name: req [String] = "name";
        /// `value` (`xs:base64Binary` text as written).
        value: req [String] = "value", check = check_base64;
    }
}

xml_struct! {
    /// `waveformInformationType`: describes one physiological/gradient waveform id.
    #[derive(Default)]
    pub struct WaveformInformation {
        /// `waveformName`
        waveform_name: req [String] = "waveformName";
        /// `waveformType`
        waveform_type: req [WaveformType] = "waveformType";
        /// `userParameters` (required by the schema).
        user_parameters: req [UserParameters] = "userParameters";
    }
}
