//! Writing ISMRMRD HDF5 files: a new file is built under a temporary name beside the target and
//! renamed into place by [`IsmrmrdWriter::finish`], so a failed or abandoned write never leaves a
//! half-written file under the target name, and an existing file is replaced only when asked.

use std::path::{Path, PathBuf};

use hdf5::types::{TypeDescriptor, VarLenArray, VarLenAscii, VarLenUnicode};
use hdf5::{Dataset, H5Type};
use ndarray::{Dimension, IxDyn, SliceInfoElem};

use super::records::{
    AcquisitionRecord, ComplexF32Record, ComplexF64Record, WaveformRecord, acquisition_file_type,
    image_header_file_type,
};
use crate::acquisition::Acquisition;
use crate::array::ArrayData;
use crate::error::{Error, Result};
use crate::image::Image;
use crate::waveform::Waveform;
use crate::xml::IsmrmrdHeader;

/// How to write a file.
#[derive(Debug, Clone, Copy)]
pub struct WriteOptions {
    /// Replace an existing file at the target path (the CLI's `--force`).
    pub overwrite: bool,
    /// Acquisition records per HDF5 chunk (the C library uses 1; larger chunks read faster).
    pub chunk_records: usize,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            overwrite: false,
            chunk_records: 64,
        }
    }
}

/// Writes one ISMRMRD group into a new HDF5 file, atomically.
pub struct IsmrmrdWriter {
    target: PathBuf,
    tmp: PathBuf,
    options: WriteOptions,
    state: Option<Open>,
}

struct Open {
    file: hdf5::File,
    group: hdf5::Group,
    group_name: String,
    acquisitions: Option<Dataset>,
    waveforms: Option<Dataset>,
}

impl IsmrmrdWriter {
    /// Starts a new file at `path` holding group `group` (usually `dataset`).
    ///
    /// # Errors
    /// [`Error::OutputExists`] when `path` exists and `options.overwrite` is false.
    pub fn create(path: impl AsRef<Path>, group: &str, options: WriteOptions) -> Result<Self> {
        let target = path.as_ref().to_path_buf();
        let shown = target.display().to_string();
        if target.exists() && !options.overwrite {
            return Err(Error::OutputExists { path: shown });
        }
        let name = target
            .file_name()
            .ok_or_else(|| Error::Invalid {
                what: shown.clone(),
                problem: "not a file path".into(),
            })?
            .to_string_lossy()
            .into_owned();
        let tmp = target.with_file_name(format!(".{name}.{}.accord-tmp", std::process::id()));
        let file = hdf5::File::create(&tmp).map_err(|e| Error::Hdf5 {
            path: tmp.display().to_string(),
            object: "/".into(),
            source: e,
        })?;
        super::cloexec::set_cloexec(&file);
        let group_name = group.trim_matches('/').to_string();
        let mut writer = IsmrmrdWriter {
            target,
            tmp,
            options,
            state: None,
        };
        let g = file
            .create_group(&group_name)
            .map_err(|e| writer.h5(e, &group_name))?;
        writer.state = Some(Open {
            file,
            group: g,
            group_name,
            acquisitions: None,
            waveforms: None,
        });
        Ok(writer)
    }

    fn h5(&self, source: hdf5::Error, object: &str) -> Error {
        Error::Hdf5 {
            path: self.target.display().to_string(),
            object: format!("/{object}"),
            source,
        }
    }

    fn open(&self) -> &Open {
        self.state.as_ref().expect("writer is open until finish()")
    }

    fn object(&self, member: &str) -> String {
        format!("{}/{member}", self.open().group_name)
    }

    /// Writes the XML header (`<g>/xml`).
    pub fn write_header(&mut self, header: &IsmrmrdHeader) -> Result<()> {
        self.write_xml(&header.to_xml())
    }

    /// Writes XML text as the header (`<g>/xml`), as the C library does: a 1-element
    /// variable-length string (ASCII when the text is ASCII, else UTF-8).
    pub fn write_xml(&mut self, xml: &str) -> Result<()> {
        let obj = self.object("xml");
        check_no_nul(xml, || format!("{}: XML header", self.target.display()))?;
        let g = &self.open().group;
        let r = if xml.is_ascii() {
            let v = VarLenAscii::from_ascii(xml).expect("checked: ASCII without NUL");
            g.new_dataset::<VarLenAscii>()
                .shape(1)
                .create("xml")
                .and_then(|d| d.write_raw(&[v]))
        } else {
            let v: VarLenUnicode = xml.parse().expect("checked: no NUL");
            g.new_dataset::<VarLenUnicode>()
                .shape(1)
                .create("xml")
                .and_then(|d| d.write_raw(&[v]))
        };
        r.map_err(|e| self.h5(e, &obj))
    }

    /// Appends acquisitions to `<g>/data` (created on first use with the C library's record
    /// layout). Each is checked against its header first.
    pub fn append_acquisitions(&mut self, acquisitions: &[Acquisition]) -> Result<()> {
        let obj = self.object("data");
        for (i, a) in acquisitions.iter().enumerate() {
            a.check().map_err(|(field, problem)| Error::Invalid {
                what: format!(
                    "{}: acquisition {i} of the batch, field '{field}'",
                    self.target.display()
                ),
                problem,
            })?;
        }
        if self.open().acquisitions.is_none() {
            let chunk = self.options.chunk_records.max(1);
            let ds = self
                .open()
                .group
                .new_dataset_builder()
                .empty_as(
                    hdf5::Datatype::from_descriptor(&acquisition_file_type())
                        .map_err(|e| self.h5(e, &obj))?,
                )
                .chunk(chunk)
                .shape(0..)
                .create("data")
                .map_err(|e| self.h5(e, &obj))?;
            self.state.as_mut().expect("open").acquisitions = Some(ds);
        }
        let records: Vec<AcquisitionRecord> = acquisitions
            .iter()
            .map(|a| AcquisitionRecord {
                head: a.header,
                traj: VarLenArray::from_slice(&a.traj),
                data: VarLenArray::from_slice(complex_as_floats(&a.data).as_slice()),
            })
            .collect();
        let ds = self.open().acquisitions.as_ref().expect("created above");
        append_records(ds, &records).map_err(|e| self.h5(e, &obj))
    }

    /// Appends waveforms to `<g>/waveforms`.
    pub fn append_waveforms(&mut self, waveforms: &[Waveform]) -> Result<()> {
        let obj = self.object("waveforms");
        for (i, w) in waveforms.iter().enumerate() {
            w.check().map_err(|(field, problem)| Error::Invalid {
                what: format!(
                    "{}: waveform {i} of the batch, field '{field}'",
                    self.target.display()
                ),
                problem,
            })?;
        }
        if self.open().waveforms.is_none() {
            let ds = self
                .open()
                .group
                .new_dataset::<WaveformRecord>()
                .chunk(64)
                .shape(0..)
                .create("waveforms")
                .map_err(|e| self.h5(e, &obj))?;
            self.state.as_mut().expect("open").waveforms = Some(ds);
        }
        let records: Vec<WaveformRecord> = waveforms
            .iter()
            .map(|w| WaveformRecord {
                head: w.header,
                data: VarLenArray::from_slice(&w.data),
            })
            .collect();
        let ds = self.open().waveforms.as_ref().expect("created above");
        append_records(ds, &records).map_err(|e| self.h5(e, &obj))
    }

    /// Appends images to series `series` (`<g>/<series>/{header,attributes,data}`). All images of
    /// a series share one element type and shape, as the format requires.
    pub fn append_images(&mut self, series: &str, images: &[Image]) -> Result<()> {
        let Some(first) = images.first() else {
            return Ok(());
        };
        let what = |i: usize| format!("{}: image {i} of series '{series}'", self.target.display());
        for (i, img) in images.iter().enumerate() {
            check_no_nul(&img.attributes, || {
                format!("{}, field 'attributes'", what(i))
            })?;
        }
        for (i, img) in images.iter().enumerate() {
            img.check().map_err(|(field, problem)| Error::Invalid {
                what: format!("{}, field '{field}'", what(i)),
                problem,
            })?;
            if img.data.shape() != first.data.shape()
                || img.data.data_type() != first.data.data_type()
            {
                return Err(Error::Invalid {
                    what: what(i),
                    problem: format!(
                        "shape {:?} {} differs from the series' {:?} {}",
                        img.data.shape(),
                        img.data.data_type().name(),
                        first.data.shape(),
                        first.data.data_type().name()
                    ),
                });
            }
        }
        let obj = self.object(series);
        let g = &self.open().group;
        let sg = match g.group(series) {
            Ok(sg) => sg,
            Err(_) => g.create_group(series).map_err(|e| self.h5(e, &obj))?,
        };
        let h5 = |e| self.h5(e, &obj);
        // Pixels: [N, channels, z, y, x]; checked against the series before anything is written.
        let stacked = stack(images.iter().map(|i| i.data.clone().into_dyn()).collect());
        let dds = match sg.dataset("data") {
            Ok(d) => {
                if let Some(problem) = mismatch(&d, &stacked) {
                    return Err(Error::Invalid {
                        what: what(0),
                        problem,
                    });
                }
                d
            }
            Err(_) => create_array_dataset(&sg, "data", &stacked).map_err(h5)?,
        };
        // Headers.
        let hds = match sg.dataset("header") {
            Ok(d) => d,
            Err(_) => sg
                .new_dataset_builder()
                .empty_as(hdf5::Datatype::from_descriptor(&image_header_file_type()).map_err(h5)?)
                .chunk(16)
                .shape(0..)
                .create("header")
                .map_err(h5)?,
        };
        let headers: Vec<_> = images.iter().map(|i| i.header).collect();
        append_records(&hds, &headers).map_err(h5)?;
        // Attributes.
        let ads = match sg.dataset("attributes") {
            Ok(d) => d,
            Err(_) => sg
                .new_dataset::<VarLenUnicode>()
                .chunk(16)
                .shape(0..)
                .create("attributes")
                .map_err(h5)?,
        };
        let attrs: Vec<VarLenUnicode> = images
            .iter()
            .map(|i| i.attributes.parse().expect("checked: no NUL"))
            .collect();
        append_records(&ads, &attrs).map_err(h5)?;
        append_array(&dds, &stacked).map_err(h5)
    }

    /// Appends arrays to NDArray dataset `name` (`<g>/<name>`, shape `[count, …]`); `arrays` has
    /// the count as its first axis.
    pub fn append_ndarray(&mut self, name: &str, arrays: &ArrayData<IxDyn>) -> Result<()> {
        let obj = self.object(name);
        let g = &self.open().group;
        let h5 = |e| self.h5(e, &obj);
        let ds = match g.dataset(name) {
            Ok(d) => {
                if let Some(problem) = mismatch(&d, arrays) {
                    return Err(Error::Invalid {
                        what: format!("{}: array '{name}'", self.target.display()),
                        problem,
                    });
                }
                d
            }
            Err(_) if g.link_exists(name) => {
                return Err(Error::Invalid {
                    what: format!("{}: array '{name}'", self.target.display()),
                    problem: "the name is taken by another object of the group (an image series?)"
                        .into(),
                });
            }
            Err(_) => create_array_dataset(g, name, arrays).map_err(h5)?,
        };
        append_array(&ds, arrays).map_err(h5)
    }

    /// Closes the file and moves it to the target path.
    ///
    /// # Errors
    /// [`Error::OutputExists`] when the target appeared meanwhile and overwriting is off.
    pub fn finish(mut self) -> Result<PathBuf> {
        let open = self.state.take().expect("finish() called once");
        let Open {
            file,
            group,
            acquisitions,
            waveforms,
            ..
        } = open;
        drop((group, acquisitions, waveforms));
        file.flush().map_err(|e| self.h5(e, ""))?;
        file.close().map_err(|e| self.h5(e, ""))?;
        if self.target.exists() && !self.options.overwrite {
            return Err(Error::OutputExists {
                path: self.target.display().to_string(),
            });
        }
        std::fs::rename(&self.tmp, &self.target).map_err(|source| Error::Io {
            path: self.target.display().to_string(),
            source,
        })?;
        Ok(self.target.clone())
    }
}

impl Drop for IsmrmrdWriter {
    fn drop(&mut self) {
        if let Some(open) = self.state.take() {
            drop(open);
        }
        // After finish() the temporary file no longer exists; otherwise it is abandoned.
        let _ = std::fs::remove_file(&self.tmp);
    }
}

/// HDF5 strings end at the first NUL, so text holding one cannot be stored whole.
fn check_no_nul(text: &str, what: impl FnOnce() -> String) -> Result<()> {
    match text.find('\0') {
        Some(at) => Err(Error::Invalid {
            what: what(),
            problem: format!("contains a NUL character at byte {at}; HDF5 strings cannot hold it"),
        }),
        None => Ok(()),
    }
}

/// The samples as interleaved (re, im) floats.
fn complex_as_floats(data: &[num_complex::Complex32]) -> Vec<f32> {
    let mut out = Vec::with_capacity(2 * data.len());
    for c in data {
        out.push(c.re);
        out.push(c.im);
    }
    out
}

/// Appends records to a 1-D extensible dataset.
fn append_records<T: H5Type>(ds: &Dataset, records: &[T]) -> hdf5::Result<()> {
    let n = ds.size();
    ds.resize(n + records.len())?;
    ds.write_slice(records, n..n + records.len())
}

/// Stacks arrays of equal shape along a new first axis.
fn stack<D: Dimension>(arrays: Vec<ArrayData<D>>) -> ArrayData<IxDyn> {
    macro_rules! go {
        ($variant:ident) => {{
            let views: Vec<_> = arrays
                .iter()
                .map(|a| match a {
                    ArrayData::$variant(x) => x.view().into_dyn(),
                    _ => unreachable!("checked: one element type per series"),
                })
                .collect();
            ArrayData::$variant(
                ndarray::stack(ndarray::Axis(0), &views).expect("checked: equal shapes"),
            )
        }};
    }
    match arrays[0] {
        ArrayData::U16(_) => go!(U16),
        ArrayData::I16(_) => go!(I16),
        ArrayData::U32(_) => go!(U32),
        ArrayData::I32(_) => go!(I32),
        ArrayData::F32(_) => go!(F32),
        ArrayData::F64(_) => go!(F64),
        ArrayData::C32(_) => go!(C32),
        ArrayData::C64(_) => go!(C64),
    }
}

/// HDF5 type for an element type (complex as the `{real, imag}` compound ISMRMRD uses).
fn element_type(a: &ArrayData<IxDyn>) -> TypeDescriptor {
    match a {
        ArrayData::U16(_) => u16::type_descriptor(),
        ArrayData::I16(_) => i16::type_descriptor(),
        ArrayData::U32(_) => u32::type_descriptor(),
        ArrayData::I32(_) => i32::type_descriptor(),
        ArrayData::F32(_) => f32::type_descriptor(),
        ArrayData::F64(_) => f64::type_descriptor(),
        ArrayData::C32(_) => ComplexF32Record::type_descriptor(),
        ArrayData::C64(_) => ComplexF64Record::type_descriptor(),
    }
}

/// Why `a` (first axis = count) cannot be appended to the existing array dataset `ds`, if so.
fn mismatch(ds: &Dataset, a: &ArrayData<IxDyn>) -> Option<String> {
    let have = ds.shape();
    let stored = ds.dtype().and_then(|t| t.to_descriptor()).ok();
    if have.get(1..) != a.shape().get(1..) {
        return Some(format!(
            "shape {:?} differs from the arrays already stored {:?}",
            &a.shape()[1..],
            have.get(1..).unwrap_or_default()
        ));
    }
    if stored.as_ref() != Some(&element_type(a)) {
        return Some(format!(
            "element type {} differs from the one already stored ({})",
            a.data_type().name(),
            stored.map_or("unknown".to_string(), |t| t.to_string())
        ));
    }
    None
}

/// Creates an extensible dataset `[0, d1, …]` for arrays shaped like `a[0]`, one chunk per array.
fn create_array_dataset(
    g: &hdf5::Group,
    name: &str,
    a: &ArrayData<IxDyn>,
) -> hdf5::Result<Dataset> {
    let shape = a.shape();
    let mut extents: Vec<hdf5::Extent> = vec![(0..).into()];
    extents.extend(shape[1..].iter().map(|&d| hdf5::Extent::from(d)));
    let mut chunk = vec![1usize];
    chunk.extend(shape[1..].iter().map(|&d| d.max(1)));
    g.new_dataset_builder()
        .empty_as(element_type(a))
        .chunk(chunk)
        .shape(extents)
        .create(name)
}

/// Appends `a` (first axis = count) to an extensible array dataset.
fn append_array(ds: &Dataset, a: &ArrayData<IxDyn>) -> hdf5::Result<()> {
    let mut shape = ds.shape();
    let n = shape[0];
    let add = a.shape()[0];
    shape[0] = n + add;
    ds.resize(shape.clone())?;
    let mut sel: Vec<SliceInfoElem> = vec![(n..n + add).into()];
    sel.extend(shape[1..].iter().map(|&d| SliceInfoElem::from(0..d)));
    let sel = ndarray::SliceInfo::<_, IxDyn, IxDyn>::try_from(sel).expect("valid slice");
    match a {
        ArrayData::U16(x) => ds.write_slice(x, sel),
        ArrayData::I16(x) => ds.write_slice(x, sel),
        ArrayData::U32(x) => ds.write_slice(x, sel),
        ArrayData::I32(x) => ds.write_slice(x, sel),
        ArrayData::F32(x) => ds.write_slice(x, sel),
        ArrayData::F64(x) => ds.write_slice(x, sel),
        ArrayData::C32(x) => ds.write_slice(
            &x.map(|c| ComplexF32Record {
                real: c.re,
                imag: c.im,
            }),
            sel,
        ),
        ArrayData::C64(x) => ds.write_slice(
            &x.map(|c| ComplexF64Record {
                real: c.re,
                imag: c.im,
            }),
            sel,
        ),
    }
}
