//! A summary of one ISMRMRD group — what `accord info` prints: acquisition counts by kind,
//! channels, samples, flags, counter ranges, encodings, image series and waveforms.
//! Computed from the acquisition headers only, so it is fast on large HDF5 files; streams
//! (which have no index) are read through once.

use std::fmt;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::acquisition::{AcquisitionHeader, EncodingCounters};
use crate::error::{Error, Result};
use crate::flags::AcquisitionFlag;
use crate::h5::IsmrmrdFile;
use crate::stream::{StreamItem, StreamReader};
use crate::xml::IsmrmrdHeader;

/// Message ids that can start an ISMRMRD stream (config file/text, header, close, text,
/// acquisition, image, waveform, NDArray).
const STREAM_MESSAGE_IDS: [u16; 9] = [1, 2, 3, 4, 5, 1008, 1022, 1026, 1030];

/// The `group` reported for streams.
const STREAM_GROUP: &str = "stream";

/// Group read when none is named, if present.
pub const DEFAULT_GROUP: &str = "dataset";

/// One `<encoding>` of the XML header, as `accord info` reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EncodingSummary {
    /// Trajectory name (`cartesian`, `radial`, …).
    pub trajectory: String,
    /// Encoded matrix `[x, y, z]`.
    pub encoded_matrix: [u16; 3],
    /// Reconstruction matrix `[x, y, z]`.
    pub recon_matrix: [u16; 3],
    /// Encoded field of view `[x, y, z]`, mm.
    pub encoded_fov_mm: [f32; 3],
    /// Reconstruction field of view `[x, y, z]`, mm.
    pub recon_fov_mm: [f32; 3],
    /// Acceleration `[step1, step2]`, absent without `<parallelImaging>`.
    pub acceleration: Option<[u16; 2]>,
}

/// Summary of one group of an ISMRMRD file (the `accord info --json` object).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileSummary {
    /// The file as given.
    pub file: String,
    /// Container: `hdf5` or `stream`.
    pub format: &'static str,
    /// The group summarised.
    pub group: String,
    /// All top-level groups of the file.
    pub groups: Vec<String>,
    /// Number of acquisitions.
    pub acquisitions: u64,
    /// Acquisitions flagged ACQ_IS_NOISE_MEASUREMENT.
    pub noise_acquisitions: u64,
    /// Acquisitions flagged ACQ_IS_PARALLEL_CALIBRATION or _AND_IMAGING.
    pub calibration_acquisitions: u64,
    /// Acquisitions that are neither noise nor calibration-only.
    pub imaging_acquisitions: u64,
    /// Largest `active_channels`.
    pub channels: u16,
    /// `[min, max]` of `number_of_samples`, absent without acquisitions.
    pub samples: Option<[u16; 2]>,
    /// Largest `trajectory_dimensions`.
    pub trajectory_dimensions: u16,
    /// Flag name → number of acquisitions with it set (only flags that occur, in bit order).
    pub flags: Map<String, Value>,
    /// Counter name → `[min, max]` over imaging acquisitions.
    pub counters: Map<String, Value>,
    /// One entry per `<encoding>`.
    pub encodings: Vec<EncodingSummary>,
    /// Image series name → number of images.
    pub images: Map<String, Value>,
    /// Number of waveforms.
    pub waveforms: u64,
    /// NDArray name → shape as stored (`[count, …]`).
    pub ndarrays: Map<String, Value>,
    /// Whether the XML header is present and valid against the ISMRMRD schema.
    pub xml_valid: bool,
    /// Schema problems of the XML header (empty when valid).
    pub xml_problems: Vec<String>,
}

impl FileSummary {
    /// Summarises the file at `path`, HDF5 or ISMRMRD stream (told apart by the HDF5 signature);
    /// `group` applies to HDF5 files only.
    pub fn from_path(path: &std::path::Path, group: Option<&str>) -> Result<Self> {
        use std::io::Read;
        let shown = path.display().to_string();
        let io = |source| Error::Io {
            path: shown.clone(),
            source,
        };
        let mut file = std::fs::File::open(path).map_err(io)?;
        let mut magic = [0u8; 8];
        let n = file.read(&mut magic).map_err(io)?;
        if crate::stream::is_hdf5(&magic[..n]) {
            return FileSummary::from_file(&IsmrmrdFile::open(path)?, group);
        }
        let first_id = (n >= 2).then(|| u16::from_le_bytes([magic[0], magic[1]]));
        if !first_id.is_some_and(|id| STREAM_MESSAGE_IDS.contains(&id)) {
            return Err(Error::NotHdf5 {
                path: shown,
                detail: "no HDF5 signature, and the file does not start with an ISMRMRD stream message either".into(),
            });
        }
        if let Some(g) = group {
            return Err(Error::Invalid {
                what: shown,
                problem: format!(
                    "is an ISMRMRD stream, which has no groups (--group {g} applies to HDF5 files)"
                ),
            });
        }
        drop(file);
        let file = std::fs::File::open(path).map_err(io)?;
        let reader = StreamReader::new(std::io::BufReader::with_capacity(1 << 20, file), &shown);
        FileSummary::from_stream(reader, &shown)
    }

    /// Summarises group `group` of `file` (default: `dataset` if present, else the first group).
    pub fn from_file(file: &IsmrmrdFile, group: Option<&str>) -> Result<Self> {
        let groups = file.groups()?;
        let name = match group {
            Some(g) => g.trim_matches('/').to_string(),
            None if groups.iter().any(|g| g == DEFAULT_GROUP) || groups.is_empty() => {
                DEFAULT_GROUP.to_string()
            }
            None => groups[0].clone(),
        };
        let reader = file.dataset(&name)?;
        let header = if reader.has_xml() {
            Some(reader.header()?)
        } else {
            None
        };
        let mut s = FileSummary::empty(
            file.path(),
            &name,
            groups,
            header.as_ref(),
            "xml dataset missing",
        );
        for series in reader.image_series()? {
            let n = reader.number_of_images(&series)?;
            s.images.insert(series, n.into());
        }
        for n in reader.ndarray_names()? {
            let shape = reader.ndarray_shape(&n)?;
            s.ndarrays.insert(n, shape.into());
        }
        s.waveforms = reader.number_of_waveforms()?;
        s.add_acquisitions(&reader.read_acquisition_headers()?);
        Ok(s)
    }

    /// Summarises an ISMRMRD stream (`path` names it in errors and in `file`). Images are
    /// grouped into series by `image_series_index` (`series_<n>`), NDArrays are listed in
    /// order (`ndarray_<k>`); `group` is `stream` and `groups` is empty.
    pub fn from_stream<R: std::io::Read>(stream: StreamReader<R>, path: &str) -> Result<Self> {
        let mut s = FileSummary::empty(path, STREAM_GROUP, Vec::new(), None, "no HEADER message");
        let mut headers = Vec::new();
        let mut n_arrays = 0;
        for item in stream {
            match item? {
                StreamItem::Header(xml) => {
                    let h = crate::xml::parse_header(&xml).map_err(|source| Error::Xml {
                        path: path.to_string(),
                        dataset: "HEADER message".to_string(),
                        source,
                    })?;
                    s.set_header(Some(&h), "");
                }
                StreamItem::Acquisition(a) => headers.push(a.header),
                StreamItem::Image(img) => {
                    let key = format!("series_{}", img.header.image_series_index);
                    let n = s.images.get(&key).and_then(Value::as_u64).unwrap_or(0);
                    s.images.insert(key, (n + 1).into());
                }
                StreamItem::Waveform(_) => s.waveforms += 1,
                StreamItem::NdArray(a) => {
                    s.ndarrays
                        .insert(format!("ndarray_{n_arrays}"), a.shape().to_vec().into());
                    n_arrays += 1;
                }
                _ => {}
            }
        }
        s.add_acquisitions(&headers);
        Ok(s)
    }

    /// A summary with no acquisitions, images or waveforms yet.
    fn empty(
        file: &str,
        group: &str,
        groups: Vec<String>,
        header: Option<&IsmrmrdHeader>,
        no_xml: &str,
    ) -> Self {
        let mut s = FileSummary {
            file: file.to_string(),
            format: if group == STREAM_GROUP {
                "stream"
            } else {
                "hdf5"
            },
            group: group.to_string(),
            groups,
            acquisitions: 0,
            noise_acquisitions: 0,
            calibration_acquisitions: 0,
            imaging_acquisitions: 0,
            channels: 0,
            samples: None,
            trajectory_dimensions: 0,
            flags: Map::new(),
            counters: Map::new(),
            encodings: Vec::new(),
            images: Map::new(),
            waveforms: 0,
            ndarrays: Map::new(),
            xml_valid: false,
            xml_problems: Vec::new(),
        };
        s.set_header(header, no_xml);
        s
    }

    /// Fills encodings and schema validity from the XML header (`None`: absent, because `no_xml`).
    fn set_header(&mut self, header: Option<&IsmrmrdHeader>, no_xml: &str) {
        match header {
            Some(h) => {
                self.xml_problems = h.validate().iter().map(|e| e.to_string()).collect();
                self.xml_valid = self.xml_problems.is_empty();
                self.encodings = encoding_summaries(h);
            }
            None => {
                self.xml_problems = vec![format!("no XML header ({no_xml})")];
                self.xml_valid = false;
                self.encodings = Vec::new();
            }
        }
    }

    /// Fills the acquisition statistics from headers.
    fn add_acquisitions(&mut self, headers: &[AcquisitionHeader]) {
        let mut flag_counts = [0u64; 64];
        let mut ranges: Option<[[u16; 2]; 17]> = None;
        for h in headers {
            self.acquisitions += 1;
            self.noise_acquisitions += h.is_noise() as u64;
            self.calibration_acquisitions += h.is_calibration() as u64;
            self.channels = self.channels.max(h.active_channels);
            self.trajectory_dimensions = self.trajectory_dimensions.max(h.trajectory_dimensions);
            self.samples = Some(match self.samples {
                None => [h.number_of_samples; 2],
                Some([lo, hi]) => [lo.min(h.number_of_samples), hi.max(h.number_of_samples)],
            });
            for (bit, c) in flag_counts.iter_mut().enumerate() {
                *c += (h.flags.0 >> bit) & 1;
            }
            if h.is_imaging() {
                self.imaging_acquisitions += 1;
                let v = h.idx.values();
                let r = ranges.get_or_insert([[u16::MAX, 0]; 17]);
                for (k, &x) in v.iter().enumerate() {
                    r[k] = [r[k][0].min(x), r[k][1].max(x)];
                }
            }
        }
        for (bit, &c) in flag_counts.iter().enumerate() {
            if c > 0 {
                let name = AcquisitionFlag::from_bit_number(bit as u8 + 1)
                    .map_or_else(|| format!("ACQ_BIT_{}", bit + 1), |f| f.name().to_string());
                self.flags.insert(name, c.into());
            }
        }
        if let Some(r) = ranges {
            for (k, name) in EncodingCounters::FIELD_NAMES.iter().enumerate() {
                self.counters
                    .insert(name.to_string(), Value::from(r[k].to_vec()));
            }
        }
    }
}

/// The per-encoding summary of a header.
pub fn encoding_summaries(header: &IsmrmrdHeader) -> Vec<EncodingSummary> {
    header
        .encoding
        .iter()
        .map(|e| {
            let m =
                |s: &crate::xml::EncodingSpace| [s.matrix_size.x, s.matrix_size.y, s.matrix_size.z];
            let f = |s: &crate::xml::EncodingSpace| {
                [
                    s.field_of_view_mm.x,
                    s.field_of_view_mm.y,
                    s.field_of_view_mm.z,
                ]
            };
            EncodingSummary {
                trajectory: e.trajectory.to_string(),
                encoded_matrix: m(&e.encoded_space),
                recon_matrix: m(&e.recon_space),
                encoded_fov_mm: f(&e.encoded_space),
                recon_fov_mm: f(&e.recon_space),
                acceleration: e.parallel_imaging.as_ref().map(|p| {
                    [
                        p.acceleration_factor.kspace_encoding_step_1,
                        p.acceleration_factor.kspace_encoding_step_2,
                    ]
                }),
            }
        })
        .collect()
}

impl fmt::Display for FileSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.format == "stream" {
            writeln!(f, "{}  (ISMRMRD stream)", self.file)?;
        } else {
            writeln!(
                f,
                "{}  (group /{}; groups: {})",
                self.file,
                self.group,
                self.groups.join(", ")
            )?;
        }
        writeln!(
            f,
            "  acquisitions   {} ({} noise, {} calibration, {} imaging)",
            self.acquisitions,
            self.noise_acquisitions,
            self.calibration_acquisitions,
            self.imaging_acquisitions
        )?;
        if let Some([lo, hi]) = self.samples {
            let samples = if lo == hi {
                lo.to_string()
            } else {
                format!("{lo}–{hi}")
            };
            writeln!(
                f,
                "  channels       {}   samples {}   trajectory dims {}",
                self.channels, samples, self.trajectory_dimensions
            )?;
        }
        for (i, e) in self.encodings.iter().enumerate() {
            let [x, y, z] = e.encoded_matrix;
            let [rx, ry, rz] = e.recon_matrix;
            let [fx, fy, fz] = e.recon_fov_mm;
            write!(
                f,
                "  encoding {i}     {}  encoded {x}×{y}×{z}  recon {rx}×{ry}×{rz}  FOV {fx}×{fy}×{fz} mm",
                e.trajectory
            )?;
            match e.acceleration {
                Some([a, b]) => writeln!(f, "  R {a}×{b}")?,
                None => writeln!(f)?,
            }
        }
        if !self.flags.is_empty() {
            writeln!(f, "  flags")?;
            for (k, v) in &self.flags {
                writeln!(f, "    {k:<42} {v}")?;
            }
        }
        if !self.counters.is_empty() {
            let varying: Vec<String> = self
                .counters
                .iter()
                .filter_map(|(k, v)| {
                    let a = v.as_array()?;
                    (a.first() != a.last() || a.first().and_then(Value::as_u64) != Some(0))
                        .then(|| format!("{k} {}–{}", a[0], a[1]))
                })
                .collect();
            if !varying.is_empty() {
                writeln!(f, "  counters       {}", varying.join(", "))?;
            }
        }
        for (k, v) in &self.images {
            writeln!(f, "  image series   {k}: {v} images")?;
        }
        if self.waveforms > 0 {
            writeln!(f, "  waveforms      {}", self.waveforms)?;
        }
        for (k, v) in &self.ndarrays {
            writeln!(f, "  array          {k} {v}")?;
        }
        if self.xml_valid {
            writeln!(f, "  XML header     valid")
        } else {
            writeln!(f, "  XML header     NOT valid against ismrmrd.xsd:")?;
            for p in &self.xml_problems {
                writeln!(f, "    {p}")?;
            }
            Ok(())
        }
    }
}
