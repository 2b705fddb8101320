//! ISMRMRD HDF5 files: open a file, list its groups, and read a group's XML header,
//! acquisitions (streaming, batched, random access, headers only), waveforms, image series and
//! NDArrays; write new files atomically with [`IsmrmrdWriter`].
//!
//! Compound records are read by member name through libhdf5, so both the 376-byte records of
//! the C library and the 372-byte records of h5py are read the same way. Acquisitions are
//! fetched in batches through hyperslab selections: files written by other tools keep one
//! record per chunk, and reading them one call per record is what makes other bindings slow.
//!
//! # Threads
//! Keep HDF5 I/O on one thread at a time. Debian's libhdf5 1.10.8 is not built thread-safe;
//! hdf5-metno serializes every libhdf5 call, yet reading several files from parallel threads
//! crashed now and then inside libhdf5's variable-length conversion (`H5T__conv_vlen`; about one
//! test run in ten with parallel test threads, none in hundreds of single-threaded runs). The
//! direct payload reader's own worker threads do not call libhdf5 and are not affected.

mod cloexec;
mod raw;
mod records;
mod write;

use std::ops::Range;
use std::path::Path;
use std::sync::OnceLock;

use hdf5::types::{FloatSize, IntSize, TypeDescriptor, VarLenAscii, VarLenUnicode};
use hdf5::{Dataset, H5Type};
use ndarray::{Array, Axis, IxDyn, s};
use num_complex::Complex32;

use crate::acquisition::{Acquisition, AcquisitionHeader};
use crate::array::{ArrayData, DataType};
use crate::error::{Error, Result};
use crate::image::{Image, ImageData, ImageHeader};
use crate::waveform::Waveform;
use crate::xml::IsmrmrdHeader;
use records::{
    AcquisitionHeadRecord, AcquisitionRecord, AcquisitionRecordNoTraj, ComplexF32Record,
    ComplexF64Record, WaveformRecord, check_members,
};
pub use write::{IsmrmrdWriter, WriteOptions};

/// Default number of acquisitions fetched per HDF5 read when streaming.
pub const DEFAULT_BATCH: usize = 1024;
/// Highest acquisition/image/waveform header version this reader understands.
pub const MAX_HEADER_VERSION: u16 = 1;

/// Names in a group that are part of the format itself, not NDArrays or image series.
const RESERVED: [&str; 5] = ["xml", "data", "waveforms", "config", "config_file"];

/// An ISMRMRD HDF5 file opened for reading.
pub struct IsmrmrdFile {
    file: hdf5::File,
    path: String,
}

impl IsmrmrdFile {
    /// Opens `path` read-only.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read, [`Error::NotHdf5`] when it is not HDF5 or is
    /// truncated.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let p = path.as_ref();
        let display = p.display().to_string();
        let meta = std::fs::metadata(p).map_err(|source| Error::Io {
            path: display.clone(),
            source,
        })?;
        if meta.is_dir() {
            return Err(Error::Io {
                path: display,
                source: std::io::Error::other("is a directory, not a file"),
            });
        }
        let file = hdf5::File::open(p).map_err(|e| Error::NotHdf5 {
            path: display.clone(),
            detail: e.to_string(),
        })?;
        cloexec::set_cloexec(&file);
        Ok(IsmrmrdFile {
            file,
            path: display,
        })
    }

    /// The path the file was opened with.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Names of the top-level groups (what `ismrmrd.hdf5.fileinfo` lists), sorted.
    pub fn groups(&self) -> Result<Vec<String>> {
        let names = self.file.member_names().map_err(|e| self.h5(e, "/"))?;
        Ok(names
            .into_iter()
            .filter(|n| self.file.group(n).is_ok())
            .collect())
    }

    /// Opens group `name` (usually `dataset`).
    ///
    /// # Errors
    /// [`Error::GroupNotFound`] listing the groups that exist.
    pub fn dataset(&self, name: &str) -> Result<DatasetReader<'_>> {
        let name = name.trim_matches('/');
        match self.file.group(name) {
            Ok(group) => Ok(DatasetReader {
                file: self,
                group,
                name: name.to_string(),
                fast: true,
                raw: OnceLock::new(),
                acq: OnceLock::new(),
            }),
            Err(_) => Err(Error::GroupNotFound {
                path: self.path.clone(),
                group: name.to_string(),
                available: self.groups().map(|g| g.join(", ")).unwrap_or_default(),
            }),
        }
    }

    fn h5(&self, source: hdf5::Error, object: &str) -> Error {
        Error::Hdf5 {
            path: self.path.clone(),
            object: object.to_string(),
            source,
        }
    }
}

/// One ISMRMRD group of an open file.
pub struct DatasetReader<'f> {
    file: &'f IsmrmrdFile,
    group: hdf5::Group,
    name: String,
    fast: bool,
    raw: OnceLock<Option<raw::RawPayloads>>,
    acq: OnceLock<Option<(Dataset, AcqLayout)>>,
}

/// One record's header, samples and trajectory.
type Parts = (AcquisitionHeader, Vec<Complex32>, Vec<f32>);

/// Which acquisition record layout the file uses.
#[derive(Clone, Copy)]
enum AcqLayout {
    WithTraj,
    NoTraj,
}

impl<'f> DatasetReader<'f> {
    /// Turns the direct payload reader off (`false`) or on (`true`, the default). Off, every
    /// sample goes through libhdf5's variable-length conversion; results are identical.
    pub fn with_fast_path(mut self, enabled: bool) -> Self {
        self.fast = enabled;
        self
    }

    /// Whether acquisition payloads are read directly (the file's layout allows it and the
    /// cross-check against libhdf5 on record 0 passed).
    pub fn fast_path_active(&self) -> Result<bool> {
        Ok(match self.acquisition_dataset()? {
            Some((ds, layout)) => self.raw_payloads(&ds, &layout).is_some(),
            None => false,
        })
    }

    /// The group name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The file this group belongs to.
    pub fn file(&self) -> &'f IsmrmrdFile {
        self.file
    }

    fn object(&self, member: &str) -> String {
        format!("/{}/{}", self.name, member)
    }

    fn h5(&self, source: hdf5::Error, member: &str) -> Error {
        self.file.h5(source, &self.object(member))
    }

    fn layout_err(&self, member: &str, problem: impl Into<String>) -> Error {
        Error::Layout {
            path: self.file.path.clone(),
            dataset: self.object(member),
            problem: problem.into(),
        }
    }

    fn record_err(
        &self,
        member: &str,
        kind: &'static str,
        index: u64,
        field: &str,
        problem: impl Into<String>,
    ) -> Error {
        Error::Record {
            path: self.file.path.clone(),
            dataset: self.object(member),
            kind,
            index,
            field: field.to_string(),
            problem: problem.into(),
        }
    }

    fn missing(&self, member: &str, what: &str) -> Error {
        Error::MissingDataset {
            path: self.file.path.clone(),
            dataset: self.object(member),
            what: what.to_string(),
        }
    }

    fn optional_dataset(&self, member: &str) -> Result<Option<Dataset>> {
        if !self.group.link_exists(member) {
            return Ok(None);
        }
        self.group
            .dataset(member)
            .map(Some)
            .map_err(|e| self.h5(e, member))
    }

    fn descriptor(&self, ds: &Dataset, member: &str) -> Result<TypeDescriptor> {
        ds.dtype()
            .and_then(|t| t.to_descriptor())
            .map_err(|e| self.h5(e, member))
    }

    /// Whether the group holds an XML header.
    pub fn has_xml(&self) -> bool {
        self.group.link_exists("xml")
    }

    /// The XML header text (`<g>/xml`, element 0).
    pub fn xml_text(&self) -> Result<String> {
        let ds = self
            .optional_dataset("xml")?
            .ok_or_else(|| self.missing("xml", "the ISMRMRD XML header"))?;
        read_strings(&ds)
            .map_err(|e| self.h5(e, "xml"))?
            .ok_or_else(|| {
                self.layout_err(
                    "xml",
                    format!(
                        "stored as {}, expected a variable-length string",
                        self.descriptor(&ds, "xml")
                            .map(|d| d.to_string())
                            .unwrap_or_default()
                    ),
                )
            })?
            .into_iter()
            .next()
            .ok_or_else(|| self.layout_err("xml", "the dataset is empty"))
    }

    /// The parsed XML header.
    ///
    /// # Errors
    /// [`Error::Xml`] with line and column when the XML is malformed.
    pub fn header(&self) -> Result<IsmrmrdHeader> {
        let text = self.xml_text()?;
        crate::xml::parse_header(&text).map_err(|source| Error::Xml {
            path: self.file.path.clone(),
            dataset: self.object("xml"),
            source,
        })
    }

    /// `<g>/data` and its record layout, checked once and then cached (random access pays for
    /// the lookup and the type check only on the first call).
    fn acquisition_dataset(&self) -> Result<Option<(Dataset, AcqLayout)>> {
        if let Some(cached) = self.acq.get() {
            return Ok(cached.clone());
        }
        let found = self.find_acquisition_dataset()?;
        Ok(self.acq.get_or_init(|| found).clone())
    }

    fn find_acquisition_dataset(&self) -> Result<Option<(Dataset, AcqLayout)>> {
        let Some(ds) = self.optional_dataset("data")? else {
            return Ok(None);
        };
        let have = self.descriptor(&ds, "data")?;
        check_members(&have, &AcquisitionRecordNoTraj::type_descriptor(), "")
            .map_err(|p| self.layout_err("data", p))?;
        let has_traj = matches!(&have, TypeDescriptor::Compound(c) if c.fields.iter().any(|f| f.name == "traj"));
        let layout = if has_traj {
            check_members(&have, &AcquisitionRecord::type_descriptor(), "")
                .map_err(|p| self.layout_err("data", p))?;
            AcqLayout::WithTraj
        } else {
            AcqLayout::NoTraj
        };
        if ds.ndim() != 1 {
            return Err(
                self.layout_err("data", format!("has {} dimensions, expected 1", ds.ndim()))
            );
        }
        Ok(Some((ds, layout)))
    }

    /// Number of acquisitions (0 when the group has no `data`).
    pub fn number_of_acquisitions(&self) -> Result<u64> {
        Ok(self
            .acquisition_dataset()?
            .map_or(0, |(ds, _)| ds.size() as u64))
    }

    /// Reads only the acquisition headers (fast: the sample payloads are not fetched).
    pub fn read_acquisition_headers(&self) -> Result<Vec<AcquisitionHeader>> {
        let Some((ds, _)) = self.acquisition_dataset()? else {
            return Ok(Vec::new());
        };
        let n = ds.size();
        let mut out = Vec::with_capacity(n);
        let mut start = 0;
        while start < n {
            let end = (start + 65536).min(n);
            let recs = ds
                .read_slice_1d::<AcquisitionHeadRecord, _>(s![start..end])
                .map_err(|e| self.h5(e, "data"))?;
            for (i, r) in recs.iter().enumerate() {
                self.check_version(r.head.version, "data", "acquisition", (start + i) as u64)?;
                out.push(r.head);
            }
            start = end;
        }
        Ok(out)
    }

    fn check_version(
        &self,
        version: u16,
        member: &str,
        kind: &'static str,
        index: u64,
    ) -> Result<()> {
        if version > MAX_HEADER_VERSION {
            return Err(self.record_err(
                member,
                kind,
                index,
                "head.version",
                format!("unknown header version {version}; this reader understands versions 0 to {MAX_HEADER_VERSION}"),
            ));
        }
        Ok(())
    }

    /// Reads acquisitions `range` (a batch, one HDF5 hyperslab read).
    pub fn read_acquisitions(&self, range: Range<u64>) -> Result<Vec<Acquisition>> {
        let Some((ds, layout)) = self.acquisition_dataset()? else {
            return if range.is_empty() {
                Ok(Vec::new())
            } else {
                Err(self.missing("data", "the acquisitions"))
            };
        };
        let n = ds.size() as u64;
        if range.end > n || range.start > range.end {
            return Err(self.layout_err(
                "data",
                format!(
                    "acquisitions {}..{} requested but the file holds {n}",
                    range.start, range.end
                ),
            ));
        }
        self.read_batch(&ds, &layout, range)
    }

    /// Reads acquisition `index`.
    pub fn read_acquisition(&self, index: u64) -> Result<Acquisition> {
        let mut v = self.read_acquisitions(index..index + 1)?;
        Ok(v.remove(0))
    }

    /// Reads every acquisition into memory (bulk, batched hyperslab reads).
    pub fn read_all_acquisitions(&self) -> Result<Vec<Acquisition>> {
        let mut out = Vec::new();
        for batch in self.acquisition_batches(8 * DEFAULT_BATCH)? {
            out.extend(batch?);
        }
        Ok(out)
    }

    /// Streams the acquisitions in file order, `DEFAULT_BATCH` per HDF5 read, without loading the
    /// whole file.
    pub fn acquisitions(&self) -> Result<AcquisitionStream<'_, 'f>> {
        Ok(AcquisitionStream {
            batches: self.acquisition_batches(DEFAULT_BATCH)?,
            current: Vec::new().into_iter(),
            failed: false,
        })
    }

    /// Streams the acquisitions in batches of `batch_size` (one HDF5 read each).
    pub fn acquisition_batches(&self, batch_size: usize) -> Result<AcquisitionBatches<'_, 'f>> {
        let ds = self.acquisition_dataset()?;
        let total = ds.as_ref().map_or(0, |(d, _)| d.size() as u64);
        Ok(AcquisitionBatches {
            reader: self,
            ds,
            next: 0,
            total,
            batch_size: batch_size.max(1) as u64,
        })
    }

    /// The direct payload reader for `ds`, set up (and cross-checked on record 0) on first use.
    fn raw_payloads(&self, ds: &Dataset, layout: &AcqLayout) -> Option<&raw::RawPayloads> {
        if !self.fast {
            return None;
        }
        self.raw
            .get_or_init(|| {
                let file_type = ds.dtype().ok()?.to_descriptor().ok()?;
                let raw = raw::RawPayloads::new(&self.file.path, &self.file.file, ds, &file_type)?;
                if ds.size() > 0 {
                    let fast = raw.payloads(0, 1)?;
                    let slow = self.read_parts_hdf5(ds, layout, 0..1).ok()?;
                    (fast[0].0 == slow[0].1 && fast[0].1 == slow[0].2).then_some(())?;
                }
                Some(raw)
            })
            .as_ref()
    }

    /// Headers, trajectories and samples of `range` through libhdf5's vlen conversion.
    fn read_parts_hdf5(
        &self,
        ds: &Dataset,
        layout: &AcqLayout,
        range: Range<u64>,
    ) -> Result<Vec<Parts>> {
        let sel = s![range.start as usize..range.end as usize];
        let read = match layout {
            AcqLayout::WithTraj => ds.read_slice_1d::<AcquisitionRecord, _>(sel).map(|recs| {
                recs.into_iter()
                    .map(|r| (r.head, r.traj.as_slice().to_vec(), r.data))
                    .collect::<Vec<_>>()
            }),
            AcqLayout::NoTraj => ds
                .read_slice_1d::<AcquisitionRecordNoTraj, _>(sel)
                .map(|recs| {
                    recs.into_iter()
                        .map(|r| (r.head, Vec::new(), r.data))
                        .collect()
                }),
        };
        let records = match read {
            Ok(r) => r,
            Err(e) if range.end - range.start > 1 => {
                // Locate the first unreadable record so the error names it.
                for i in range.clone() {
                    self.read_parts_hdf5(ds, layout, i..i + 1)?;
                }
                return Err(self.h5(e, "data"));
            }
            Err(e) => {
                return Err(self.record_err(
                    "data",
                    "acquisition",
                    range.start,
                    "data",
                    format!("unreadable: {e}"),
                ));
            }
        };
        let mut out = Vec::with_capacity(records.len());
        for (k, (head, traj, data)) in records.into_iter().enumerate() {
            let d = data.as_slice();
            if d.len() % 2 != 0 {
                return Err(self.data_len_err(range.start + k as u64, &head, d.len()));
            }
            out.push((
                head,
                d.chunks_exact(2)
                    .map(|c| Complex32::new(c[0], c[1]))
                    .collect(),
                traj,
            ));
        }
        Ok(out)
    }

    fn data_len_err(&self, index: u64, head: &AcquisitionHeader, floats: usize) -> Error {
        self.record_err(
            "data",
            "acquisition",
            index,
            "data",
            format!(
                "{floats} floats stored, expected 2 x number_of_samples {} x active_channels {} = {}",
                head.number_of_samples,
                head.active_channels,
                2 * head.data_len()
            ),
        )
    }

    /// Headers, samples and trajectories of `range` read directly from the file, or `None`.
    fn read_parts_fast(
        &self,
        raw: &raw::RawPayloads,
        ds: &Dataset,
        range: &Range<u64>,
    ) -> Option<Vec<Parts>> {
        let (a, b) = (range.start as usize, range.end as usize);
        let heads = ds
            .read_slice_1d::<AcquisitionHeadRecord, _>(s![a..b])
            .ok()?;
        let payloads = raw.payloads(a, b)?;
        Some(
            heads
                .into_iter()
                .zip(payloads)
                .map(|(h, (data, traj))| (h.head, data, traj))
                .collect(),
        )
    }

    fn read_batch(
        &self,
        ds: &Dataset,
        layout: &AcqLayout,
        range: Range<u64>,
    ) -> Result<Vec<Acquisition>> {
        let parts = match self
            .raw_payloads(ds, layout)
            .and_then(|raw| self.read_parts_fast(raw, ds, &range))
        {
            Some(p) => p,
            None => self.read_parts_hdf5(ds, layout, range.clone())?,
        };
        let mut out = Vec::with_capacity(parts.len());
        for (k, (head, data, traj)) in parts.into_iter().enumerate() {
            let index = range.start + k as u64;
            self.check_version(head.version, "data", "acquisition", index)?;
            if data.len() != head.data_len() {
                return Err(self.data_len_err(index, &head, 2 * data.len()));
            }
            if traj.len() != head.traj_len() {
                return Err(self.record_err(
                    "data",
                    "acquisition",
                    index,
                    "traj",
                    format!(
                        "{} values stored, expected number_of_samples {} x trajectory_dimensions {} = {}",
                        traj.len(),
                        head.number_of_samples,
                        head.trajectory_dimensions,
                        head.traj_len()
                    ),
                ));
            }
            out.push(Acquisition {
                header: head,
                traj,
                data,
            });
        }
        Ok(out)
    }

    /// Number of waveforms (0 when the group has none).
    pub fn number_of_waveforms(&self) -> Result<u64> {
        Ok(self
            .optional_dataset("waveforms")?
            .map_or(0, |d| d.size() as u64))
    }

    /// Reads every waveform.
    pub fn read_waveforms(&self) -> Result<Vec<Waveform>> {
        let Some(ds) = self.optional_dataset("waveforms")? else {
            return Ok(Vec::new());
        };
        let have = self.descriptor(&ds, "waveforms")?;
        check_members(&have, &WaveformRecord::type_descriptor(), "")
            .map_err(|p| self.layout_err("waveforms", p))?;
        let recs = ds
            .read_1d::<WaveformRecord>()
            .map_err(|e| self.h5(e, "waveforms"))?;
        let mut out = Vec::with_capacity(recs.len());
        for (i, r) in recs.into_iter().enumerate() {
            self.check_version(r.head.version, "waveforms", "waveform", i as u64)?;
            let w = Waveform {
                header: r.head,
                data: r.data.as_slice().to_vec(),
            };
            w.check()
                .map_err(|(f, p)| self.record_err("waveforms", "waveform", i as u64, f, p))?;
            out.push(w);
        }
        Ok(out)
    }

    /// Names of the image series in the group (sub-groups holding `header` and `data`), sorted.
    pub fn image_series(&self) -> Result<Vec<String>> {
        let names = self.group.member_names().map_err(|e| self.h5(e, ""))?;
        Ok(names
            .into_iter()
            .filter(|n| {
                self.group
                    .group(n)
                    .is_ok_and(|g| g.link_exists("header") && g.link_exists("data"))
            })
            .collect())
    }

    /// Number of images in `series`.
    pub fn number_of_images(&self, series: &str) -> Result<u64> {
        let member = format!("{series}/header");
        let ds = self
            .optional_dataset(&member)?
            .ok_or_else(|| self.missing(&member, "the image headers of this series"))?;
        Ok(ds.size() as u64)
    }

    /// Reads every image of `series`.
    pub fn read_images(&self, series: &str) -> Result<Vec<Image>> {
        let hm = format!("{series}/header");
        let dm = format!("{series}/data");
        let am = format!("{series}/attributes");
        let hds = self
            .optional_dataset(&hm)?
            .ok_or_else(|| self.missing(&hm, "the image headers of this series"))?;
        let have = self.descriptor(&hds, &hm)?;
        check_members(&have, &ImageHeader::type_descriptor(), "")
            .map_err(|p| self.layout_err(&hm, p))?;
        let headers = hds.read_raw::<ImageHeader>().map_err(|e| self.h5(e, &hm))?;
        let attributes = match self.optional_dataset(&am)? {
            Some(ads) => read_strings(&ads)
                .map_err(|e| self.h5(e, &am))?
                .ok_or_else(|| self.layout_err(&am, "expected variable-length strings"))?,
            None => vec![String::new(); headers.len()],
        };
        let dds = self
            .optional_dataset(&dm)?
            .ok_or_else(|| self.missing(&dm, "the pixels of this series"))?;
        let shape = dds.shape();
        if shape.len() != 5 {
            return Err(self.layout_err(
                &dm,
                format!("has shape {shape:?}, expected [images, channels, z, y, x]"),
            ));
        }
        if shape[0] < headers.len() || attributes.len() < headers.len() {
            return Err(self.layout_err(
                &dm,
                format!(
                    "{} headers but {} pixel blocks and {} attribute strings",
                    headers.len(),
                    shape[0],
                    attributes.len()
                ),
            ));
        }
        let desc = self.descriptor(&dds, &dm)?;
        let data_type = data_type_of(&desc).ok_or_else(|| {
            self.layout_err(
                &dm,
                format!("pixel type {desc} is not an ISMRMRD element type"),
            )
        })?;
        let all = read_array(&dds, data_type).map_err(|e| self.h5(e, &dm))?;
        let mut out = Vec::with_capacity(headers.len());
        for (i, (header, attr)) in headers.into_iter().zip(attributes).enumerate() {
            self.check_version(header.version, &hm, "image", i as u64)?;
            let data = with_array_index(&all, i);
            let img = Image {
                header,
                attributes: attr,
                data,
            };
            if header.data_type != data_type.code() {
                return Err(self.record_err(
                    &hm,
                    "image",
                    i as u64,
                    "data_type",
                    format!(
                        "header says {} but the pixels are stored as {}",
                        header.data_type,
                        data_type.name()
                    ),
                ));
            }
            out.push(img);
        }
        Ok(out)
    }

    /// Names of the NDArray datasets in the group (e.g. the Shepp-Logan generator's `phantom`).
    pub fn ndarray_names(&self) -> Result<Vec<String>> {
        let names = self.group.member_names().map_err(|e| self.h5(e, ""))?;
        Ok(names
            .into_iter()
            .filter(|n| !RESERVED.contains(&n.as_str()))
            .filter(|n| {
                self.group
                    .dataset(n)
                    .ok()
                    .and_then(|d| d.dtype().ok()?.to_descriptor().ok())
                    .is_some_and(|t| data_type_of(&t).is_some())
            })
            .collect())
    }

    /// Shape of NDArray `name` as stored (`[count, …]`).
    pub fn ndarray_shape(&self, name: &str) -> Result<Vec<usize>> {
        let ds = self
            .optional_dataset(name)?
            .ok_or_else(|| self.missing(name, "the requested array"))?;
        Ok(ds.shape())
    }

    /// Reads NDArray `name`: all its arrays, shape `[count, …]` as stored.
    pub fn read_ndarray(&self, name: &str) -> Result<ArrayData<IxDyn>> {
        let ds = self
            .optional_dataset(name)?
            .ok_or_else(|| self.missing(name, "the requested array"))?;
        let desc = self.descriptor(&ds, name)?;
        let t = data_type_of(&desc).ok_or_else(|| {
            self.layout_err(
                name,
                format!("element type {desc} is not an ISMRMRD element type"),
            )
        })?;
        read_array(&ds, t).map_err(|e| self.h5(e, name))
    }
}

/// Batches of acquisitions in file order; each item is one HDF5 hyperslab read.
pub struct AcquisitionBatches<'r, 'f> {
    reader: &'r DatasetReader<'f>,
    ds: Option<(Dataset, AcqLayout)>,
    next: u64,
    total: u64,
    batch_size: u64,
}

impl AcquisitionBatches<'_, '_> {
    /// Total number of acquisitions in the dataset.
    pub fn total(&self) -> u64 {
        self.total
    }
}

impl Iterator for AcquisitionBatches<'_, '_> {
    type Item = Result<Vec<Acquisition>>;

    fn next(&mut self) -> Option<Self::Item> {
        let (ds, layout) = self.ds.as_ref()?;
        if self.next >= self.total {
            return None;
        }
        let end = (self.next + self.batch_size).min(self.total);
        let r = self.reader.read_batch(ds, layout, self.next..end);
        self.next = if r.is_ok() { end } else { self.total };
        Some(r)
    }
}

/// Acquisitions one by one in file order, fetched in batches; stops after the first error.
pub struct AcquisitionStream<'r, 'f> {
    batches: AcquisitionBatches<'r, 'f>,
    current: std::vec::IntoIter<Acquisition>,
    failed: bool,
}

impl Iterator for AcquisitionStream<'_, '_> {
    type Item = Result<Acquisition>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(a) = self.current.next() {
                return Some(Ok(a));
            }
            if self.failed {
                return None;
            }
            match self.batches.next()? {
                Ok(b) => self.current = b.into_iter(),
                Err(e) => {
                    self.failed = true;
                    return Some(Err(e));
                }
            }
        }
    }
}

/// Reads a 1-D dataset of variable-length strings (ASCII or UTF-8); `None` for other types.
fn read_strings(ds: &Dataset) -> hdf5::Result<Option<Vec<String>>> {
    Ok(match ds.dtype()?.to_descriptor()? {
        TypeDescriptor::VarLenAscii => Some(
            ds.read_raw::<VarLenAscii>()?
                .into_iter()
                .map(|s| s.as_str().to_string())
                .collect(),
        ),
        TypeDescriptor::VarLenUnicode => Some(
            ds.read_raw::<VarLenUnicode>()?
                .into_iter()
                .map(|s| s.as_str().to_string())
                .collect(),
        ),
        _ => None,
    })
}

/// The ISMRMRD element type of an HDF5 type, if it is one of the eight.
fn data_type_of(t: &TypeDescriptor) -> Option<DataType> {
    use TypeDescriptor as T;
    Some(match t {
        T::Unsigned(IntSize::U2) => DataType::U16,
        T::Integer(IntSize::U2) => DataType::I16,
        T::Unsigned(IntSize::U4) => DataType::U32,
        T::Integer(IntSize::U4) => DataType::I32,
        T::Float(FloatSize::U4) => DataType::F32,
        T::Float(FloatSize::U8) => DataType::F64,
        T::Compound(c) if c.fields.len() == 2 => {
            let real = c.fields.iter().find(|f| f.name == "real")?;
            c.fields.iter().find(|f| f.name == "imag")?;
            match real.ty {
                T::Float(FloatSize::U4) => DataType::C32,
                T::Float(FloatSize::U8) => DataType::C64,
                _ => return None,
            }
        }
        _ => return None,
    })
}

/// Reads a whole dataset as `t`.
fn read_array(ds: &Dataset, t: DataType) -> hdf5::Result<ArrayData<IxDyn>> {
    Ok(match t {
        DataType::U16 => ArrayData::U16(ds.read_dyn()?),
        DataType::I16 => ArrayData::I16(ds.read_dyn()?),
        DataType::U32 => ArrayData::U32(ds.read_dyn()?),
        DataType::I32 => ArrayData::I32(ds.read_dyn()?),
        DataType::F32 => ArrayData::F32(ds.read_dyn()?),
        DataType::F64 => ArrayData::F64(ds.read_dyn()?),
        DataType::C32 => ArrayData::C32(ds.read_dyn::<ComplexF32Record>()?.mapv(Into::into)),
        DataType::C64 => ArrayData::C64(ds.read_dyn::<ComplexF64Record>()?.mapv(Into::into)),
    })
}

/// Sub-array `i` along axis 0 of a 5-D `[N, c, z, y, x]` array, as one image's pixels.
fn with_array_index(all: &ArrayData<IxDyn>, i: usize) -> ImageData {
    fn take<T: Clone>(a: &Array<T, IxDyn>, i: usize) -> Array<T, ndarray::Ix4> {
        a.index_axis(Axis(0), i)
            .to_owned()
            .into_dimensionality()
            .expect("image data is 5-D")
    }
    match all {
        ArrayData::U16(a) => ArrayData::U16(take(a, i)),
        ArrayData::I16(a) => ArrayData::I16(take(a, i)),
        ArrayData::U32(a) => ArrayData::U32(take(a, i)),
        ArrayData::I32(a) => ArrayData::I32(take(a, i)),
        ArrayData::F32(a) => ArrayData::F32(take(a, i)),
        ArrayData::F64(a) => ArrayData::F64(take(a, i)),
        ArrayData::C32(a) => ArrayData::C32(take(a, i)),
        ArrayData::C64(a) => ArrayData::C64(take(a, i)),
    }
}
