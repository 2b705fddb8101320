//! HDF5 reading and writing against the reference files in `tests/data/` (written by the ISMRMRD
//! C++ tools 1.8.0 and ismrmrd-python 1.15.0), round trips, atomic writes and bad input.

use std::path::{Path, PathBuf};

use accord_ismrmrd::{
    Acquisition, AcquisitionFlag, AcquisitionHeader, ArrayData, Error, Image, ImageHeader,
    IsmrmrdFile, IsmrmrdWriter, Waveform, WaveformHeader, WriteOptions,
};
use hdf5::types::VarLenArray;
use ndarray::{Array, Array4, IxDyn};
use num_complex::{Complex32, Complex64};

mod common;
use common::serial;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data")
        .join(name)
}

const RAW_FILES: [(&str, u64, u16, u16); 8] = [
    // (file, acquisitions, channels, max samples)
    ("sl_full.h5", 257, 8, 512),
    ("sl_r2.h5", 216, 8, 384),
    ("sl_r4.h5", 288, 8, 384),
    ("sl_reps.h5", 384, 4, 256),
    ("py_noise.h5", 160, 8, 256),
    ("py_msmc.h5", 512, 8, 128),
    ("py_3d_cs.h5", 432, 8, 64),
    ("py_radial.h5", 100, 8, 256),
];

#[test]
fn every_reference_file_reads_completely() {
    let _serial = serial();
    for (name, n, channels, samples) in RAW_FILES {
        let f = IsmrmrdFile::open(data(name)).unwrap();
        assert_eq!(f.groups().unwrap(), ["dataset"], "{name}");
        let d = f.dataset("dataset").unwrap();
        let header = d.header().unwrap();
        assert!(!header.encoding.is_empty(), "{name}");
        let acqs = d.read_all_acquisitions().unwrap();
        assert_eq!(acqs.len() as u64, n, "{name}");
        assert_eq!(d.number_of_acquisitions().unwrap(), n, "{name}");
        assert_eq!(
            acqs.iter().map(|a| a.header.active_channels).max(),
            Some(channels),
            "{name}"
        );
        assert_eq!(
            acqs.iter().map(|a| a.header.number_of_samples).max(),
            Some(samples),
            "{name}"
        );
        for a in &acqs {
            a.check().unwrap();
            assert!(
                a.data.iter().all(|c| c.re.is_finite() && c.im.is_finite()),
                "{name}"
            );
        }
        // Headers-only read agrees with the full read.
        let heads = d.read_acquisition_headers().unwrap();
        assert_eq!(
            heads,
            acqs.iter().map(|a| a.header).collect::<Vec<_>>(),
            "{name}"
        );
    }
}

#[test]
fn direct_payload_reads_match_libhdf5_conversion() {
    let _serial = serial();
    // The fast path (raw chunks + global heap) and libhdf5's vlen conversion give the same
    // acquisitions for C-library (376-byte), h5py (372-byte) and our own (64-record chunk) files.
    let dir = tmp();
    let ours = dir.path().join("ours.h5");
    let src = IsmrmrdFile::open(data("sl_reps.h5")).unwrap();
    let acqs = src
        .dataset("dataset")
        .unwrap()
        .read_all_acquisitions()
        .unwrap();
    let mut w = IsmrmrdWriter::create(&ours, "dataset", WriteOptions::default()).unwrap();
    w.append_acquisitions(&acqs).unwrap();
    w.finish().unwrap();
    let mut files: Vec<PathBuf> = RAW_FILES.iter().map(|f| data(f.0)).collect();
    files.push(ours);
    for p in files {
        let f = IsmrmrdFile::open(&p).unwrap();
        assert!(
            f.dataset("dataset").unwrap().fast_path_active().unwrap(),
            "{}",
            p.display()
        );
        assert!(
            !f.dataset("dataset")
                .unwrap()
                .with_fast_path(false)
                .fast_path_active()
                .unwrap()
        );
        let fast = f
            .dataset("dataset")
            .unwrap()
            .read_all_acquisitions()
            .unwrap();
        let slow = f
            .dataset("dataset")
            .unwrap()
            .with_fast_path(false)
            .read_all_acquisitions()
            .unwrap();
        assert_eq!(fast, slow, "{}", p.display());
        let d = f.dataset("dataset").unwrap();
        assert_eq!(
            d.read_acquisitions(5..9).unwrap(),
            slow[5..9],
            "{}",
            p.display()
        );
    }
}

#[test]
fn streaming_batched_and_random_access_agree() {
    let _serial = serial();
    let f = IsmrmrdFile::open(data("py_radial.h5")).unwrap();
    let d = f.dataset("dataset").unwrap();
    let all = d.read_all_acquisitions().unwrap();
    let streamed: Vec<Acquisition> = d.acquisitions().unwrap().map(Result::unwrap).collect();
    assert_eq!(streamed, all);
    let batched: Vec<Acquisition> = d
        .acquisition_batches(7)
        .unwrap()
        .flat_map(Result::unwrap)
        .collect();
    assert_eq!(batched, all);
    assert_eq!(d.read_acquisition(42).unwrap(), all[42]);
    assert_eq!(d.read_acquisitions(10..13).unwrap(), all[10..13]);
    // Radial trajectory: 2-D, sample-major, inside [-0.5, 0.5].
    let a = &all[3];
    assert_eq!(a.header.trajectory_dimensions, 2);
    assert_eq!(a.traj_view().shape(), &[256, 2]);
    assert!(a.traj.iter().all(|t| t.abs() <= 0.5 + 1e-6));
    assert_eq!(a.data_view().shape(), &[8, 256]);
    // Out of range is an error, not a panic.
    assert!(d.read_acquisition(100).is_err());
}

#[test]
fn noise_and_calibration_flags_are_decoded() {
    let _serial = serial();
    let f = IsmrmrdFile::open(data("py_noise.h5")).unwrap();
    let heads = f
        .dataset("dataset")
        .unwrap()
        .read_acquisition_headers()
        .unwrap();
    let noise = heads.iter().filter(|h| h.is_noise()).count();
    assert_eq!(noise, 32);
    assert!(heads[..32].iter().all(|h| h.is_noise()));
    assert!(
        heads
            .last()
            .unwrap()
            .is_flag_set(AcquisitionFlag::LastInMeasurement)
    );
    let f = IsmrmrdFile::open(data("sl_r2.h5")).unwrap();
    let heads = f
        .dataset("dataset")
        .unwrap()
        .read_acquisition_headers()
        .unwrap();
    assert_eq!(heads.iter().filter(|h| h.is_calibration()).count(), 48);
}

#[test]
fn images_and_ndarrays_of_reference_files() {
    let _serial = serial();
    // Real Siemens Prisma image: group /images, series images_1, int16 220x220, image_type 0.
    let f = IsmrmrdFile::open(data("real_image_siemens_prisma_spiral.h5")).unwrap();
    assert_eq!(f.groups().unwrap(), ["images"]);
    let d = f.dataset("images").unwrap();
    assert_eq!(d.image_series().unwrap(), ["images_1"]);
    let imgs = d.read_images("images_1").unwrap();
    assert_eq!(imgs.len(), 1);
    let img = &imgs[0];
    assert_eq!(img.header.matrix_size, [220, 220, 1]);
    assert_eq!(img.header.image_type, 0);
    assert_eq!(img.data.shape(), &[1, 1, 220, 220]);
    assert!(matches!(img.data, ArrayData::I16(_)));
    img.check().unwrap();
    assert!(
        img.attributes.contains("<ismrmrdMeta>"),
        "{}",
        img.attributes
    );
    assert_eq!(d.number_of_acquisitions().unwrap(), 0);

    // Shepp-Logan generator NDArrays.
    let f = IsmrmrdFile::open(data("sl_full.h5")).unwrap();
    let d = f.dataset("dataset").unwrap();
    assert_eq!(d.ndarray_names().unwrap(), ["csm", "phantom"]);
    let csm = d.read_ndarray("csm").unwrap();
    assert_eq!(csm.shape(), &[1, 8, 256, 256]);
    assert!(matches!(csm, ArrayData::C32(_)));
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn acquisitions_round_trip_through_our_writer() {
    let _serial = serial();
    let src = IsmrmrdFile::open(data("py_radial.h5")).unwrap();
    let d = src.dataset("dataset").unwrap();
    let xml = d.xml_text().unwrap();
    let acqs = d.read_all_acquisitions().unwrap();
    let dir = tmp();
    let out = dir.path().join("copy.h5");
    let mut w = IsmrmrdWriter::create(&out, "dataset", WriteOptions::default()).unwrap();
    w.write_xml(&xml).unwrap();
    w.append_acquisitions(&acqs[..10]).unwrap();
    w.append_acquisitions(&acqs[10..]).unwrap();
    w.finish().unwrap();
    let back = IsmrmrdFile::open(&out).unwrap();
    let b = back.dataset("dataset").unwrap();
    assert_eq!(b.xml_text().unwrap(), xml);
    assert_eq!(b.read_all_acquisitions().unwrap(), acqs);
    // The on-disk record is the C library's 376-byte layout.
    let ds = hdf5::File::open(&out)
        .unwrap()
        .dataset("dataset/data")
        .unwrap();
    assert_eq!(ds.dtype().unwrap().size(), 376);
}

fn image_of<T: Clone>(
    data: Array4<T>,
    wrap: fn(Array4<T>) -> ArrayData<ndarray::Ix4>,
    index: u16,
) -> Image {
    let header = ImageHeader {
        image_index: index,
        slice: index,
        field_of_view: [220.0, 220.0, 5.0],
        ..Default::default()
    };
    Image::new(
        header,
        format!("<ismrmrdMeta><meta><name>n</name><value>{index}</value></meta></ismrmrdMeta>"),
        wrap(data),
    )
}

#[test]
fn images_waveforms_and_ndarrays_round_trip_in_every_type() {
    let _serial = serial();
    let dir = tmp();
    let out = dir.path().join("imgs.h5");
    let shape = (2, 1, 3, 4);
    let n = 2 * 3 * 4;
    let f = |k: usize| (0..n).map(move |i| (i * 7 + k) as f64);
    let series: Vec<(&str, Vec<Image>)> = vec![
        (
            "u16",
            (0..2)
                .map(|k| {
                    image_of(
                        Array4::from_shape_vec(shape, f(k).map(|v| v as u16).collect()).unwrap(),
                        ArrayData::U16,
                        k as u16,
                    )
                })
                .collect(),
        ),
        (
            "i16",
            (0..2)
                .map(|k| {
                    image_of(
                        Array4::from_shape_vec(shape, f(k).map(|v| -(v as i16)).collect()).unwrap(),
                        ArrayData::I16,
                        k as u16,
                    )
                })
                .collect(),
        ),
        (
            "u32",
            (0..2)
                .map(|k| {
                    image_of(
                        Array4::from_shape_vec(shape, f(k).map(|v| v as u32 * 70000).collect())
                            .unwrap(),
                        ArrayData::U32,
                        k as u16,
                    )
                })
                .collect(),
        ),
        (
            "i32",
            (0..2)
                .map(|k| {
                    image_of(
                        Array4::from_shape_vec(shape, f(k).map(|v| -(v as i32) * 70000).collect())
                            .unwrap(),
                        ArrayData::I32,
                        k as u16,
                    )
                })
                .collect(),
        ),
        (
            "f32",
            (0..2)
                .map(|k| {
                    image_of(
                        Array4::from_shape_vec(shape, f(k).map(|v| v as f32 / 3.0).collect())
                            .unwrap(),
                        ArrayData::F32,
                        k as u16,
                    )
                })
                .collect(),
        ),
        (
            "f64",
            (0..2)
                .map(|k| {
                    image_of(
                        Array4::from_shape_vec(shape, f(k).map(|v| v / 3.0).collect()).unwrap(),
                        ArrayData::F64,
                        k as u16,
                    )
                })
                .collect(),
        ),
        (
            "c32",
            (0..2)
                .map(|k| {
                    image_of(
                        Array4::from_shape_vec(
                            shape,
                            f(k).map(|v| Complex32::new(v as f32, -(v as f32) / 2.0))
                                .collect(),
                        )
                        .unwrap(),
                        ArrayData::C32,
                        k as u16,
                    )
                })
                .collect(),
        ),
        (
            "c64",
            (0..2)
                .map(|k| {
                    image_of(
                        Array4::from_shape_vec(
                            shape,
                            f(k).map(|v| Complex64::new(v, v / 3.0)).collect(),
                        )
                        .unwrap(),
                        ArrayData::C64,
                        k as u16,
                    )
                })
                .collect(),
        ),
    ];
    let waveforms: Vec<Waveform> = (0..3u16)
        .map(|k| Waveform {
            header: WaveformHeader {
                waveform_id: k,
                channels: 2,
                number_of_samples: 5 + k,
                sample_time_us: 2500.0,
                scan_counter: 10 * k as u32,
                ..Default::default()
            },
            data: (0..2 * (5 + k as u32))
                .map(|v| v * 1000 + k as u32)
                .collect(),
        })
        .collect();
    let nd = ArrayData::C32(Array::from_shape_fn(IxDyn(&[1, 3, 4]), |i| {
        Complex32::new(i[1] as f32, i[2] as f32)
    }));
    let mut w = IsmrmrdWriter::create(&out, "dataset", WriteOptions::default()).unwrap();
    for (name, imgs) in &series {
        w.append_images(name, &imgs[..1]).unwrap();
        w.append_images(name, &imgs[1..]).unwrap();
    }
    w.append_waveforms(&waveforms).unwrap();
    w.append_ndarray("phantom", &nd).unwrap();
    w.append_ndarray("phantom", &nd).unwrap();
    w.finish().unwrap();

    let back = IsmrmrdFile::open(&out).unwrap();
    let d = back.dataset("dataset").unwrap();
    let mut names = d.image_series().unwrap();
    names.sort();
    assert_eq!(
        names,
        ["c32", "c64", "f32", "f64", "i16", "i32", "u16", "u32"]
    );
    for (name, imgs) in &series {
        assert_eq!(&d.read_images(name).unwrap(), imgs, "series {name}");
    }
    assert_eq!(d.read_waveforms().unwrap(), waveforms);
    let nd_back = d.read_ndarray("phantom").unwrap();
    assert_eq!(nd_back.shape(), &[2, 3, 4]);
    assert_eq!(nd_back.to_complex64_vec()[12..], nd.to_complex64_vec()[..]);
    // Text with a NUL cannot be stored as an HDF5 string: an error, not a panic.
    let mut w = IsmrmrdWriter::create(
        dir.path().join("nul.h5"),
        "dataset",
        WriteOptions::default(),
    )
    .unwrap();
    let e = w
        .write_xml("<ismrmrdHeader>\0</ismrmrdHeader>")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("XML header") && e.contains("NUL character at byte 15"),
        "{e}"
    );
    let mut img = series[0].1[0].clone();
    img.attributes.push('\0');
    let e = w.append_images("s", &[img]).unwrap_err().to_string();
    assert!(
        e.contains("image 0 of series 's'") && e.contains("'attributes'") && e.contains("NUL"),
        "{e}"
    );
    // Appending images of another shape or element type to a series is refused before
    // anything is written, so the series stays consistent.
    w.append_images("s", &series[0].1).unwrap();
    let e = w.append_images("s", &series[1].1).unwrap_err().to_string();
    assert!(e.contains("element type i16 differs"), "{e}");
    let mut other = series[0].1[0].clone();
    other.data = ArrayData::U16(Array4::zeros((1, 1, 3, 4)));
    other.header.channels = 1;
    let e = w.append_images("s", &[other]).unwrap_err().to_string();
    assert!(e.contains("shape [1, 1, 3, 4] differs"), "{e}");
    let e = w.append_ndarray("s", &nd).unwrap_err().to_string();
    assert!(
        e.contains("array 's'") && e.contains("name is taken"),
        "{e}"
    );
    w.append_ndarray("a", &nd).unwrap();
    let e = w
        .append_ndarray("a", &ArrayData::F32(Array::zeros(IxDyn(&[1, 3, 5]))))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("array 'a'") && e.contains("shape [3, 5] differs"),
        "{e}"
    );
    w.finish().unwrap();
    let back = IsmrmrdFile::open(dir.path().join("nul.h5")).unwrap();
    assert_eq!(
        back.dataset("dataset").unwrap().read_images("s").unwrap(),
        series[0].1
    );
    // Writer refuses inconsistent input with a clear message.
    let mut w = IsmrmrdWriter::create(
        dir.path().join("bad.h5"),
        "dataset",
        WriteOptions::default(),
    )
    .unwrap();
    let mut a = Acquisition::new(AcquisitionHeader {
        number_of_samples: 4,
        active_channels: 2,
        ..Default::default()
    });
    a.data.pop();
    let e = w.append_acquisitions(&[a]).unwrap_err().to_string();
    assert!(
        e.contains("acquisition 0") && e.contains("'data'") && e.contains("7 complex samples"),
        "{e}"
    );
}

#[test]
fn writes_are_atomic_and_never_clobber() {
    let _serial = serial();
    let dir = tmp();
    let out = dir.path().join("out.h5");
    std::fs::write(&out, b"precious").unwrap();
    let e = IsmrmrdWriter::create(&out, "dataset", WriteOptions::default())
        .err()
        .unwrap();
    assert!(matches!(e, Error::OutputExists { .. }), "{e}");
    assert!(e.to_string().contains("--force"));
    assert_eq!(std::fs::read(&out).unwrap(), b"precious");

    // An abandoned writer leaves nothing behind, not even its temporary file.
    let fresh = dir.path().join("fresh.h5");
    {
        let mut w = IsmrmrdWriter::create(&fresh, "dataset", WriteOptions::default()).unwrap();
        w.write_xml("<ismrmrdHeader/>").unwrap();
        assert!(
            !fresh.exists(),
            "nothing appears under the target name before finish()"
        );
    }
    assert!(!fresh.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "only the precious file remains"
    );

    // With overwrite the old file is replaced in one rename.
    let opts = WriteOptions {
        overwrite: true,
        ..Default::default()
    };
    let mut w = IsmrmrdWriter::create(&out, "dataset", opts).unwrap();
    w.write_xml("<ismrmrdHeader/>").unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), b"precious");
    w.finish().unwrap();
    let f = IsmrmrdFile::open(&out).unwrap();
    assert_eq!(
        f.dataset("dataset").unwrap().xml_text().unwrap(),
        "<ismrmrdHeader/>"
    );
}

// ----- bad input -----

fn err_of<T>(r: accord_ismrmrd::Result<T>) -> String {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn not_hdf5_and_missing_files() {
    let _serial = serial();
    let dir = tmp();
    let p = dir.path().join("notes.h5");
    std::fs::write(&p, "this is not HDF5\n").unwrap();
    let e = err_of(IsmrmrdFile::open(&p));
    assert!(
        e.contains("notes.h5") && e.contains("cannot open as HDF5"),
        "{e}"
    );
    let e = err_of(IsmrmrdFile::open(dir.path().join("absent.h5")));
    assert!(e.contains("absent.h5") && e.contains("No such file"), "{e}");
}

#[test]
fn truncated_file_is_reported() {
    let _serial = serial();
    let dir = tmp();
    let p = dir.path().join("cut.h5");
    let bytes = std::fs::read(data("sl_r2.h5")).unwrap();
    std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
    let e = match IsmrmrdFile::open(&p) {
        Err(e) => e.to_string(),
        Ok(f) => err_of(f.dataset("dataset").and_then(|d| d.read_all_acquisitions())),
    };
    assert!(e.contains("cut.h5"), "{e}");
    assert!(e.to_lowercase().contains("truncated"), "{e}");
}

#[test]
fn missing_group_and_xml() {
    let _serial = serial();
    let dir = tmp();
    let p = dir.path().join("other.h5");
    let mut w = IsmrmrdWriter::create(&p, "scan1", WriteOptions::default()).unwrap();
    w.append_acquisitions(&[Acquisition::new(AcquisitionHeader {
        number_of_samples: 2,
        active_channels: 1,
        ..Default::default()
    })])
    .unwrap();
    w.finish().unwrap();
    let f = IsmrmrdFile::open(&p).unwrap();
    let e = err_of(f.dataset("dataset"));
    assert!(
        e.contains("other.h5") && e.contains("no group 'dataset'") && e.contains("scan1"),
        "{e}"
    );
    let e = err_of(f.dataset("scan1").and_then(|d| d.xml_text()));
    assert!(e.contains("/scan1/xml is missing"), "{e}");
}

#[test]
fn malformed_xml_names_line_and_column() {
    let _serial = serial();
    let dir = tmp();
    let p = dir.path().join("badxml.h5");
    let mut w = IsmrmrdWriter::create(&p, "dataset", WriteOptions::default()).unwrap();
    w.write_xml("<?xml version=\"1.0\"?>\n<ismrmrdHeader xmlns=\"http://www.ismrm.org/ISMRMRD\">\n  <experimentalConditions>\n    <H1resonanceFrequency_Hz>63500000</H1resonanceFrequency_Hz>\n  </experimentalCondition>\n</ismrmrdHeader>\n").unwrap();
    w.finish().unwrap();
    let f = IsmrmrdFile::open(&p).unwrap();
    let e = err_of(f.dataset("dataset").and_then(|d| d.header()));
    assert!(
        e.contains("badxml.h5") && e.contains("/dataset/xml") && e.contains("line 5"),
        "{e}"
    );
}

/// A `data` record with a chosen member set, to build malformed files.
#[derive(hdf5::H5Type)]
#[repr(C)]
struct RawRecord {
    head: AcquisitionHeader,
    traj: VarLenArray<f32>,
    data: VarLenArray<f32>,
}

#[derive(hdf5::H5Type, Clone, Copy)]
#[repr(C)]
struct ShortHead {
    version: u16,
    flags: u64,
    number_of_samples: u16,
    active_channels: u16,
}

#[derive(hdf5::H5Type)]
#[repr(C)]
struct ShortRecord {
    head: ShortHead,
    data: VarLenArray<f32>,
}

fn raw_file(dir: &Path, name: &str, build: impl FnOnce(&hdf5::Group)) -> PathBuf {
    let p = dir.join(name);
    let f = hdf5::File::create(&p).unwrap();
    let g = f.create_group("dataset").unwrap();
    build(&g);
    f.close().unwrap();
    p
}

fn record(h: AcquisitionHeader, floats: usize) -> RawRecord {
    RawRecord {
        head: h,
        traj: VarLenArray::from_slice(&[]),
        data: VarLenArray::from_slice(&vec![0.5f32; floats]),
    }
}

#[test]
fn compound_with_missing_members_is_rejected_by_name() {
    let _serial = serial();
    let dir = tmp();
    let p = raw_file(dir.path(), "short.h5", |g| {
        let head = ShortHead {
            version: 1,
            flags: 0,
            number_of_samples: 2,
            active_channels: 1,
        };
        let recs = [ShortRecord {
            head,
            data: VarLenArray::from_slice(&[1.0, 2.0, 3.0, 4.0]),
        }];
        g.new_dataset_builder()
            .with_data(&recs)
            .create("data")
            .unwrap();
    });
    let f = IsmrmrdFile::open(&p).unwrap();
    let e = err_of(f.dataset("dataset").and_then(|d| d.read_all_acquisitions()));
    assert!(
        e.contains("short.h5")
            && e.contains("/dataset/data")
            && e.contains("'head.measurement_uid' is missing"),
        "{e}"
    );
}

#[test]
fn wrong_data_length_names_acquisition_and_field() {
    let _serial = serial();
    let dir = tmp();
    let h = AcquisitionHeader {
        number_of_samples: 4,
        active_channels: 2,
        ..Default::default()
    };
    let p = raw_file(dir.path(), "short_data.h5", |g| {
        let recs = [record(h, 16), record(h, 16), record(h, 15)];
        g.new_dataset_builder()
            .with_data(&recs)
            .create("data")
            .unwrap();
    });
    let f = IsmrmrdFile::open(&p).unwrap();
    let d = f.dataset("dataset").unwrap();
    let e = err_of(d.read_all_acquisitions());
    assert!(
        e.contains("short_data.h5")
            && e.contains("acquisition 2")
            && e.contains("field 'data'")
            && e.contains(
                "15 floats stored, expected 2 x number_of_samples 4 x active_channels 2 = 16"
            ),
        "{e}"
    );
    // The first two are still readable one by one.
    assert_eq!(d.read_acquisition(1).unwrap().data.len(), 8);
    // Streaming yields the good ones, then the error, then stops.
    let items: Vec<_> = d.acquisitions().unwrap().collect();
    assert_eq!(items.len(), 1, "the failing batch holds all three");
    assert!(items[0].is_err());
}

#[test]
fn unknown_header_version_is_rejected() {
    let _serial = serial();
    let dir = tmp();
    let h = AcquisitionHeader {
        version: 7,
        number_of_samples: 1,
        active_channels: 1,
        ..Default::default()
    };
    let p = raw_file(dir.path(), "v7.h5", |g| {
        let recs = [
            record(AcquisitionHeader { version: 1, ..h }, 2),
            record(h, 2),
        ];
        g.new_dataset_builder()
            .with_data(&recs)
            .create("data")
            .unwrap();
    });
    let f = IsmrmrdFile::open(&p).unwrap();
    let e = err_of(
        f.dataset("dataset")
            .and_then(|d| d.read_acquisition_headers()),
    );
    assert!(
        e.contains("acquisition 1")
            && e.contains("head.version")
            && e.contains("unknown header version 7"),
        "{e}"
    );
}

/// Open HDF5 descriptors are close-on-exec, so spawned tools do not inherit the file lock.
#[test]
fn hdf5_descriptors_are_close_on_exec() {
    let _serial = serial();
    let dir = tmp();
    let p = dir.path().join("held.h5");
    let mut w = IsmrmrdWriter::create(&p, "dataset", WriteOptions::default()).unwrap();
    w.write_xml("<ismrmrdHeader/>").unwrap();
    let flags_of = |needle: &str| -> Vec<u64> {
        std::fs::read_dir("/proc/self/fd")
            .unwrap()
            .filter_map(|e| {
                let e = e.unwrap();
                let target = std::fs::read_link(e.path()).ok()?;
                target.to_string_lossy().contains(needle).then(|| {
                    let info = std::fs::read_to_string(format!(
                        "/proc/self/fdinfo/{}",
                        e.file_name().to_string_lossy()
                    ))
                    .unwrap();
                    let line = info
                        .lines()
                        .find(|l| l.starts_with("flags:"))
                        .unwrap()
                        .to_string();
                    u64::from_str_radix(line.trim_start_matches("flags:").trim(), 8).unwrap()
                })
            })
            .collect()
    };
    const O_CLOEXEC: u64 = 0o2000000;
    let writing = flags_of("held.h5");
    assert!(!writing.is_empty(), "the writer's temporary file is open");
    assert!(writing.iter().all(|f| f & O_CLOEXEC != 0), "{writing:?}");
    w.finish().unwrap();
    let f = IsmrmrdFile::open(&p).unwrap();
    let reading = flags_of("held.h5");
    assert!(
        !reading.is_empty() && reading.iter().all(|f| f & O_CLOEXEC != 0),
        "{reading:?}"
    );
    drop(f);
}
