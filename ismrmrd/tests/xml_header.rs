//! The ISMRMRD XML header: parsing real headers, round trips, schema validation, error
//! positions, and interoperability with the reference implementations.
//!
//! External checks (run when the tools are available):
//! * `ACCORD_PYTHON=/path/to/python` (with the `ismrmrd` package, 1.15): the serialized XML
//!   must be accepted by `ismrmrd.xsd.CreateFromDocument` (strict, xsdata-based) and read back
//!   the same values.
//! * `ismrmrd_test_xml` on `PATH` (ismrmrd-tools, Debian 1.8): the C++ deserializer must accept
//!   the serialized XML and its re-serialization must hold the same values.
//!
//! Without them the tests print `skipped: …`; with `ACCORD_REQUIRE_INTEROP=1` a missing tool
//! is a failure.

use std::path::{Path, PathBuf};
use std::process::Command;

use accord_ismrmrd::xml::*;
use serde_json::Value;

mod common;
use common::{python, tool_on_path};

// ---------------------------------------------------------------------------------------------
// Helpers

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/xml")
}

/// Every fixture header, `(name, text)`, sorted by name.
fn fixtures() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(data_dir())
        .expect("tests/data/xml exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    out.sort();
    out
}

fn fixture(name: &str) -> IsmrmrdHeader {
    let text = std::fs::read_to_string(data_dir().join(format!("{name}.xml"))).unwrap();
    parse_header(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Python: parse each file with `ismrmrd.xsd.CreateFromDocument` (converter warnings are
/// errors) and print one JSON object per file with the values read.
const PY_READ: &str = r#"
import json, sys, warnings, base64
import ismrmrd
from xsdata.exceptions import ConverterWarning
warnings.simplefilter("error", ConverterWarning)  # a value xsdata cannot convert is a failure

def ev(x):
    return None if x is None else x.value

def lim(l):
    return None if l is None else [l.minimum, l.maximum, l.center]

def space(s):
    return {"matrix": [s.matrixSize.x, s.matrixSize.y, s.matrixSize.z],
            "fov": [s.fieldOfView_mm.x, s.fieldOfView_mm.y, s.fieldOfView_mm.z]}

def header(h):
    d = {"version": h.version, "h1": h.experimentalConditions.H1resonanceFrequency_Hz}
    encs = []
    for e in h.encoding:
        pi = e.parallelImaging
        el = e.encodingLimits
        enc = {"encoded": space(e.encodedSpace), "recon": space(e.reconSpace),
               "trajectory": ev(e.trajectory), "echo_train_length": e.echoTrainLength,
               "limits": {k: lim(getattr(el, k)) for k in
                          ["kspace_encoding_step_0", "kspace_encoding_step_1", "kspace_encoding_step_2",
                           "average", "slice", "contrast", "phase", "repetition", "set", "segment",
                           "user_0", "user_7"]},
               "parallel": None, "multiband": None, "trajectory_identifier": None}
        if e.trajectoryDescription is not None:
            enc["trajectory_identifier"] = e.trajectoryDescription.identifier
        if pi is not None:
            enc["parallel"] = [pi.accelerationFactor.kspace_encoding_step_1,
                               pi.accelerationFactor.kspace_encoding_step_2,
                               ev(pi.calibrationMode), ev(pi.interleavingDimension)]
            mb = pi.multiband
            if mb is not None:
                enc["multiband"] = {"factor": mb.multiband_factor, "calibration": ev(mb.calibration),
                                    "calibration_encoding": mb.calibration_encoding, "deltaKz": mb.deltaKz,
                                    "dz": [list(s.dZ) for s in mb.spacing]}
        encs.append(enc)
    d["encoding"] = encs
    sp = h.sequenceParameters
    if sp is not None:
        d["seq"] = {"TR": sp.TR, "TE": sp.TE, "TI": sp.TI, "flip": sp.flipAngle_deg,
                    "type": sp.sequence_type, "echo_spacing": sp.echo_spacing,
                    "diffusion_dimension": ev(sp.diffusionDimension), "scheme": sp.diffusionScheme,
                    "diffusion": [[x.gradientDirection.rl, x.gradientDirection.ap, x.gradientDirection.fh, x.bvalue]
                                  for x in sp.diffusion]}
    up = h.userParameters
    if up is not None:
        d["user"] = {"long": [[p.name, p.value] for p in up.userParameterLong],
                     "double": [[p.name, p.value] for p in up.userParameterDouble],
                     "string": [[p.name, p.value] for p in up.userParameterString],
                     "base64": [[p.name, base64.b64encode(p.value).decode()] for p in up.userParameterBase64]}
    si = h.subjectInformation
    if si is not None:
        d["subject"] = {"name": si.patientName, "weight": si.patientWeight_kg, "height": si.patientHeight_m,
                        "id": si.patientID, "birthdate": None if si.patientBirthdate is None else str(si.patientBirthdate),
                        "gender": si.patientGender}
    st = h.studyInformation
    if st is not None:
        d["study"] = {"time": None if st.studyTime is None else str(st.studyTime), "id": st.studyID,
                      "accession": st.accessionNumber, "body_part": st.bodyPartExamined}
    mi = h.measurementInformation
    if mi is not None:
        d["measurement"] = {"position": ev(mi.patientPosition), "protocol": mi.protocolName,
                            "sequence_name": mi.sequenceName,
                            "dependencies": [[x.dependencyType, x.measurementID] for x in mi.measurementDependency],
                            "table": None if mi.relativeTablePosition is None else
                                [mi.relativeTablePosition.x, mi.relativeTablePosition.y, mi.relativeTablePosition.z],
                            "sop": None if mi.referencedImageSequence is None else
                                list(mi.referencedImageSequence.referencedSOPInstanceUID)}
    asi = h.acquisitionSystemInformation
    if asi is not None:
        d["system"] = {"vendor": asi.systemVendor, "field": asi.systemFieldStrength_T,
                       "channels": asi.receiverChannels, "serial": asi.deviceSerialNumber,
                       "coils": [[c.coilNumber, c.coilName] for c in asi.coilLabel]}
    d["waveforms"] = [[w.waveformName, ev(w.waveformType)] for w in h.waveformInformation]
    return d

for f in sys.argv[1:]:
    try:
        with open(f) as fh:
            h = ismrmrd.xsd.CreateFromDocument(fh.read())
        print(json.dumps({"file": f, "ok": True, "values": header(h)}))
    except Exception as e:
        print(json.dumps({"file": f, "ok": False, "error": type(e).__name__ + ": " + str(e)}))
"#;

/// Run [`PY_READ`] on files; one JSON object per file.
fn python_read(python: &str, files: &[PathBuf]) -> Vec<Value> {
    let out = Command::new(python)
        .arg("-c")
        .arg(PY_READ)
        .args(files)
        .output()
        .unwrap_or_else(|e| panic!("cannot run ACCORD_PYTHON={python}: {e}"));
    assert!(
        out.status.success(),
        "python failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), files.len(), "python output: {stdout}");
    rows
}

/// Compare a float read by Python (double) with ours (f32).
fn same_f32(py: &Value, ours: f32) -> bool {
    py.as_f64().is_some_and(|v| v as f32 == ours)
}

fn limit_json(l: &Option<Limit>) -> Value {
    match l {
        Some(l) => serde_json::json!([l.minimum, l.maximum, l.center]),
        None => Value::Null,
    }
}

/// Check the values Python read against our header.
fn assert_python_values(name: &str, py: &Value, h: &IsmrmrdHeader) {
    let ctx = |what: &str| format!("{name}: {what}: python read {py}");
    assert_eq!(py["version"].as_i64(), h.version, "{}", ctx("version"));
    assert_eq!(
        py["h1"].as_i64(),
        Some(h.experimental_conditions.h1_resonance_frequency_hz),
        "{}",
        ctx("H1")
    );
    let encs = py["encoding"].as_array().unwrap();
    assert_eq!(encs.len(), h.encoding.len(), "{}", ctx("encoding count"));
    for (pe, e) in encs.iter().zip(&h.encoding) {
        for (ps, s) in [
            (&pe["encoded"], &e.encoded_space),
            (&pe["recon"], &e.recon_space),
        ] {
            let m = &s.matrix_size;
            assert_eq!(
                ps["matrix"],
                serde_json::json!([m.x, m.y, m.z]),
                "{}",
                ctx("matrix")
            );
            let f = &s.field_of_view_mm;
            for (i, v) in [f.x, f.y, f.z].into_iter().enumerate() {
                assert!(same_f32(&ps["fov"][i], v), "{}", ctx("fov"));
            }
        }
        assert_eq!(
            pe["trajectory"].as_str(),
            Some(e.trajectory.as_str()),
            "{}",
            ctx("trajectory")
        );
        assert_eq!(
            pe["echo_train_length"].as_i64(),
            e.echo_train_length,
            "{}",
            ctx("echoTrainLength")
        );
        let l = &e.encoding_limits;
        let lims = &pe["limits"];
        for (k, v) in [
            ("kspace_encoding_step_0", &l.kspace_encoding_step_0),
            ("kspace_encoding_step_1", &l.kspace_encoding_step_1),
            ("kspace_encoding_step_2", &l.kspace_encoding_step_2),
            ("average", &l.average),
            ("slice", &l.slice),
            ("contrast", &l.contrast),
            ("phase", &l.phase),
            ("repetition", &l.repetition),
            ("set", &l.set),
            ("segment", &l.segment),
            ("user_0", &l.user_0),
            ("user_7", &l.user_7),
        ] {
            assert_eq!(lims[k], limit_json(v), "{}", ctx(k));
        }
        match &e.parallel_imaging {
            None => assert!(pe["parallel"].is_null(), "{}", ctx("parallelImaging")),
            Some(p) => {
                let a = &p.acceleration_factor;
                let expect = serde_json::json!([
                    a.kspace_encoding_step_1,
                    a.kspace_encoding_step_2,
                    p.calibration_mode.as_ref().map(|c| c.as_str()),
                    p.interleaving_dimension.as_ref().map(|c| c.as_str()),
                ]);
                assert_eq!(pe["parallel"], expect, "{}", ctx("parallelImaging"));
                match &p.multiband {
                    None => assert!(pe["multiband"].is_null(), "{}", ctx("multiband")),
                    Some(mb) => {
                        let pm = &pe["multiband"];
                        assert_eq!(
                            pm["factor"].as_u64(),
                            Some(u64::from(mb.multiband_factor)),
                            "{}",
                            ctx("mb")
                        );
                        assert_eq!(
                            pm["calibration"].as_str(),
                            Some(mb.calibration.as_str()),
                            "{}",
                            ctx("mb")
                        );
                        assert_eq!(
                            pm["calibration_encoding"].as_u64(),
                            Some(mb.calibration_encoding),
                            "{}",
                            ctx("mb")
                        );
                        assert!(same_f32(&pm["deltaKz"], mb.delta_kz), "{}", ctx("deltaKz"));
                        let dz: Vec<Vec<f32>> = mb.spacing.iter().map(|s| s.dz.clone()).collect();
                        let pdz: Vec<Vec<f32>> = serde_json::from_value(pm["dz"].clone()).unwrap();
                        assert_eq!(pdz, dz, "{}", ctx("dZ"));
                    }
                }
            }
        }
        assert_eq!(
            pe["trajectory_identifier"].as_str(),
            e.trajectory_description
                .as_ref()
                .map(|t| t.identifier.as_str()),
            "{}",
            ctx("trajectoryDescription")
        );
    }
    match &h.sequence_parameters {
        None => assert!(py.get("seq").is_none(), "{}", ctx("sequenceParameters")),
        Some(s) => {
            let ps = &py["seq"];
            let floats = |v: &Value| -> Vec<f32> {
                v.as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_f64().unwrap() as f32)
                    .collect()
            };
            assert_eq!(floats(&ps["TR"]), s.tr, "{}", ctx("TR"));
            assert_eq!(floats(&ps["TE"]), s.te, "{}", ctx("TE"));
            assert_eq!(floats(&ps["TI"]), s.ti, "{}", ctx("TI"));
            assert_eq!(
                floats(&ps["flip"]),
                s.flip_angle_deg,
                "{}",
                ctx("flipAngle_deg")
            );
            assert_eq!(
                floats(&ps["echo_spacing"]),
                s.echo_spacing,
                "{}",
                ctx("echo_spacing")
            );
            assert_eq!(
                ps["type"].as_str(),
                s.sequence_type.as_deref(),
                "{}",
                ctx("sequence_type")
            );
            assert_eq!(
                ps["diffusion_dimension"].as_str(),
                s.diffusion_dimension.as_ref().map(|d| d.as_str()),
                "{}",
                ctx("diffusionDimension")
            );
            assert_eq!(
                ps["scheme"].as_str(),
                s.diffusion_scheme.as_deref(),
                "{}",
                ctx("diffusionScheme")
            );
            let diff: Vec<Vec<f32>> = s
                .diffusion
                .iter()
                .map(|d| {
                    let g = &d.gradient_direction;
                    vec![g.rl, g.ap, g.fh, d.bvalue]
                })
                .collect();
            let pdiff: Vec<Vec<f32>> = ps["diffusion"]
                .as_array()
                .unwrap()
                .iter()
                .map(floats)
                .collect();
            assert_eq!(pdiff, diff, "{}", ctx("diffusion"));
        }
    }
    match &h.user_parameters {
        None => assert!(py.get("user").is_none(), "{}", ctx("userParameters")),
        Some(u) => {
            let pu = &py["user"];
            let longs: Vec<(String, i64)> = serde_json::from_value(pu["long"].clone()).unwrap();
            let ours: Vec<(String, i64)> = u
                .user_parameter_long
                .iter()
                .map(|p| (p.name.clone(), p.value))
                .collect();
            assert_eq!(longs, ours, "{}", ctx("userParameterLong"));
            let doubles: Vec<(String, f64)> = serde_json::from_value(pu["double"].clone()).unwrap();
            let ours: Vec<(String, f64)> = u
                .user_parameter_double
                .iter()
                .map(|p| (p.name.clone(), p.value))
                .collect();
            assert_eq!(doubles, ours, "{}", ctx("userParameterDouble"));
            let strings: Vec<(String, String)> =
                serde_json::from_value(pu["string"].clone()).unwrap();
            let ours: Vec<(String, String)> = u
                .user_parameter_string
                .iter()
                .map(|p| (p.name.clone(), p.value.clone()))
                .collect();
            assert_eq!(strings, ours, "{}", ctx("userParameterString"));
            let b64: Vec<(String, String)> = serde_json::from_value(pu["base64"].clone()).unwrap();
            let ours: Vec<(String, String)> = u
                .user_parameter_base64
                .iter()
                .map(|p| (p.name.clone(), p.value.clone()))
                .collect();
            assert_eq!(b64, ours, "{}", ctx("userParameterBase64"));
        }
    }
    if let Some(m) = &h.measurement_information {
        let pm = &py["measurement"];
        assert_eq!(
            pm["position"].as_str(),
            Some(m.patient_position.as_str()),
            "{}",
            ctx("patientPosition")
        );
        assert_eq!(
            pm["protocol"].as_str(),
            m.protocol_name.as_deref(),
            "{}",
            ctx("protocolName")
        );
        assert_eq!(
            pm["sequence_name"].as_str(),
            m.sequence_name.as_deref(),
            "{}",
            ctx("sequenceName")
        );
        let deps: Vec<(String, String)> =
            serde_json::from_value(pm["dependencies"].clone()).unwrap();
        let ours: Vec<(String, String)> = m
            .measurement_dependency
            .iter()
            .map(|d| (d.dependency_type.clone(), d.measurement_id.clone()))
            .collect();
        assert_eq!(deps, ours, "{}", ctx("measurementDependency"));
        let sop: Option<Vec<String>> = serde_json::from_value(pm["sop"].clone()).unwrap();
        assert_eq!(
            sop,
            m.referenced_image_sequence
                .as_ref()
                .map(|r| r.referenced_sop_instance_uid.clone()),
            "{}",
            ctx("referencedImageSequence")
        );
    }
    if let Some(s) = &h.subject_information {
        let ps = &py["subject"];
        assert_eq!(
            ps["id"].as_str(),
            s.patient_id.as_deref(),
            "{}",
            ctx("patientID")
        );
        assert_eq!(
            ps["name"].as_str(),
            s.patient_name.as_deref(),
            "{}",
            ctx("patientName")
        );
        assert_eq!(
            ps["birthdate"].as_str(),
            s.patient_birthdate.as_deref(),
            "{}",
            ctx("patientBirthdate")
        );
        assert_eq!(
            ps["gender"].as_str(),
            s.patient_gender.as_ref().map(|g| g.as_str()),
            "{}",
            ctx("patientGender")
        );
        if let Some(hm) = s.patient_height_m {
            assert!(same_f32(&ps["height"], hm), "{}", ctx("patientHeight_m"));
        }
    }
    if let Some(s) = &h.acquisition_system_information {
        let ps = &py["system"];
        assert_eq!(
            ps["vendor"].as_str(),
            s.system_vendor.as_deref(),
            "{}",
            ctx("systemVendor")
        );
        assert_eq!(
            ps["channels"].as_u64(),
            s.receiver_channels.map(u64::from),
            "{}",
            ctx("receiverChannels")
        );
        assert_eq!(
            ps["serial"].as_str(),
            s.device_serial_number.as_deref(),
            "{}",
            ctx("deviceSerialNumber")
        );
        let coils: Vec<(u16, String)> = serde_json::from_value(ps["coils"].clone()).unwrap();
        let ours: Vec<(u16, String)> = s
            .coil_label
            .iter()
            .map(|c| (c.coil_number, c.coil_name.clone()))
            .collect();
        assert_eq!(coils, ours, "{}", ctx("coilLabel"));
    }
    let waves: Vec<(String, String)> = serde_json::from_value(py["waveforms"].clone()).unwrap();
    let ours: Vec<(String, String)> = h
        .waveform_information
        .iter()
        .map(|w| (w.waveform_name.clone(), w.waveform_type.to_string()))
        .collect();
    assert_eq!(waves, ours, "{}", ctx("waveformInformation"));
}

/// Run `ismrmrd_test_xml` on `xml` in a scratch directory (it writes `raw.xml` and
/// `processed.xml` into its working directory). Returns success, its output, and its
/// re-serialization (`processed.xml`) when it succeeded.
fn run_cxx(tool: &Path, xml: &str) -> (bool, String, Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("header.xml");
    std::fs::write(&file, xml).unwrap();
    let out = Command::new(tool)
        .arg(&file)
        .current_dir(dir.path())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let processed = std::fs::read_to_string(dir.path().join("processed.xml")).ok();
    (
        out.status.success(),
        text,
        processed.filter(|_| out.status.success()),
    )
}

/// The parts of a header that the 1.8 C++ library models, for comparing its re-serialization
/// (doubles are compared by [`assert_cxx_doubles`]: the library prints them with 6 decimals).
fn cxx_subset(h: &IsmrmrdHeader) -> Value {
    let encs: Vec<Value> = h
        .encoding
        .iter()
        .map(|e| {
            let l = &e.encoding_limits;
            serde_json::json!({
                "encoded": e.encoded_space.matrix_size,
                "recon": e.recon_space.matrix_size,
                "encoded_fov": e.encoded_space.field_of_view_mm,
                "recon_fov": e.recon_space.field_of_view_mm,
                "trajectory": e.trajectory,
                "limits": [&l.kspace_encoding_step_0, &l.kspace_encoding_step_1, &l.kspace_encoding_step_2,
                           &l.average, &l.slice, &l.contrast, &l.phase, &l.repetition, &l.set, &l.segment],
                "acceleration": e.parallel_imaging.as_ref().map(|p| &p.acceleration_factor),
                "calibration": e.parallel_imaging.as_ref().map(|p| &p.calibration_mode),
            })
        })
        .collect();
    serde_json::json!({
        "h1": h.experimental_conditions.h1_resonance_frequency_hz,
        "encoding": encs,
        "tr": h.sequence_parameters.as_ref().map(|s| &s.tr),
        "te": h.sequence_parameters.as_ref().map(|s| &s.te),
        "user_string": h.user_parameters.as_ref().map(|u| &u.user_parameter_string),
        "position": h.measurement_information.as_ref().map(|m| &m.patient_position),
        "dependencies": h.measurement_information.as_ref().map(|m| &m.measurement_dependency),
        "vendor": h.acquisition_system_information.as_ref().map(|a| &a.system_vendor),
        "channels": h.acquisition_system_information.as_ref().map(|a| a.receiver_channels),
    })
}

/// `userParameterDouble` after the C++ library's re-serialization (`%f`: 6 decimals).
fn assert_cxx_doubles(name: &str, back: &IsmrmrdHeader, h: &IsmrmrdHeader) {
    let doubles = |h: &IsmrmrdHeader| -> Vec<(String, f64)> {
        h.user_parameters
            .iter()
            .flat_map(|u| {
                u.user_parameter_double
                    .iter()
                    .map(|p| (p.name.clone(), p.value))
            })
            .collect()
    };
    let (a, b) = (doubles(back), doubles(h));
    assert_eq!(a.len(), b.len(), "{name}");
    for ((na, va), (nb, vb)) in a.iter().zip(&b) {
        assert_eq!(na, nb, "{name}");
        assert!(
            (va - vb).abs() <= 5e-7 + 1e-12 * vb.abs(),
            "{name}: {na}: {va} vs {vb}"
        );
    }
}

/// A header with every element of the 1.15 schema filled in.
fn full_header() -> IsmrmrdHeader {
    let limit = |minimum, maximum, center| Limit {
        minimum,
        maximum,
        center,
        ..Default::default()
    };
    let space = |x, y, z, fx, fy, fz| EncodingSpace {
        matrix_size: MatrixSize {
            x,
            y,
            z,
            ..Default::default()
        },
        field_of_view_mm: FieldOfViewMm {
            x: fx,
            y: fy,
            z: fz,
            ..Default::default()
        },
        ..Default::default()
    };
    let long = |name: &str, value| UserParameterLong {
        name: name.into(),
        value,
        ..Default::default()
    };
    let double = |name: &str, value| UserParameterDouble {
        name: name.into(),
        value,
        ..Default::default()
    };
    let string = |name: &str, value: &str| UserParameterString {
        name: name.into(),
        value: value.into(),
        ..Default::default()
    };
    IsmrmrdHeader {
        version: Some(8),
        subject_information: Some(SubjectInformation {
            patient_name: Some("Doe^Jane & <Co>".into()),
            patient_weight_kg: Some(61.5),
            patient_height_m: Some(1.72),
            patient_id: Some("P-0001".into()),
            patient_birthdate: Some("1980-02-29".into()),
            patient_gender: Some(PatientGender::Female),
            ..Default::default()
        }),
        study_information: Some(StudyInformation {
            study_date: Some("2024-05-17".into()),
            study_time: Some("08:15:30.25".into()),
            study_id: Some("S-17".into()),
            accession_number: Some(1_234_567_890_123),
            referring_physician_name: Some("Dr. Who".into()),
            study_description: Some("phantom \"study\"".into()),
            study_instance_uid: Some("1.2.3.4.5".into()),
            body_part_examined: Some("HEAD".into()),
            ..Default::default()
        }),
        measurement_information: Some(MeasurementInformation {
            measurement_id: Some("42_1_2_3".into()),
            series_date: Some("2024-05-17".into()),
            series_time: Some("08:20:00".into()),
            patient_position: PatientPosition::Ffdl,
            relative_table_position: Some(ThreeDimensionalFloat {
                x: 0.5,
                y: -1.25,
                z: 100.0,
                ..Default::default()
            }),
            initial_series_number: Some(7),
            protocol_name: Some("accord_full".into()),
            sequence_name: Some("gre_accord".into()),
            series_description: Some("every element".into()),
            measurement_dependency: vec![
                MeasurementDependency {
                    dependency_type: "Noise".into(),
                    measurement_id: "42_1_2_1".into(),
                    ..Default::default()
                },
                MeasurementDependency {
                    dependency_type: "SenMap".into(),
                    measurement_id: "42_1_2_2".into(),
                    ..Default::default()
                },
            ],
            series_instance_uid_root: Some("1.2.3".into()),
            frame_of_reference_uid: Some("1.2.3.9".into()),
            referenced_image_sequence: Some(ReferencedImageSequence {
                referenced_sop_instance_uid: vec!["1.2.3.10".into(), "1.2.3.11".into()],
                ..Default::default()
            }),
            ..Default::default()
        }),
        acquisition_system_information: Some(AcquisitionSystemInformation {
            system_vendor: Some("Accord".into()),
            system_model: Some("Simulator".into()),
            system_field_strength_t: Some(2.89362),
            relative_receiver_noise_bandwidth: Some(0.793),
            receiver_channels: Some(2),
            coil_label: vec![
                CoilLabel {
                    coil_number: 0,
                    coil_name: "H1".into(),
                    ..Default::default()
                },
                CoilLabel {
                    coil_number: 1,
                    coil_name: "H2".into(),
                    ..Default::default()
                },
            ],
            institution_name: Some("Accord Lab".into()),
            station_name: Some("sim01".into()),
            device_id: Some("dev-1".into()),
            device_serial_number: Some("SN-99".into()),
            ..Default::default()
        }),
        experimental_conditions: ExperimentalConditions {
            h1_resonance_frequency_hz: 123_194_221,
            ..Default::default()
        },
        encoding: vec![
            Encoding {
                encoded_space: space(256, 128, 32, 440.0, 220.0, 160.0),
                recon_space: space(128, 128, 32, 220.0, 220.0, 160.0),
                encoding_limits: EncodingLimits {
                    kspace_encoding_step_0: Some(limit(0, 255, 128)),
                    kspace_encoding_step_1: Some(limit(0, 127, 64)),
                    kspace_encoding_step_2: Some(limit(0, 31, 16)),
                    average: Some(limit(0, 1, 0)),
                    slice: Some(limit(0, 2, 1)),
                    contrast: Some(limit(0, 3, 0)),
                    phase: Some(limit(0, 4, 0)),
                    repetition: Some(limit(0, 5, 0)),
                    set: Some(limit(0, 6, 0)),
                    segment: Some(limit(0, 7, 0)),
                    user_0: Some(limit(0, 10, 5)),
                    user_1: Some(limit(0, 11, 5)),
                    user_2: Some(limit(0, 12, 5)),
                    user_3: Some(limit(0, 13, 5)),
                    user_4: Some(limit(0, 14, 5)),
                    user_5: Some(limit(0, 15, 5)),
                    user_6: Some(limit(0, 16, 5)),
                    user_7: Some(limit(1, 17, 9)),
                    ..Default::default()
                },
                trajectory: Trajectory::Cartesian,
                trajectory_description: Some(TrajectoryDescription {
                    identifier: "caipi_3d".into(),
                    user_parameter_long: vec![long("interleaves", 4)],
                    user_parameter_double: vec![double("shift", 0.5)],
                    user_parameter_string: vec![string("note", "kz shifted")],
                    comment: Some("a comment".into()),
                    ..Default::default()
                }),
                parallel_imaging: Some(ParallelImaging {
                    acceleration_factor: AccelerationFactor {
                        kspace_encoding_step_1: 2,
                        kspace_encoding_step_2: 3,
                        ..Default::default()
                    },
                    calibration_mode: Some(CalibrationMode::Embedded),
                    interleaving_dimension: Some(InterleavingDimension::Phase),
                    multiband: Some(Multiband {
                        spacing: vec![
                            MultibandSpacing {
                                dz: vec![0.0, 30.0, 60.0],
                                ..Default::default()
                            },
                            MultibandSpacing {
                                dz: vec![0.0, 25.5],
                                ..Default::default()
                            },
                        ],
                        delta_kz: 0.333,
                        multiband_factor: 3,
                        calibration: MultibandCalibration::Separable2D,
                        calibration_encoding: 1,
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                echo_train_length: Some(16),
                ..Default::default()
            },
            Encoding {
                encoded_space: space(64, 64, 1, 220.0, 220.0, 5.0),
                recon_space: space(64, 64, 1, 220.0, 220.0, 5.0),
                encoding_limits: EncodingLimits {
                    kspace_encoding_step_1: Some(limit(0, 63, 32)),
                    ..Default::default()
                },
                trajectory: Trajectory::Spiral,
                ..Default::default()
            },
        ],
        sequence_parameters: Some(SequenceParameters {
            tr: vec![8.5, 1000.0],
            te: vec![2.1, 4.2, 6.3],
            ti: vec![900.0],
            flip_angle_deg: vec![10.0],
            sequence_type: Some("GRE".into()),
            echo_spacing: vec![2.1],
            diffusion_dimension: Some(DiffusionDimension::User3),
            diffusion: vec![
                Diffusion {
                    gradient_direction: GradientDirection {
                        rl: 1.0,
                        ap: 0.0,
                        fh: 0.0,
                        ..Default::default()
                    },
                    bvalue: 0.0,
                    ..Default::default()
                },
                Diffusion {
                    gradient_direction: GradientDirection {
                        rl: 0.0,
                        ap: 0.70710677,
                        fh: -0.70710677,
                        ..Default::default()
                    },
                    bvalue: 1000.0,
                    ..Default::default()
                },
            ],
            diffusion_scheme: Some("monopolar".into()),
            ..Default::default()
        }),
        user_parameters: Some(UserParameters {
            user_parameter_long: vec![long("n_dummies", 10), long("negative", -5)],
            user_parameter_double: vec![double("ref_voltage", 290.625), double("tiny", 1e-12)],
            user_parameter_string: vec![string("protocol file", "a.seq"), string("empty", "")],
            user_parameter_base64: vec![UserParameterBase64 {
                name: "blob".into(),
                value: "AAECAwQ=".into(),
                ..Default::default()
            }],
            ..Default::default()
        }),
        waveform_information: vec![
            WaveformInformation {
                waveform_name: "ECG1".into(),
                waveform_type: WaveformType::Ecg,
                user_parameters: UserParameters {
                    user_parameter_long: vec![long("channels", 4)],
                    ..Default::default()
                },
                ..Default::default()
            },
            WaveformInformation {
                waveform_name: "GRAD".into(),
                waveform_type: WaveformType::GradientWaveform,
                ..Default::default()
            },
        ],
        ..Default::default()
    }
}

/// A small valid header to edit in the error tests (line numbers below refer to it).
const SMALL: &str = r#"<?xml version="1.0"?>
<ismrmrdHeader xmlns="http://www.ismrm.org/ISMRMRD">
  <experimentalConditions>
    <H1resonanceFrequency_Hz>63500000</H1resonanceFrequency_Hz>
  </experimentalConditions>
  <encoding>
    <encodedSpace>
      <matrixSize>
        <x>256</x>
        <y>128</y>
        <z>1</z>
      </matrixSize>
      <fieldOfView_mm>
        <x>600.000000</x>
        <y>300.0</y>
        <z>6</z>
      </fieldOfView_mm>
    </encodedSpace>
    <reconSpace>
      <matrixSize>
        <x>128</x>
        <y>128</y>
        <z>1</z>
      </matrixSize>
      <fieldOfView_mm>
        <x>300</x>
        <y>300</y>
        <z>6</z>
      </fieldOfView_mm>
    </reconSpace>
    <encodingLimits/>
    <trajectory>cartesian</trajectory>
  </encoding>
</ismrmrdHeader>
"#;

/// 1-based column of `needle` in line `line` (1-based) of `text`.
fn column_of(text: &str, line: usize, needle: &str) -> usize {
    text.lines().nth(line - 1).unwrap().find(needle).unwrap() + 1
}

// ---------------------------------------------------------------------------------------------
// 1. Real headers

#[test]
fn all_fixture_headers_parse_and_are_valid() {
    let all = fixtures();
    let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "py_3d_cs",
            "py_msmc",
            "py_noise",
            "py_radial",
            "real_image_siemens_prisma_spiral",
            "sl_full",
            "sl_r2",
            "sl_r4",
            "sl_reps"
        ]
    );
    for (name, text) in &all {
        let h = parse_header(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(h.validate(), vec![], "{name}");
        assert!(h.is_valid(), "{name}");
        assert!(h.unknown_elements().is_empty(), "{name}");
        assert_eq!(h.encoding.len(), 1, "{name}");
    }
}

#[test]
fn shepp_logan_r2_values() {
    let h = fixture("sl_r2");
    assert_eq!(h.version, Some(8));
    assert_eq!(
        h.experimental_conditions.h1_resonance_frequency_hz,
        63_500_000
    );
    let sys = h.acquisition_system_information.as_ref().unwrap();
    assert_eq!(sys.receiver_channels, Some(8));
    assert_eq!(
        sys.institution_name.as_deref(),
        Some("ISMRM Synthetic Imaging Lab")
    );
    assert!(h.subject_information.is_none() && h.measurement_information.is_none());
    let e = &h.encoding[0];
    let m = &e.encoded_space.matrix_size;
    assert_eq!((m.x, m.y, m.z), (384, 192, 1));
    let r = &e.recon_space.matrix_size;
    assert_eq!((r.x, r.y, r.z), (192, 192, 1));
    let f = &e.encoded_space.field_of_view_mm;
    assert_eq!((f.x, f.y, f.z), (600.0, 300.0, 6.0)); // written as 600.000000
    assert_eq!(e.trajectory, Trajectory::Cartesian);
    assert_eq!(e.trajectory.to_string(), "cartesian");
    let limits = &e.encoding_limits;
    let k1 = limits.kspace_encoding_step_1.as_ref().unwrap();
    assert_eq!((k1.minimum, k1.maximum, k1.center), (0, 191, 96));
    let rep = limits.repetition.as_ref().unwrap();
    assert_eq!((rep.minimum, rep.maximum, rep.center), (0, 1, 0));
    assert!(limits.kspace_encoding_step_0.is_none() && limits.slice.is_none());
    let p = e.parallel_imaging.as_ref().unwrap();
    assert_eq!(p.acceleration_factor.kspace_encoding_step_1, 2);
    assert_eq!(p.acceleration_factor.kspace_encoding_step_2, 1);
    assert_eq!(p.calibration_mode, Some(CalibrationMode::Interleaved));
    assert_eq!(p.interleaving_dimension, None);
    assert!(h.sequence_parameters.is_none() && h.user_parameters.is_none());
}

#[test]
fn other_fixture_values() {
    // (name, version, H1, encoded matrix, recon matrix, encoded FOV, trajectory, acceleration, calibration)
    type Row = (
        &'static str,
        Option<i64>,
        i64,
        [u16; 3],
        [u16; 3],
        [f32; 3],
        &'static str,
        Option<[u16; 2]>,
        Option<&'static str>,
    );
    let rows: [Row; 9] = [
        (
            "py_3d_cs",
            Some(1),
            127_728_000,
            [64, 64, 32],
            [64, 64, 32],
            [220.0, 220.0, 160.0],
            "cartesian",
            Some([2, 2]),
            Some("embedded"),
        ),
        (
            "py_msmc",
            Some(1),
            127_728_000,
            [128, 128, 1],
            [128, 128, 1],
            [240.0, 240.0, 4.0],
            "cartesian",
            None,
            None,
        ),
        (
            "py_noise",
            Some(1),
            127_728_000,
            [256, 128, 1],
            [128, 128, 1],
            [512.0, 256.0, 5.0],
            "cartesian",
            None,
            None,
        ),
        (
            "py_radial",
            Some(1),
            127_728_000,
            [256, 256, 1],
            [128, 128, 1],
            [512.0, 512.0, 5.0],
            "goldenangle",
            None,
            None,
        ),
        (
            "real_image_siemens_prisma_spiral",
            None,
            123_194_221,
            [64, 64, 2],
            [64, 64, 1],
            [220.0, 220.0, 39.0],
            "cartesian",
            Some([1, 1]),
            Some("other"),
        ),
        (
            "sl_full",
            Some(8),
            63_500_000,
            [512, 256, 1],
            [256, 256, 1],
            [600.0, 300.0, 6.0],
            "cartesian",
            None,
            None,
        ),
        (
            "sl_r2",
            Some(8),
            63_500_000,
            [384, 192, 1],
            [192, 192, 1],
            [600.0, 300.0, 6.0],
            "cartesian",
            Some([2, 1]),
            Some("interleaved"),
        ),
        (
            "sl_r4",
            Some(8),
            63_500_000,
            [384, 192, 1],
            [192, 192, 1],
            [600.0, 300.0, 6.0],
            "cartesian",
            Some([4, 1]),
            Some("interleaved"),
        ),
        (
            "sl_reps",
            Some(8),
            63_500_000,
            [256, 128, 1],
            [128, 128, 1],
            [600.0, 300.0, 6.0],
            "cartesian",
            None,
            None,
        ),
    ];
    for (name, version, h1, enc, rec, fov, traj, accel, calib) in rows {
        let h = fixture(name);
        let e = &h.encoding[0];
        assert_eq!(h.version, version, "{name}");
        assert_eq!(
            h.experimental_conditions.h1_resonance_frequency_hz, h1,
            "{name}"
        );
        let m = &e.encoded_space.matrix_size;
        assert_eq!([m.x, m.y, m.z], enc, "{name}");
        let m = &e.recon_space.matrix_size;
        assert_eq!([m.x, m.y, m.z], rec, "{name}");
        let f = &e.encoded_space.field_of_view_mm;
        assert_eq!([f.x, f.y, f.z], fov, "{name}");
        assert_eq!(e.trajectory.to_string(), traj, "{name}");
        let p = e.parallel_imaging.as_ref();
        assert_eq!(
            p.map(|p| [
                p.acceleration_factor.kspace_encoding_step_1,
                p.acceleration_factor.kspace_encoding_step_2
            ]),
            accel,
            "{name}"
        );
        assert_eq!(
            p.and_then(|p| p.calibration_mode.as_ref())
                .map(|c| c.as_str()),
            calib,
            "{name}"
        );
    }

    let h = fixture("py_msmc");
    let s = h.sequence_parameters.as_ref().unwrap();
    assert_eq!(
        (s.tr.as_slice(), s.te.as_slice()),
        (&[3000.0][..], &[12.0, 90.0][..])
    );
    assert_eq!(s.flip_angle_deg, vec![90.0, 180.0]);
    assert_eq!(s.sequence_type.as_deref(), Some("multi-echo SE"));
    let u = h.user_parameters.as_ref().unwrap();
    assert_eq!(u.user_parameter_double[0].name, "slice_gap_mm");
    assert_eq!(u.user_parameter_double[0].value, 10.0);

    let h = fixture("py_radial");
    let td = h.encoding[0].trajectory_description.as_ref().unwrap();
    assert_eq!(td.identifier, "golden_angle_radial_2d");
    assert_eq!(td.user_parameter_double[0].value, 111.24611797498108);
    assert_eq!(td.user_parameter_string[0].name, "traj_units");
    assert!(
        td.comment
            .as_deref()
            .unwrap()
            .starts_with("spoke s has angle")
    );
    assert_eq!(
        h.subject_information
            .as_ref()
            .unwrap()
            .patient_id
            .as_deref(),
        Some("ismrmrd_ref_phantom")
    );
    assert_eq!(
        h.measurement_information.as_ref().unwrap().patient_position,
        PatientPosition::Hfs
    );
    let lim = &h.encoding[0].encoding_limits;
    let k0 = lim.kspace_encoding_step_0.as_ref().unwrap();
    assert_eq!((k0.minimum, k0.maximum, k0.center), (0, 255, 128));

    let h = fixture("real_image_siemens_prisma_spiral");
    let mi = h.measurement_information.as_ref().unwrap();
    assert_eq!(
        mi.measurement_id.as_deref(),
        Some("67024_83391361_08458945_264")
    );
    assert_eq!(mi.measurement_dependency.len(), 2);
    assert_eq!(mi.measurement_dependency[0].dependency_type, "SenMap");
    assert_eq!(mi.measurement_dependency[1].dependency_type, "Noise");
    assert_eq!(
        h.study_information.as_ref().unwrap().study_time.as_deref(),
        Some("11:59:45")
    );
    let sys = h.acquisition_system_information.as_ref().unwrap();
    assert_eq!(sys.system_vendor.as_deref(), Some("SIEMENS"));
    assert_eq!(sys.system_model.as_deref(), Some("Prisma_fit"));
    assert_eq!(sys.system_field_strength_t, Some(2.89362));
    assert_eq!(sys.receiver_channels, Some(16));
    let u = h.user_parameters.as_ref().unwrap();
    assert_eq!(u.user_parameter_double.len(), 71);
    assert_eq!(u.user_parameter_string.len(), 2);
    let rv = u
        .user_parameter_double
        .iter()
        .find(|p| p.name == "RefVoltage")
        .unwrap();
    assert_eq!(rv.value, 290.625);
    assert_eq!(
        u.user_parameter_string[1].value,
        "6870c308ec8f4e07bc209cf7c05374d9"
    );
}

// ---------------------------------------------------------------------------------------------
// 2. Round trips and the reference implementations

#[test]
fn fixtures_round_trip() {
    for (name, text) in fixtures() {
        let h = parse_header(&text).unwrap();
        let xml = h.to_xml();
        assert!(xml.starts_with(
            "<?xml version=\"1.0\"?>\n<ismrmrdHeader xmlns=\"http://www.ismrm.org/ISMRMRD\">\n"
        ));
        let back = parse_header(&xml).unwrap_or_else(|e| panic!("{name}: {e}\n{xml}"));
        assert_eq!(back, h, "{name}");
        assert_eq!(back.to_xml(), xml, "{name}: serialization is not stable");
    }
}

#[test]
fn python_accepts_serialized_fixtures() {
    let Some(py) = python("python ismrmrd interoperability check") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    let mut headers = Vec::new();
    for (name, text) in fixtures() {
        let h = parse_header(&text).unwrap();
        let path = dir.path().join(format!("{name}.xml"));
        std::fs::write(&path, h.to_xml()).unwrap();
        files.push(path);
        headers.push((name, h));
    }
    let rows = python_read(&py, &files);
    for ((name, h), row) in headers.iter().zip(&rows) {
        assert_eq!(
            row["ok"],
            Value::Bool(true),
            "{name}: python rejected our XML: {row}"
        );
        assert_python_values(name, &row["values"], h);
    }
}

#[test]
fn python_rejects_what_validate_reports() {
    // Proves the python check can fail: the strict parser refuses what validate() reports.
    let Some(py) = python("python ismrmrd interoperability check") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let unknown = SMALL.replace(
        "<encodingLimits/>",
        "<encodingLimits/><vendorExtra>1</vendorExtra>",
    );
    let missing = SMALL.replace("<trajectory>cartesian</trajectory>", "");
    let bad_enum = SMALL.replace(">cartesian<", ">zigzag<");
    let mut files = Vec::new();
    for (i, text) in [unknown, missing, bad_enum].iter().enumerate() {
        let h = parse_header(text).unwrap();
        assert!(!h.is_valid());
        let p = dir.path().join(format!("bad{i}.xml"));
        std::fs::write(&p, h.to_xml()).unwrap();
        files.push(p);
    }
    let good = dir.path().join("good.xml");
    std::fs::write(&good, parse_header(SMALL).unwrap().to_xml()).unwrap();
    files.push(good);
    let rows = python_read(&py, &files);
    assert_eq!(rows[0]["ok"], Value::Bool(false), "{}", rows[0]);
    assert!(
        rows[0]["error"].as_str().unwrap().contains("vendorExtra"),
        "{}",
        rows[0]
    );
    assert_eq!(rows[1]["ok"], Value::Bool(false), "{}", rows[1]);
    assert!(
        rows[1]["error"].as_str().unwrap().contains("trajectory"),
        "{}",
        rows[1]
    );
    // xsdata only warns about a value it cannot convert; the check makes that a failure.
    assert_eq!(rows[2]["ok"], Value::Bool(false), "{}", rows[2]);
    assert!(
        rows[2]["error"].as_str().unwrap().contains("zigzag"),
        "{}",
        rows[2]
    );
    assert_eq!(rows[3]["ok"], Value::Bool(true), "{}", rows[3]);
}

#[test]
fn cxx_tool_on_serialized_fixtures() {
    let Some(tool) = tool_on_path("ismrmrd_test_xml") else {
        return;
    };
    for (name, text) in fixtures() {
        let h = parse_header(&text).unwrap();
        let (ok, output, processed) = run_cxx(&tool, &h.to_xml());
        if matches!(h.version, None | Some(8)) {
            assert!(ok, "{name}: ismrmrd_test_xml rejected our XML: {output}");
            let back = parse_header(&processed.unwrap()).unwrap();
            assert_eq!(cxx_subset(&back), cxx_subset(&h), "{name}");
            assert_cxx_doubles(&name, &back, &h);
        } else {
            // The 1.8 library refuses any <version> other than its own (8); the python
            // package writes 1. The same header without <version> is accepted.
            assert!(!ok, "{name}: expected the version check to fail");
            assert!(
                output.contains("XML header version does not match"),
                "{name}: {output}"
            );
            let mut h = h.clone();
            h.version = None;
            let (ok, output, processed) = run_cxx(&tool, &h.to_xml());
            assert!(ok, "{name} without <version>: {output}");
            let back = parse_header(&processed.unwrap()).unwrap();
            assert_eq!(cxx_subset(&back), cxx_subset(&h), "{name}");
            assert_cxx_doubles(&name, &back, &h);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 3. A header with every section

#[test]
fn full_header_round_trips_and_is_valid() {
    let h = full_header();
    assert_eq!(h.validate(), vec![]);
    assert!(h.unknown_elements().is_empty());
    let xml = h.to_xml();
    for needle in [
        "<patientHeight_m>1.72</patientHeight_m>",
        "<patientName>Doe^Jane &amp; &lt;Co&gt;</patientName>",
        "<bodyPartExamined>HEAD</bodyPartExamined>",
        "<sequenceName>gre_accord</sequenceName>",
        "<referencedSOPInstanceUID>1.2.3.11</referencedSOPInstanceUID>",
        "<deviceSerialNumber>SN-99</deviceSerialNumber>",
        "<coilName>H2</coilName>",
        "<user_7>",
        "<calibration>separable2D</calibration>",
        "<dZ>25.5</dZ>",
        "<multiband_factor>3</multiband_factor>",
        "<diffusionDimension>user_3</diffusionDimension>",
        "<diffusionScheme>monopolar</diffusionScheme>",
        "<bvalue>1000.0</bvalue>",
        "<userParameterBase64>",
        "<waveformType>gradientwaveform</waveformType>",
        "<userParameters/>",
        "<trajectory>spiral</trajectory>",
        "<patientPosition>FFDL</patientPosition>",
    ] {
        assert!(xml.contains(needle), "{needle} not in\n{xml}");
    }
    let back = parse_header(&xml).unwrap();
    assert_eq!(back, h);
    // Schema order of the header children.
    let order = [
        "<version>",
        "<subjectInformation>",
        "<studyInformation>",
        "<measurementInformation>",
        "<acquisitionSystemInformation>",
        "<experimentalConditions>",
        "<encoding>",
        "<sequenceParameters>",
        "<userParameters>",
        "<waveformInformation>",
    ];
    let pos: Vec<usize> = order.iter().map(|t| xml.find(t).unwrap()).collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]), "{pos:?}");
    // The serde form names enumerations by their schema values.
    let json = serde_json::to_value(&h).unwrap();
    assert_eq!(json["encoding"][1]["trajectory"], "spiral");
    assert_eq!(json["measurement_information"]["patient_position"], "FFDL");
    assert!(json["encoding"][0].get("extra").is_none());
}

#[test]
fn python_reads_full_header() {
    let Some(py) = python("python ismrmrd interoperability check") else {
        return;
    };
    let h = full_header();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("full.xml");
    std::fs::write(&path, h.to_xml()).unwrap();
    let rows = python_read(&py, std::slice::from_ref(&path));
    assert_eq!(
        rows[0]["ok"],
        Value::Bool(true),
        "python rejected the full header: {}",
        rows[0]
    );
    let v = &rows[0]["values"];
    assert_python_values("full", v, &h);
    // A few values spelled out.
    assert_eq!(v["subject"]["name"], "Doe^Jane & <Co>");
    assert_eq!(v["subject"]["gender"], "F");
    assert_eq!(v["subject"]["birthdate"], "1980-02-29");
    assert_eq!(v["study"]["time"], "08:15:30.250"); // xsdata normalises fractional seconds
    assert_eq!(v["study"]["accession"], 1_234_567_890_123_i64);
    assert_eq!(v["encoding"][0]["multiband"]["factor"], 3);
    assert_eq!(
        v["encoding"][0]["limits"]["user_7"],
        serde_json::json!([1, 17, 9])
    );
    assert_eq!(v["encoding"][1]["trajectory"], "spiral");
    assert_eq!(
        v["user"]["base64"][0],
        serde_json::json!(["blob", "AAECAwQ="])
    );
    assert_eq!(
        v["system"]["coils"],
        serde_json::json!([[0, "H1"], [1, "H2"]])
    );
    assert_eq!(
        v["waveforms"],
        serde_json::json!([["ECG1", "ecg"], ["GRAD", "gradientwaveform"]])
    );
}

#[test]
fn cxx_tool_reads_full_header() {
    let Some(tool) = tool_on_path("ismrmrd_test_xml") else {
        return;
    };
    let h = full_header();
    let (ok, output, processed) = run_cxx(&tool, &h.to_xml());
    assert!(ok, "ismrmrd_test_xml rejected the full header: {output}");
    let processed = processed.unwrap();
    let back = parse_header(&processed).unwrap();
    assert_eq!(cxx_subset(&back), cxx_subset(&h));
    assert_cxx_doubles("full", &back, &h);
    // 4.7407407407407405-style doubles come back with 6 decimals (1e-12 as 0.000000).
    assert!(processed.contains("<value>0.000000</value>"), "{processed}");
    // The 1.8 library ignores the 1.15 additions and drops them when it writes the header.
    for gone in [
        "<multiband>",
        "<user_0>",
        "<diffusion>",
        "<patientHeight_m>",
        "<bodyPartExamined>",
    ] {
        assert!(
            !processed.contains(gone),
            "{gone} unexpectedly kept by the 1.8 library"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 4. Bad and unusual input

#[test]
fn small_header_is_valid() {
    let h = parse_header(SMALL).unwrap();
    assert!(h.is_valid(), "{:?}", h.validate());
    let f = &h.encoding[0].encoded_space.field_of_view_mm;
    assert_eq!((f.x, f.y, f.z), (600.0, 300.0, 6.0));
}

#[test]
fn unclosed_tag_reports_its_position() {
    // Line 10 `<y>128</y>` loses its end tag: the parser meets </matrixSize> instead.
    let text = SMALL.replacen("<y>128</y>", "<y>128", 1);
    let err = parse_header(&text).unwrap_err();
    assert_eq!(
        (err.line, err.column),
        (10, column_of(&text, 10, "<y>")),
        "{err}"
    );
    assert_eq!(
        err.element,
        "ismrmrdHeader/encoding[0]/encodedSpace/matrixSize/y"
    );
    assert!(err.message.contains("<y> is not closed"), "{err}");
    assert!(err.message.contains("</matrixSize> at line 12"), "{err}");

    // A truncated document: the innermost open element is reported.
    let cut = &SMALL[..SMALL.find("<trajectory>").unwrap() + "<trajectory>cart".len()];
    let err = parse_header(cut).unwrap_err();
    assert_eq!(
        (err.line, err.column),
        (32, column_of(SMALL, 32, "<trajectory>")),
        "{err}"
    );
    assert_eq!(err.element, "ismrmrdHeader/encoding[0]/trajectory");
    assert!(err.message.contains("end of document"), "{err}");

    // A start tag without its `>`.
    let text = SMALL.replacen("<z>1</z>", "<z", 1);
    let err = parse_header(&text).unwrap_err();
    assert_eq!(
        (err.line, err.column),
        (11, column_of(&text, 11, "<z")),
        "{err}"
    );
}

#[test]
fn bad_number_reports_line_and_path() {
    let text = SMALL.replacen("<x>256</x>", "<x>abc</x>", 1);
    let err = parse_header(&text).unwrap_err();
    assert_eq!(err.line, 9, "{err}");
    assert_eq!(err.column, column_of(&text, 9, "abc"));
    assert_eq!(
        err.element,
        "ismrmrdHeader/encoding[0]/encodedSpace/matrixSize/x"
    );
    assert!(err.message.contains("'abc'"), "{err}");
    let shown = err.to_string();
    assert!(shown.starts_with("line 9, column 12: "), "{shown}");

    let text = SMALL.replacen("<x>128</x>", "<x>70000</x>", 1);
    let err = parse_header(&text).unwrap_err();
    assert_eq!(
        (err.line, err.element.as_str()),
        (21, "ismrmrdHeader/encoding[0]/reconSpace/matrixSize/x")
    );
    assert!(err.message.contains("out of range"), "{err}");

    // Integers must be integers, but whitespace is fine; floats may be written either way.
    let text = SMALL.replacen("<x>256</x>", "<x>2.0</x>", 1);
    assert!(parse_header(&text).is_err());
    let text = SMALL.replacen("<x>256</x>", "<x>-3</x>", 1);
    assert!(parse_header(&text).is_err());
    let text = SMALL
        .replacen("<x>256</x>", "<x>\n   256 \t</x>", 1)
        .replacen("<z>6</z>", "<z> 6e0 </z>", 1);
    let h = parse_header(&text).unwrap();
    assert_eq!(h.encoding[0].encoded_space.matrix_size.x, 256);
    assert_eq!(h.encoding[0].encoded_space.field_of_view_mm.z, 6.0);
    let text = SMALL.replacen(
        "<H1resonanceFrequency_Hz>63500000<",
        "<H1resonanceFrequency_Hz>63500000.5<",
        1,
    );
    let err = parse_header(&text).unwrap_err();
    assert_eq!(
        err.element,
        "ismrmrdHeader/experimentalConditions/H1resonanceFrequency_Hz"
    );
    assert_eq!(err.line, 4);
    let text = SMALL.replacen("<y>300.0</y>", "<y>inf</y>", 1);
    assert!(parse_header(&text).is_err());
    let text = SMALL.replacen("<y>300.0</y>", "<y>INF</y>", 1);
    assert_eq!(
        parse_header(&text).unwrap().encoding[0]
            .encoded_space
            .field_of_view_mm
            .y,
        f32::INFINITY
    );
    // A value element cannot contain elements.
    let text = SMALL.replacen("<x>256</x>", "<x><v>256</v></x>", 1);
    let err = parse_header(&text).unwrap_err();
    assert_eq!(err.line, 9);
    assert_eq!(
        err.element,
        "ismrmrdHeader/encoding[0]/encodedSpace/matrixSize/x"
    );
}

#[test]
fn unknown_elements_are_kept_and_round_trip() {
    let text = SMALL
        .replacen(
            "<encodingLimits/>",
            "<encodingLimits/>\n    <vendorExtra mode=\"a&amp;b\">\n      <p n=\"1\">x &lt; y</p>\n      <q/>\n    </vendorExtra>",
            1,
        )
        .replacen(
            "</ismrmrdHeader>",
            "  <siemens:extra xmlns:siemens=\"urn:siemens\">1</siemens:extra>\n</ismrmrdHeader>",
            1,
        );
    let h = parse_header(&text).unwrap();
    assert_eq!(
        h.unknown_elements(),
        vec![
            "ismrmrdHeader/encoding[0]/vendorExtra".to_string(),
            "ismrmrdHeader/siemens:extra".to_string()
        ]
    );
    let extra = &h.encoding[0].extra[0];
    assert_eq!(extra.name, "vendorExtra");
    assert_eq!(
        extra.attributes,
        vec![("mode".to_string(), "a&b".to_string())]
    );
    assert_eq!(extra.children.len(), 2);
    assert_eq!(extra.children[0].text, "x < y");
    assert_eq!(extra.children[1].name, "q");
    let problems = h.validate();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert_eq!(problems[0].element, "ismrmrdHeader/encoding[0]/vendorExtra");
    assert!(
        problems[0]
            .message
            .contains("unknown element <vendorExtra>")
    );
    let xml = h.to_xml();
    assert!(xml.contains("<vendorExtra mode=\"a&amp;b\">"), "{xml}");
    assert!(xml.contains("<p n=\"1\">x &lt; y</p>"), "{xml}");
    assert_eq!(parse_header(&xml).unwrap(), h);

    // A vendor namespace declared on the root travels with the element that uses it.
    let text = SMALL
        .replacen(
            "<ismrmrdHeader ",
            "<ismrmrdHeader xmlns:v=\"urn:vendor\" ",
            1,
        )
        .replacen(
            "<encodingLimits/>",
            "<encodingLimits/><v:tag v:a=\"1\"/>",
            1,
        );
    let h = parse_header(&text).unwrap();
    let e = &h.encoding[0].extra[0];
    assert_eq!(e.name, "v:tag");
    assert!(
        e.attributes
            .contains(&("xmlns:v".to_string(), "urn:vendor".to_string()))
    );
    assert_eq!(parse_header(&h.to_xml()).unwrap(), h);

    // A schema element in a foreign namespace is not the schema element.
    let text = SMALL.replacen(
        "<encodingLimits/>",
        "<encodingLimits/><trajectory xmlns=\"urn:x\">radial</trajectory>",
        1,
    );
    let h = parse_header(&text).unwrap();
    assert_eq!(h.encoding[0].trajectory, Trajectory::Cartesian);
    assert_eq!(
        h.unknown_elements(),
        vec!["ismrmrdHeader/encoding[0]/trajectory".to_string()]
    );
    assert_eq!(parse_header(&h.to_xml()).unwrap(), h);
}

#[test]
fn repeated_single_element_is_kept_and_reported() {
    let text = SMALL.replacen(
        "<trajectory>cartesian</trajectory>",
        "<trajectory>cartesian</trajectory><trajectory>radial</trajectory>",
        1,
    );
    let h = parse_header(&text).unwrap();
    assert_eq!(h.encoding[0].trajectory, Trajectory::Cartesian);
    let problems = h.validate();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].element, "ismrmrdHeader/encoding[0]/trajectory");
    assert!(problems[0].message.contains("only once"), "{}", problems[0]);
    assert_eq!(parse_header(&h.to_xml()).unwrap(), h);
}

#[test]
fn missing_required_elements_parse_and_are_reported() {
    let start = SMALL.find("  <experimentalConditions>").unwrap();
    let end = SMALL.find("  <encoding>").unwrap();
    let text = format!("{}{}", &SMALL[..start], &SMALL[end..]);
    let h = parse_header(&text).unwrap();
    assert_eq!(h.missing, vec!["experimentalConditions".to_string()]);
    let problems = h.validate();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].element, "ismrmrdHeader/experimentalConditions");
    assert!(
        problems[0]
            .message
            .contains("required element <experimentalConditions> is missing")
    );
    assert_eq!((problems[0].line, problems[0].column), (0, 0));
    assert!(!h.is_valid());
    // Still missing after a round trip (not invented as 0 Hz).
    let xml = h.to_xml();
    assert!(!xml.contains("experimentalConditions"));
    assert_eq!(parse_header(&xml).unwrap(), h);

    // Deeper: no encoding at all, a limit without center, measurementInformation without position.
    let text = r#"<ismrmrdHeader>
  <measurementInformation><protocolName>p</protocolName></measurementInformation>
  <experimentalConditions><H1resonanceFrequency_Hz>1</H1resonanceFrequency_Hz></experimentalConditions>
  <waveformInformation><waveformName>w</waveformName><waveformType>ecg</waveformType></waveformInformation>
</ismrmrdHeader>"#;
    let h = parse_header(text).unwrap();
    let paths: Vec<String> = h.validate().into_iter().map(|e| e.element).collect();
    assert_eq!(
        paths,
        [
            "ismrmrdHeader/measurementInformation/patientPosition",
            "ismrmrdHeader/encoding",
            "ismrmrdHeader/waveformInformation[0]/userParameters",
        ]
    );
    assert_eq!(parse_header(&h.to_xml()).unwrap(), h);
}

#[test]
fn wrong_root_is_an_error() {
    let err = parse_header(
        "<?xml version=\"1.0\"?>\n<!-- header -->\n  <ismrmrdHeaders>\n  </ismrmrdHeaders>\n",
    )
    .unwrap_err();
    assert_eq!((err.line, err.column), (3, 3), "{err}");
    assert_eq!(err.element, "ismrmrdHeaders");
    assert!(err.message.contains("expected <ismrmrdHeader>"), "{err}");
    let err = parse_header("<ismrmrdHeader xmlns=\"urn:other\"/>").unwrap_err();
    assert!(err.message.contains("namespace"), "{err}");
    for bad in [
        "",
        "  \n",
        "not xml",
        "<ismrmrdHeader/><ismrmrdHeader/>",
        "<a></b>",
        "<ismrmrdHeader>&nbsp;</ismrmrdHeader>",
    ] {
        let err = parse_header(bad).unwrap_err();
        assert!(err.line >= 1 && err.column >= 1, "{bad:?}: {err}");
    }
    let err = parse_header("<ismrmrdHeader/>\n<x/>").unwrap_err();
    assert_eq!((err.line, err.column), (2, 1));
    // A byte-order mark is skipped and does not count as a column.
    let err = parse_header("\u{feff}<foo/>").unwrap_err();
    assert_eq!((err.line, err.column), (1, 1), "{err}");
    assert_eq!(
        parse_header(&format!("\u{feff}{SMALL}")).unwrap(),
        parse_header(SMALL).unwrap()
    );
}

#[test]
fn namespaces_comments_entities_and_empty_elements() {
    // No namespace, a prefixed ISMRMRD namespace, CRLF line ends, comments, processing
    // instructions, CDATA, self-closing and empty elements.
    let plain = SMALL.replacen(" xmlns=\"http://www.ismrm.org/ISMRMRD\"", "", 1);
    let reference = parse_header(SMALL).unwrap();
    assert_eq!(parse_header(&plain).unwrap(), reference);
    let prefixed = SMALL
        .replace("<", "<m:")
        .replace("<m:/", "</m:")
        .replace("<m:?xml", "<?xml")
        .replacen("xmlns=", "xmlns:m=", 1);
    assert_eq!(parse_header(&prefixed).unwrap(), reference, "{prefixed}");
    let crlf = SMALL.replace('\n', "\r\n");
    assert_eq!(parse_header(&crlf).unwrap(), reference);
    let err = parse_header(&crlf.replacen("<x>256</x>", "<x>abc</x>", 1)).unwrap_err();
    assert_eq!((err.line, err.column), (9, 12));

    let text = SMALL.replacen(
        "<experimentalConditions>",
        "<!-- a comment --><?pi data?>\n  <subjectInformation><patientName>A &amp; B &lt;C&gt; &#233;&#x41;<![CDATA[<raw>]]></patientName><patientID/><patientGender>\n M </patientGender></subjectInformation>\n  <experimentalConditions>",
        1,
    )
    .replacen("<z>1</z>", "<z/>", 1)
    .replacen("<encodingLimits/>", "<encodingLimits><slice><minimum/><maximum>3</maximum><center></center></slice></encodingLimits>", 1);
    let h = parse_header(&text).unwrap();
    let s = h.subject_information.as_ref().unwrap();
    assert_eq!(s.patient_name.as_deref(), Some("A & B <C> éA<raw>"));
    assert_eq!(s.patient_id.as_deref(), Some(""));
    assert_eq!(s.patient_gender, Some(PatientGender::Male));
    assert_eq!(h.encoding[0].encoded_space.matrix_size.z, 1);
    let slice = h.encoding[0].encoding_limits.slice.as_ref().unwrap();
    assert_eq!((slice.minimum, slice.maximum, slice.center), (0, 3, 0));
    assert!(h.is_valid(), "{:?}", h.validate());
    let xml = h.to_xml();
    assert!(
        xml.contains("<patientName>A &amp; B &lt;C&gt; éA&lt;raw&gt;</patientName>"),
        "{xml}"
    );
    assert!(xml.contains("<patientID/>"), "{xml}");
    assert!(!xml.contains("comment") && !xml.contains("<?pi"));
    assert_eq!(parse_header(&xml).unwrap(), h);

    // Whitespace inside strings is kept; carriage returns survive the round trip.
    let mut h = reference.clone();
    h.subject_information = Some(SubjectInformation {
        patient_name: Some("  two\r\nlines\t".into()),
        ..Default::default()
    });
    assert_eq!(parse_header(&h.to_xml()).unwrap(), h);
}

#[test]
fn enumerations_keep_any_value_and_validate_reports_it() {
    for (t, s) in [
        (Trajectory::Cartesian, "cartesian"),
        (Trajectory::Epi, "epi"),
        (Trajectory::Radial, "radial"),
        (Trajectory::GoldenAngle, "goldenangle"),
        (Trajectory::Spiral, "spiral"),
        (Trajectory::Other, "other"),
    ] {
        assert_eq!(t.to_string(), s);
        assert_eq!(Trajectory::from(s), t);
        assert!(t.is_known());
    }
    let text = SMALL
        .replacen(">cartesian<", "> zigzag <", 1)
        .replacen(
            "<encodingLimits/>",
            "<encodingLimits/><parallelImaging><accelerationFactor><kspace_encoding_step_1>2</kspace_encoding_step_1><kspace_encoding_step_2>1</kspace_encoding_step_2></accelerationFactor><calibrationMode>Embedded</calibrationMode><multiband><spacing><dZ>1</dZ></spacing><deltaKz>0</deltaKz><multiband_factor>2</multiband_factor><calibration>seperable2D</calibration><calibration_encoding>0</calibration_encoding></multiband></parallelImaging>",
            1,
        )
        .replacen(
            "<experimentalConditions>",
            "<subjectInformation><patientBirthdate>1980-13-01</patientBirthdate><patientGender>X</patientGender></subjectInformation><measurementInformation><seriesTime>25:00:00</seriesTime><patientPosition>HFX</patientPosition></measurementInformation><experimentalConditions>",
            1,
        );
    let h = parse_header(&text).unwrap();
    let e = &h.encoding[0];
    assert_eq!(e.trajectory, Trajectory::Unknown("zigzag".into()));
    assert_eq!(e.trajectory.to_string(), "zigzag");
    let p = e.parallel_imaging.as_ref().unwrap();
    assert_eq!(
        p.calibration_mode,
        Some(CalibrationMode::Unknown("Embedded".into()))
    );
    assert_eq!(
        p.multiband.as_ref().unwrap().calibration.as_str(),
        "seperable2D"
    );
    let problems: Vec<(String, String)> = h
        .validate()
        .into_iter()
        .map(|e| (e.element, e.message))
        .collect();
    let paths: Vec<&str> = problems.iter().map(|p| p.0.as_str()).collect();
    assert_eq!(
        paths,
        [
            "ismrmrdHeader/subjectInformation/patientBirthdate",
            "ismrmrdHeader/subjectInformation/patientGender",
            "ismrmrdHeader/measurementInformation/seriesTime",
            "ismrmrdHeader/measurementInformation/patientPosition",
            "ismrmrdHeader/encoding[0]/trajectory",
            "ismrmrdHeader/encoding[0]/parallelImaging/calibrationMode",
            "ismrmrdHeader/encoding[0]/parallelImaging/multiband/calibration",
        ],
        "{problems:?}"
    );
    assert!(
        problems[4]
            .1
            .contains("'zigzag' is not an allowed trajectory value"),
        "{problems:?}"
    );
    assert_eq!(parse_header(&h.to_xml()).unwrap(), h);
}

#[test]
fn multiplicity_limits_are_validated() {
    let mut h = full_header();
    let w = h.waveform_information[0].clone();
    h.waveform_information = vec![w; 33];
    let problems = h.validate();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].element, "ismrmrdHeader/waveformInformation[32]");
    assert!(problems[0].message.contains("at most 32"));
    h.waveform_information.truncate(32);
    assert!(h.is_valid());

    let mut h = full_header();
    h.encoding.clear();
    let pi = full_header().encoding[0].parallel_imaging.clone().unwrap();
    let mut mb = pi.multiband.clone().unwrap();
    mb.spacing[0].dz.clear();
    h.encoding.push(Encoding {
        parallel_imaging: Some(ParallelImaging {
            multiband: Some(mb),
            ..pi
        }),
        ..Default::default()
    });
    h.user_parameters.as_mut().unwrap().user_parameter_base64[0].value = "not base64!".into();
    let paths: Vec<String> = h.validate().into_iter().map(|e| e.element).collect();
    assert_eq!(
        paths,
        [
            "ismrmrdHeader/encoding[0]/parallelImaging/multiband/spacing[0]/dZ",
            "ismrmrdHeader/userParameters/userParameterBase64[0]/value",
        ]
    );
    h.encoding.clear();
    assert!(
        h.validate()
            .iter()
            .any(|e| e.element == "ismrmrdHeader/encoding" && e.message.contains("at least 1"))
    );
}

#[test]
fn date_and_time_checks() {
    let with = |date: &str, time: &str| {
        let mut h = parse_header(SMALL).unwrap();
        h.study_information = Some(StudyInformation {
            study_date: Some(date.into()),
            study_time: Some(time.into()),
            ..Default::default()
        });
        h.validate()
            .into_iter()
            .map(|e| e.element)
            .collect::<Vec<_>>()
    };
    for (date, time) in [
        ("2024-02-29", "23:59:59"),
        ("2024-02-29Z", "00:00:00.5+02:00"),
        ("2024-02-29-05:00", "12:30:00Z"),
    ] {
        assert!(with(date, time).is_empty(), "{date} {time}");
    }
    for (date, time) in [
        ("2024-2-29", "23:59"),
        ("20240229", "1:02:03"),
        ("2024-02-29+1:00", "12:30:00.+01:00"),
        ("éé-01-01", "ab:cd:éé"),
        ("2024-01-0é+01:00", "12:00:00+0é:00"),
    ] {
        assert_eq!(
            with(date, time),
            [
                "ismrmrdHeader/studyInformation/studyDate",
                "ismrmrdHeader/studyInformation/studyTime"
            ],
            "{date} {time}"
        );
    }
}
