//! The ISMRMRD 1.x stream format against ismrmrd-python 1.15's `ProtocolSerializer` /
//! `ProtocolDeserializer` (`tests/python/stream_peer.py`), round trips of every message kind,
//! bad input, and HDF5 → stream → memory with a reference file.
//!
//! The Python checks need `ACCORD_PYTHON` naming a python with the `ismrmrd` package; without it
//! they print `skipped: ACCORD_PYTHON not set`, and with `ACCORD_REQUIRE_INTEROP=1` they fail.

use std::path::{Path, PathBuf};
use std::process::Command;

use accord_ismrmrd::stream::{StreamItem, StreamReader, StreamWriter, is_hdf5};
use accord_ismrmrd::{
    Acquisition, AcquisitionFlag, AcquisitionHeader, ArrayData, Error, Image, ImageHeader,
    IsmrmrdFile, Waveform, WaveformHeader,
};
use ndarray::{Array, Array4, IxDyn, ShapeBuilder};
use num_complex::{Complex32, Complex64};
use serde_json::{Value, json};

mod common;
use common::python;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs `stream_peer.py ARGS…` and returns its stdout.
fn peer(py: &str, mode: &str, file: &Path) -> Vec<u8> {
    let out = Command::new(py)
        .arg(root().join("tests/python/stream_peer.py"))
        .arg(mode)
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {py}: {e}"));
    assert!(
        out.status.success(),
        "stream_peer.py {mode}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// What `stream_peer.py dump FILE` prints.
fn python_dump(py: &str, file: &Path) -> Value {
    serde_json::from_slice(&peer(py, "dump", file)).unwrap()
}

// ---------------------------------------------------------------------------------------------
// SHA-256 of the acquisition bytes, as `stream_peer.py` prints it.

fn sha256_hex(msg: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(msg)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The JSON `stream_peer.py dump` prints, computed from Rust items.

fn numpy_dtype<D: ndarray::Dimension>(a: &ArrayData<D>) -> &'static str {
    match a {
        ArrayData::U16(_) => "uint16",
        ArrayData::I16(_) => "int16",
        ArrayData::U32(_) => "uint32",
        ArrayData::I32(_) => "int32",
        ArrayData::F32(_) => "float32",
        ArrayData::F64(_) => "float64",
        ArrayData::C32(_) => "complex64",
        ArrayData::C64(_) => "complex128",
    }
}

fn array_values<D: ndarray::Dimension>(a: &ArrayData<D>) -> Value {
    let complex = matches!(a, ArrayData::C32(_) | ArrayData::C64(_));
    Value::Array(
        a.to_complex64_vec()
            .into_iter()
            .map(|v| {
                if complex {
                    json!([v.re, v.im])
                } else {
                    json!(v.re)
                }
            })
            .collect(),
    )
}

fn acquisition_sha256(a: &Acquisition) -> String {
    let mut bytes = a.header.to_bytes().to_vec();
    a.traj
        .iter()
        .for_each(|t| bytes.extend_from_slice(&t.to_le_bytes()));
    for c in &a.data {
        bytes.extend_from_slice(&c.re.to_le_bytes());
        bytes.extend_from_slice(&c.im.to_le_bytes());
    }
    sha256_hex(&bytes)
}

fn describe(item: &StreamItem) -> Value {
    match item {
        StreamItem::ConfigFile(t) => json!({"kind": "config_file", "text": t}),
        StreamItem::ConfigText(t) => json!({"kind": "config_text", "text": t}),
        StreamItem::Text(t) => json!({"kind": "text", "text": t}),
        StreamItem::Header(x) => json!({"kind": "header", "xml": x}),
        StreamItem::Acquisition(a) => {
            json!({"kind": "acquisition", "sha256": acquisition_sha256(a)})
        }
        StreamItem::Image(im) => json!({
            "kind": "image",
            "header": serde_json::to_value(im.header).unwrap(),
            "attributes": im.attributes,
            "dtype": numpy_dtype(&im.data),
            "shape": im.data.shape(),
            "values": array_values(&im.data),
        }),
        StreamItem::Waveform(w) => json!({
            "kind": "waveform",
            "header": serde_json::to_value(w.header).unwrap(),
            "data": w.data,
        }),
        StreamItem::NdArray(a) => json!({
            "kind": "ndarray",
            "dtype": numpy_dtype(a),
            "shape": a.shape(),
            "values": array_values(a),
        }),
        StreamItem::Close => panic!("CLOSE is not an item of the dump"),
    }
}

/// Asserts that Rust `items` are what the Python dump lists, message by message.
fn assert_matches_dump(items: &[StreamItem], dump: &Value) {
    let closed = items.last() == Some(&StreamItem::Close);
    let body = if closed {
        &items[..items.len() - 1]
    } else {
        items
    };
    let py_items = dump["items"].as_array().unwrap();
    assert_eq!(body.len(), py_items.len(), "number of messages");
    for (i, (item, py)) in body.iter().zip(py_items).enumerate() {
        assert_eq!(&describe(item), py, "message {i}");
    }
    assert_eq!(dump["closed"], json!(closed));
}

// ---------------------------------------------------------------------------------------------
// Helpers.

fn write_all(items: &[StreamItem]) -> Vec<u8> {
    let mut w = StreamWriter::new(Vec::new());
    for item in items {
        w.write(item).unwrap();
    }
    w.finish().unwrap()
}

fn read_all(bytes: &[u8]) -> Vec<StreamItem> {
    StreamReader::new(bytes, "<memory>")
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

fn first_difference(a: &[u8], b: &[u8]) -> Option<usize> {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .or((a.len() != b.len()).then_some(a.len().min(b.len())))
}

/// Meta attributes in the form ismrmrd-python's `Meta.serialize()` writes.
fn meta(pairs: &[(&str, &str)]) -> String {
    let body: String = pairs
        .iter()
        .map(|(k, v)| format!("<meta><name>{k}</name><value>{v}</value></meta>"))
        .collect();
    format!("<?xml version='1.0' encoding='UTF-8'?>\n<ismrmrdMeta>{body}</ismrmrdMeta>")
}

fn acquisition(i: u16, channels: u16, samples: u16, dims: u16) -> Acquisition {
    let mut h = AcquisitionHeader {
        number_of_samples: samples,
        active_channels: channels,
        available_channels: channels + 1,
        trajectory_dimensions: dims,
        center_sample: samples / 2,
        sample_time_us: 2.5,
        scan_counter: 1000 + i as u32,
        acquisition_time_stamp: u32::MAX - i as u32,
        position: [1.5, -2.0, 0.25],
        ..Default::default()
    };
    h.idx.kspace_encode_step_1 = i;
    h.idx.repetition = 3;
    h.idx.user[7] = 9;
    h.user_int[0] = -(i as i32);
    h.user_float[7] = 0.1 * i as f32;
    h.channel_mask[15] = 1 << 63;
    h.set_flag(AcquisitionFlag::IsReverse);
    if i == 0 {
        h.set_flag(AcquisitionFlag::IsNoiseMeasurement);
    }
    let mut a = Acquisition::new(h);
    for (k, c) in a.data.iter_mut().enumerate() {
        *c = Complex32::new(k as f32 * 0.5 - 3.0, -(k as f32) / 7.0 + i as f32);
    }
    for (k, t) in a.traj.iter_mut().enumerate() {
        *t = k as f32 / 64.0 - 0.5;
    }
    a
}

fn image(k: usize, data: ArrayData<ndarray::Ix4>, attributes: String) -> Image {
    let mut h = ImageHeader {
        image_index: k as u16,
        image_series_index: 7,
        field_of_view: [220.0, 200.0, 3.5],
        slice: k as u16,
        read_dir: [1.0, 0.0, 0.0],
        ..Default::default()
    };
    h.user_int[7] = -5;
    h.user_float[0] = 1.0 / 3.0;
    Image::new(h, attributes, data)
}

fn image_arrays() -> Vec<ArrayData<ndarray::Ix4>> {
    let shape = (2, 1, 3, 4);
    let n = 24;
    let f = |k: usize| k as f64 * 1.5 - 7.0;
    vec![
        ArrayData::U16(Array4::from_shape_fn(shape, |(c, _, y, x)| {
            (c * 1000 + y * 10 + x) as u16 + 60000
        })),
        ArrayData::I16(
            Array::from_shape_vec(shape, (0..n).map(|k| k as i16 - 12).collect()).unwrap(),
        ),
        ArrayData::U32(
            Array::from_shape_vec(shape, (0..n).map(|k| 4_000_000_000 + k as u32).collect())
                .unwrap(),
        ),
        ArrayData::F32(
            Array::from_shape_vec(shape, (0..n).map(|k| f(k) as f32).collect()).unwrap(),
        ),
        ArrayData::F64(Array::from_shape_vec(shape, (0..n).map(|k| f(k) / 3.0).collect()).unwrap()),
        ArrayData::C32(
            Array::from_shape_vec(
                shape,
                (0..n)
                    .map(|k| Complex32::new(f(k) as f32, -(k as f32)))
                    .collect(),
            )
            .unwrap(),
        ),
        ArrayData::C64(
            Array::from_shape_vec(
                shape,
                (0..n)
                    .map(|k| Complex64::new(f(k), 0.1 * k as f64))
                    .collect(),
            )
            .unwrap(),
        ),
    ]
}

fn waveform(j: u16) -> Waveform {
    let header = WaveformHeader {
        flags: 1 << 33,
        measurement_uid: 5,
        scan_counter: 10 * j as u32,
        time_stamp: 77 + j as u32,
        number_of_samples: 5 + j,
        channels: 2,
        sample_time_us: 2500.0,
        waveform_id: if j == 1 { 1024 } else { j },
        ..Default::default()
    };
    let n = header.channels as u32 * header.number_of_samples as u32;
    Waveform {
        header,
        data: (0..n)
            .map(|v| v * 3 + u32::MAX / 2 * (j as u32 % 2))
            .collect(),
    }
}

fn ndarrays() -> Vec<ArrayData<IxDyn>> {
    let f = |k: usize| k as f64 * 0.75 - 2.0;
    vec![
        ArrayData::U16(Array::from_shape_fn(IxDyn(&[4]), |i| i[0] as u16 * 1000)),
        ArrayData::I16(Array::from_shape_fn(IxDyn(&[2, 3]), |i| {
            i[0] as i16 * 10 - i[1] as i16
        })),
        ArrayData::U32(Array::from_shape_fn(IxDyn(&[1, 2, 3]), |i| {
            (i[1] * 3 + i[2]) as u32 + 7
        })),
        ArrayData::F32(Array::from_shape_fn(IxDyn(&[3, 2]), |i| {
            f(i[0] * 2 + i[1]) as f32
        })),
        ArrayData::F64(Array::from_shape_fn(IxDyn(&[2, 2, 2, 2]), |i| {
            f(i[0] + 2 * i[1] + 4 * i[2] + 8 * i[3])
        })),
        ArrayData::C32(Array::from_shape_fn(IxDyn(&[2, 3, 4]), |i| {
            Complex32::new(i[0] as f32 - 0.5, (i[1] * 4 + i[2]) as f32 * 0.25)
        })),
        ArrayData::C64(Array::from_shape_fn(IxDyn(&[5]), |i| {
            Complex64::new(f(i[0]), -f(i[0]))
        })),
    ]
}

/// Items of every kind that ismrmrd-python can read too (no i32 arrays: it maps ISMRMRD_INT to
/// numpy's 8-byte `int`).
fn python_compatible_items(header_xml: &str) -> Vec<StreamItem> {
    let mut items = vec![
        StreamItem::ConfigFile("accord_default.xml".into()),
        StreamItem::ConfigText("<config><gadget>Accord</gadget></config>".into()),
        StreamItem::Header(header_xml.into()),
        StreamItem::Text("from Rust: µ ✓".into()),
    ];
    items.extend([
        StreamItem::Acquisition(acquisition(0, 4, 32, 0)),
        StreamItem::Acquisition(acquisition(1, 4, 32, 2)),
        StreamItem::Acquisition(acquisition(2, 2, 7, 3)),
        StreamItem::Acquisition(acquisition(3, 1, 0, 0)),
    ]);
    for (k, data) in image_arrays().into_iter().enumerate() {
        let attributes = if k == 1 {
            String::new()
        } else {
            meta(&[
                ("DataRole", "Image"),
                ("ImageComments", &format!("image {k} µ")),
            ])
        };
        items.push(StreamItem::Image(image(k, data, attributes)));
    }
    items.extend((0..3).map(|j| StreamItem::Waveform(waveform(j))));
    items.extend(ndarrays().into_iter().map(StreamItem::NdArray));
    items.push(StreamItem::Close);
    items
}

const PLAIN_HEADER: &str = r#"<?xml version="1.0"?>
<ismrmrdHeader xmlns="http://www.ismrm.org/ISMRMRD"><experimentalConditions><H1resonanceFrequency_Hz>63500000</H1resonanceFrequency_Hz></experimentalConditions></ismrmrdHeader>"#;

/// Every kind, every element type, arrays in non-standard memory order.
fn all_items() -> Vec<StreamItem> {
    let mut items = python_compatible_items(PLAIN_HEADER);
    items.pop();
    let i32_image = Array::from_shape_vec((1, 2, 2, 3), (0..12).map(|k| k - 6).collect()).unwrap();
    items.push(StreamItem::Image(image(
        9,
        ArrayData::I32(i32_image),
        String::new(),
    )));
    // Fortran-order pixels are written in logical (C) order.
    let fortran =
        Array::from_shape_vec((2, 1, 3, 4).f(), (0..24).map(|k| k as f32).collect()).unwrap();
    items.push(StreamItem::Image(image(
        10,
        ArrayData::F32(fortran),
        meta(&[("A", "b")]),
    )));
    items.push(StreamItem::NdArray(ArrayData::I32(Array::from_shape_fn(
        IxDyn(&[3, 3]),
        |i| i[0] as i32 - i[1] as i32 * 100,
    ))));
    let transposed =
        Array::from_shape_fn(IxDyn(&[3, 4]), |i| (i[0] * 4 + i[1]) as f64).reversed_axes();
    items.push(StreamItem::NdArray(ArrayData::F64(transposed)));
    items.push(StreamItem::NdArray(ArrayData::U16(
        Array::from_shape_vec(IxDyn(&[]), vec![42]).unwrap(),
    )));
    items.push(StreamItem::NdArray(ArrayData::C32(
        Array::from_shape_vec(IxDyn(&[0, 3]), vec![]).unwrap(),
    )));
    items.push(StreamItem::Close);
    items
}

// ---------------------------------------------------------------------------------------------
// Interoperability with ismrmrd-python.

#[test]
fn python_written_stream_reads_the_same_and_rewrites_byte_for_byte() {
    let Some(py) = python("ismrmrd-python stream interoperability") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("python.mrd");
    peer(&py, "write", &path);
    let bytes = std::fs::read(&path).unwrap();
    assert!(!is_hdf5(&bytes));

    let items: Vec<StreamItem> = StreamReader::new(&bytes[..], &path.display().to_string())
        .collect::<Result<_, _>>()
        .unwrap();
    // The peer writes every kind, images of seven element types.
    let count = |f: fn(&StreamItem) -> bool| items.iter().filter(|i| f(i)).count();
    assert_eq!(count(|i| matches!(i, StreamItem::ConfigFile(_))), 1);
    assert_eq!(count(|i| matches!(i, StreamItem::ConfigText(_))), 1);
    assert_eq!(count(|i| matches!(i, StreamItem::Header(_))), 1);
    assert_eq!(count(|i| matches!(i, StreamItem::Text(_))), 1);
    assert_eq!(count(|i| matches!(i, StreamItem::Acquisition(_))), 6);
    assert_eq!(count(|i| matches!(i, StreamItem::Image(_))), 7);
    assert_eq!(count(|i| matches!(i, StreamItem::Waveform(_))), 3);
    assert_eq!(count(|i| matches!(i, StreamItem::NdArray(_))), 3);
    assert_eq!(items.last(), Some(&StreamItem::Close));
    let mut image_types: Vec<_> = items
        .iter()
        .filter_map(|i| match i {
            StreamItem::Image(im) => Some(im.data.data_type().name()),
            _ => None,
        })
        .collect();
    image_types.sort();
    image_types.dedup();
    assert_eq!(image_types.len(), 7, "{image_types:?}");
    for item in &items {
        match item {
            StreamItem::Acquisition(a) => a.check().unwrap(),
            StreamItem::Image(im) => im.check().unwrap(),
            StreamItem::Waveform(w) => w.check().unwrap(),
            _ => {}
        }
    }
    let Some(StreamItem::Acquisition(last)) = items
        .iter()
        .rfind(|i| matches!(i, StreamItem::Acquisition(_)))
    else {
        unreachable!()
    };
    assert!(last.header.is_flag_set(AcquisitionFlag::LastInMeasurement));
    assert_eq!(last.header.trajectory_dimensions, 3);

    // (a) Rust reads what Python dumps.
    assert_matches_dump(&items, &python_dump(&py, &path));

    // (c) Re-serialising gives the Python bytes exactly.
    let rewritten = write_all(&items);
    assert_eq!(
        first_difference(&rewritten, &bytes),
        None,
        "Rust's bytes ({}) differ from Python's ({})",
        rewritten.len(),
        bytes.len()
    );
}

#[test]
fn rust_written_stream_reads_the_same_in_python() {
    let Some(py) = python("ismrmrd-python stream interoperability") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let py_path = dir.path().join("python.mrd");
    peer(&py, "write", &py_path);
    let py_items = read_all(&std::fs::read(&py_path).unwrap());

    // (b) The items Python wrote, written by Rust, then Rust's own items of every kind (with
    // Python's canonical header XML, which its deserializer parses and re-serialises).
    let header = py_items
        .iter()
        .find_map(|i| match i {
            StreamItem::Header(x) => Some(x.clone()),
            _ => None,
        })
        .unwrap();
    for (name, items) in [
        ("python_items", py_items.clone()),
        ("rust_items", python_compatible_items(&header)),
    ] {
        let path = dir.path().join(format!("{name}.mrd"));
        std::fs::write(&path, write_all(&items)).unwrap();
        assert_matches_dump(&items, &python_dump(&py, &path));
    }

    // A stream without CLOSE: Python sees the same messages, not closed.
    let mut unclosed = python_compatible_items(&header);
    unclosed.pop();
    let path = dir.path().join("unclosed.mrd");
    std::fs::write(&path, stream_with_offsets(&unclosed).0).unwrap();
    assert_matches_dump(&unclosed, &python_dump(&py, &path));
}

// ---------------------------------------------------------------------------------------------
// Rust round trips.

#[test]
fn every_item_kind_round_trips() {
    let items = all_items();
    let bytes = write_all(&items);
    let back = read_all(&bytes);
    assert_eq!(back.len(), items.len());
    for (i, (a, b)) in items.iter().zip(&back).enumerate() {
        assert_eq!(a, b, "item {i}");
    }
    // Writing what was read gives the same bytes.
    assert_eq!(write_all(&back), bytes);

    // Message framing: CONFIG_FILE is id 1 + 1024 zero-padded bytes, then CONFIG_TEXT.
    assert_eq!(&bytes[..2], &[1, 0]);
    assert_eq!(&bytes[2..20], b"accord_default.xml");
    assert!(bytes[20..1026].iter().all(|&b| b == 0));
    assert_eq!(&bytes[1026..1028], &[2, 0]);
    assert!(bytes.ends_with(&[4, 0]));
}

#[test]
fn reads_through_a_reader_that_returns_few_bytes_at_a_time() {
    struct Trickle<'a>(&'a [u8]);
    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(self.0.len()).min(3);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    let items = all_items();
    let bytes = write_all(&items);
    let mut r = StreamReader::new(Trickle(&bytes), "trickle");
    let back: Vec<StreamItem> = r.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(back, items);
    assert_eq!(r.offset(), bytes.len() as u64);
}

#[test]
fn image_layout_and_attribute_length() {
    let data = ArrayData::U16(Array4::from_shape_fn((1, 1, 2, 3), |(_, _, y, x)| {
        (y * 3 + x) as u16
    }));
    let mut im = image(0, data, "<a/>".into());
    im.header.attribute_string_len = 999; // stale: the writer writes the real length
    let bytes = write_all(&[StreamItem::Image(im.clone())]);
    assert_eq!(&bytes[..2], &1022u16.to_le_bytes());
    let head = &bytes[2..200];
    let mut want = im.header;
    want.attribute_string_len = 4;
    assert_eq!(head, want.to_bytes());
    assert_eq!(&bytes[200..208], &4u64.to_le_bytes());
    assert_eq!(&bytes[208..212], b"<a/>");
    let pixels: Vec<u16> = bytes[212..224]
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    assert_eq!(pixels, [0, 1, 2, 3, 4, 5]); // x fastest
    assert_eq!(&bytes[224..], &[4, 0]);

    // Attributes counted with a terminating NUL (older writers) read without it.
    let mut old = bytes[..200].to_vec();
    old.extend_from_slice(&5u64.to_le_bytes());
    old.extend_from_slice(b"<a/>\0");
    old.extend_from_slice(&bytes[212..]);
    let items = read_all(&old);
    let StreamItem::Image(back) = &items[0] else {
        panic!("{items:?}")
    };
    assert_eq!(back.attributes, "<a/>");
    assert_eq!(back.data, im.data);
}

#[test]
fn ndarray_layout_matches_python() {
    // np.arange(6, dtype=np.float32).reshape(3, 2): data type, version 0, ndim, dims slowest
    // first (numpy shape order), data in C order.
    let a = ArrayData::F32(
        Array::from_shape_vec(IxDyn(&[3, 2]), (0..6).map(|v| v as f32).collect()).unwrap(),
    );
    let bytes = write_all(&[StreamItem::NdArray(a)]);
    let mut want = vec![0x06, 0x04, 5, 0, 0, 0, 2, 0];
    want.extend_from_slice(&3u64.to_le_bytes());
    want.extend_from_slice(&2u64.to_le_bytes());
    (0..6).for_each(|v| want.extend_from_slice(&(v as f32).to_le_bytes()));
    want.extend_from_slice(&[4, 0]);
    assert_eq!(bytes, want);
}

#[test]
fn writer_checks_items_and_close() {
    let mut bad = acquisition(1, 2, 8, 2);
    bad.data.pop();
    let mut w = StreamWriter::new(Vec::new());
    let e = w.write(&StreamItem::Acquisition(bad)).unwrap_err();
    assert!(matches!(e, Error::Invalid { .. }), "{e}");
    assert!(e.to_string().contains("data"), "{e}");
    let e = w
        .write(&StreamItem::ConfigFile("x".repeat(1024)))
        .unwrap_err();
    assert!(matches!(e, Error::Invalid { .. }), "{e}");
    let mut im = image(0, image_arrays().remove(0), String::new());
    im.header.matrix_size[0] += 1;
    assert!(matches!(
        w.write(&StreamItem::Image(im)),
        Err(Error::Invalid { .. })
    ));
    let mut wf = waveform(0);
    wf.header.channels = 3;
    assert!(matches!(
        w.write(&StreamItem::Waveform(wf)),
        Err(Error::Invalid { .. })
    ));
    // Nothing was written for the rejected items.
    w.write(&StreamItem::Close).unwrap();
    assert!(matches!(
        w.write(&StreamItem::Text("late".into())),
        Err(Error::Invalid { .. })
    ));
    // finish() after an explicit CLOSE does not write a second one.
    assert_eq!(w.finish().unwrap(), [4, 0]);
    assert_eq!(StreamWriter::new(Vec::new()).finish().unwrap(), [4, 0]);
}

// ---------------------------------------------------------------------------------------------
// Bad input.

/// Writes `items` (without CLOSE) and returns the bytes and the offset of each message.
fn stream_with_offsets(items: &[StreamItem]) -> (Vec<u8>, Vec<u64>) {
    let mut bytes = Vec::new();
    let mut offsets = Vec::new();
    for item in items {
        offsets.push(bytes.len() as u64);
        let mut w = StreamWriter::new(Vec::new());
        w.write(item).unwrap();
        let mut one = w.finish().unwrap();
        one.truncate(one.len() - 2);
        bytes.extend_from_slice(&one);
    }
    (bytes, offsets)
}

fn stream_error(e: &Error) -> (u64, u64, &str) {
    match e {
        Error::Stream {
            path,
            message,
            offset,
            problem,
        } => {
            assert_eq!(path, "bad.mrd");
            (*message, *offset, problem.as_str())
        }
        other => panic!("expected a stream error, got {other:?}"),
    }
}

/// Reads `bytes` expecting `good` items and then one error, after which the iterator ends.
fn read_until_error(bytes: &[u8], good: usize) -> Error {
    let mut r = StreamReader::new(bytes, "bad.mrd");
    for i in 0..good {
        r.next()
            .unwrap()
            .unwrap_or_else(|e| panic!("item {i}: {e}"));
    }
    let e = r.next().expect("an error").unwrap_err();
    assert!(r.next().is_none(), "the reader stops after an error");
    e
}

#[test]
fn truncated_acquisition_names_message_and_offset() {
    let items = [
        StreamItem::Header(PLAIN_HEADER.into()),
        StreamItem::Acquisition(acquisition(1, 4, 32, 2)),
        StreamItem::Acquisition(acquisition(2, 4, 32, 2)),
    ];
    let (bytes, offsets) = stream_with_offsets(&items);
    let payload = 340 + 32 * 2 * 4 + 4 * 32 * 8;
    assert_eq!(bytes.len() as u64, offsets[2] + 2 + payload);

    // Cut in the middle of the samples of message 2.
    let cut = offsets[2] as usize + 2 + 1000;
    let e = read_until_error(&bytes[..cut], 2);
    let (message, offset, problem) = stream_error(&e);
    assert_eq!((message, offset), (2, offsets[2]));
    assert_eq!(
        problem,
        format!("stream ends after 1000 of {payload} bytes of the acquisition payload")
    );
    let text = e.to_string();
    assert!(
        text.starts_with(&format!(
            "bad.mrd: stream message 2 (byte offset {})",
            offsets[2]
        )),
        "{text}"
    );

    // Cut inside the 340-byte header.
    let e = read_until_error(&bytes[..offsets[2] as usize + 2 + 100], 2);
    assert_eq!(
        stream_error(&e).2,
        "stream ends after 100 of 340 bytes of the acquisition header"
    );

    // Cut inside a message id.
    let e = read_until_error(&bytes[..offsets[2] as usize + 1], 2);
    assert_eq!(
        stream_error(&e).2,
        "stream ends inside a message id (1 of 2 bytes)"
    );

    // Cut right after the id.
    let e = read_until_error(&bytes[..offsets[2] as usize + 2], 2);
    assert_eq!(
        stream_error(&e).2,
        "stream ends after 0 of 340 bytes of the acquisition header"
    );
}

#[test]
fn unknown_message_id() {
    let (mut bytes, _) = stream_with_offsets(&[StreamItem::Text("hi".into())]);
    let at = bytes.len() as u64;
    bytes.extend_from_slice(&999u16.to_le_bytes());
    bytes.extend_from_slice(&[0; 64]);
    let e = read_until_error(&bytes, 1);
    let (message, offset, problem) = stream_error(&e);
    assert_eq!((message, offset), (1, at));
    assert!(problem.starts_with("unknown message id 999"), "{problem}");

    // Id 0 (python's UNPEEKED) is not a message either.
    let e = read_until_error(&[0, 0, 4, 0], 0);
    assert!(stream_error(&e).2.starts_with("unknown message id 0"));
}

#[test]
fn image_with_unknown_data_type() {
    let items = [
        StreamItem::Waveform(waveform(0)),
        StreamItem::Image(image(0, image_arrays().remove(3), meta(&[("a", "b")]))),
    ];
    let (mut bytes, offsets) = stream_with_offsets(&items);
    let data_type_at = offsets[1] as usize + 2 + 2;
    bytes[data_type_at..data_type_at + 2].copy_from_slice(&9u16.to_le_bytes());
    let e = read_until_error(&bytes, 1);
    let (message, offset, problem) = stream_error(&e);
    assert_eq!((message, offset), (1, offsets[1]));
    assert!(problem.contains("image data_type 9"), "{problem}");

    // NDArray with an unknown data type.
    let (mut bytes, _) = stream_with_offsets(&[StreamItem::NdArray(ndarrays().remove(0))]);
    bytes[2..4].copy_from_slice(&0u16.to_le_bytes());
    let e = read_until_error(&bytes, 0);
    assert!(stream_error(&e).2.contains("ndarray data type 0"), "{e}");
}

#[test]
fn empty_stream_and_stream_without_close() {
    assert_eq!(StreamReader::new(&[][..], "empty").count(), 0);

    let items = python_compatible_items(PLAIN_HEADER);
    let body = &items[..items.len() - 1];
    let (bytes, _) = stream_with_offsets(body);
    let back = read_all(&bytes);
    assert_eq!(back, body);

    // Bytes after CLOSE are not read.
    let mut closed = write_all(&items);
    closed.extend_from_slice(&[0xff; 3]);
    let back = read_all(&closed);
    assert_eq!(back, items);
}

#[test]
fn invalid_text_and_impossible_lengths() {
    // Invalid UTF-8 in a TEXT message.
    let bytes = [5, 0, 2, 0, 0, 0, 0xc3, 0x28];
    let e = read_until_error(&bytes, 0);
    assert!(stream_error(&e).2.contains("not valid UTF-8"), "{e}");

    // A huge attribute length in a short stream: an error, not an enormous allocation.
    let (bytes, _) = stream_with_offsets(&[StreamItem::Image(image(
        0,
        image_arrays().remove(0),
        String::new(),
    ))]);
    let mut huge = bytes[..200].to_vec();
    huge.extend_from_slice(&(1u64 << 40).to_le_bytes());
    huge.extend_from_slice(b"<ismrmrdMeta>");
    let e = read_until_error(&huge, 0);
    let problem = stream_error(&e).2.to_string();
    assert!(
        problem.starts_with("stream ends after 219 of ")
            && problem.ends_with("bytes of the image payload"),
        "{problem}"
    );
    let mut overflow = bytes[..200].to_vec();
    overflow.extend_from_slice(&u64::MAX.to_le_bytes());
    let e = read_until_error(&overflow, 0);
    assert!(stream_error(&e).2.contains("impossible"), "{e}");

    // NDArray dimensions whose product overflows.
    let mut nd = vec![0x06, 0x04, 1, 0, 0, 0, 2, 0];
    nd.extend_from_slice(&u64::MAX.to_le_bytes());
    nd.extend_from_slice(&3u64.to_le_bytes());
    let e = read_until_error(&nd, 0);
    assert!(stream_error(&e).2.contains("too large"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// HDF5 → stream → memory.

#[test]
fn hdf5_reference_file_converts_to_a_stream_and_back() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/data/sl_r2.h5");
    let mut signature = [0u8; 8];
    std::io::Read::read_exact(&mut std::fs::File::open(&path).unwrap(), &mut signature).unwrap();
    assert!(is_hdf5(&signature));

    let file = IsmrmrdFile::open(&path).unwrap();
    let dataset = file.dataset("dataset").unwrap();
    let xml = dataset.xml_text().unwrap();
    let acqs = dataset.read_all_acquisitions().unwrap();
    assert_eq!(acqs.len(), 216);

    let mut w = StreamWriter::with_name(Vec::new(), "sl_r2.mrd");
    w.write(&StreamItem::Header(xml.clone())).unwrap();
    for a in &acqs {
        w.write(&StreamItem::Acquisition(a.clone())).unwrap();
    }
    let bytes = w.finish().unwrap();
    assert!(!is_hdf5(&bytes));
    let expected_len: usize = 2
        + 4
        + xml.len()
        + acqs
            .iter()
            .map(|a| 2 + 340 + 4 * a.traj.len() + 8 * a.data.len())
            .sum::<usize>()
        + 2;
    assert_eq!(bytes.len(), expected_len);

    let mut r = StreamReader::new(std::io::BufReader::new(&bytes[..]), "sl_r2.mrd");
    assert_eq!(r.next().unwrap().unwrap(), StreamItem::Header(xml));
    let mut back = Vec::new();
    for item in r.by_ref() {
        match item.unwrap() {
            StreamItem::Acquisition(a) => back.push(a),
            StreamItem::Close => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(r.next().is_none());
    assert_eq!(back.len(), acqs.len());
    for (i, (a, b)) in acqs.iter().zip(&back).enumerate() {
        assert_eq!(a, b, "acquisition {i}");
    }
}
