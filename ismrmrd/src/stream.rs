//! The ISMRMRD 1.x stream format (what `siemens_to_ismrmrd` ≥ 1.3 writes by default and
//! Gadgetron/FIRE servers speak): a sequence of little-endian messages over any `Read`/`Write`.
//!
//! Each message is a `u16` id followed by its payload, exactly as ismrmrd-python 1.15's
//! `ProtocolSerializer` writes it (and the C++ `ProtocolSerializer` of ismrmrd ≥ 1.14):
//!
//! | id | message | payload |
//! |---|---|---|
//! | 1 | CONFIG_FILE | 1024 bytes: the name, zero padded |
//! | 2 | CONFIG_TEXT | `u32` length + UTF-8 text (no NUL) |
//! | 3 | HEADER | `u32` length + the XML header (no NUL) |
//! | 4 | CLOSE | none |
//! | 5 | TEXT | `u32` length + UTF-8 text (no NUL) |
//! | 1008 | ACQUISITION | packed 340-byte header, trajectory `f32 × samples × dims`, data `complex64 × channels × samples` |
//! | 1022 | IMAGE | packed 198-byte header, `u64` attribute length, attribute XML, pixels (x fastest) |
//! | 1026 | WAVEFORM | naturally aligned 40-byte header, `u32 × channels × samples` |
//! | 1030 | NDARRAY | `u16` data type, `u16` version (0), `u16` ndim, `u64` dims (slowest first), data (C order) |
//!
//! Image pixel counts come from the header (`channels · matrix_size[0..3]` of `data_type`), not
//! from the stream. Readers are lenient where old writers differ: one trailing NUL after a
//! text or header is dropped (as the C++ reader does), trailing NULs after image attributes are
//! dropped (as the Python reader does), and a config file name ends at its first NUL.
//!
//! NDArray dims are taken in Python's (numpy) order, slowest first. The C++ library writes its
//! `NDArray::getDims()`, fastest first, with the same data, so its arrays read here with the
//! shape reversed (a transposed view of the same memory). Element type 4 is a 4-byte `i32`
//! as in `ismrmrd.h`; ismrmrd-python 1.15 maps it to numpy's 8-byte `int` and cannot
//! exchange such images or arrays.
//!
//! Wrap files and sockets in `BufReader`/`BufWriter`: [`StreamReader`] reads each message in a
//! few large `read` calls and [`StreamWriter`] writes each in two or three.

use std::io::{ErrorKind, Read, Write};

use bytemuck::Pod;
use ndarray::{Array, Dimension, Ix4, IxDyn};
use num_complex::{Complex32, Complex64};

use crate::acquisition::{ACQUISITION_HEADER_BYTES, Acquisition, AcquisitionHeader};
use crate::array::{ArrayData, DataType};
use crate::error::{Error, Result};
pub use crate::image::IMAGE_HEADER_BYTES;
use crate::image::{Image, ImageHeader};
pub use crate::waveform::WAVEFORM_HEADER_BYTES;
use crate::waveform::{Waveform, WaveformHeader};

/// Size in bytes of a CONFIG_FILE payload (the zero-padded name).
pub const CONFIG_FILE_BYTES: usize = 1024;
/// The 8-byte signature at the start of an HDF5 file (without a user block).
pub const HDF5_SIGNATURE: [u8; 8] = *b"\x89HDF\r\n\x1a\n";

/// Message ids of the 1.x stream protocol.
pub mod message_id {
    /// Name of a server-side configuration file.
    pub const CONFIG_FILE: u16 = 1;
    /// Inline configuration text.
    pub const CONFIG_TEXT: u16 = 2;
    /// The ISMRMRD XML header.
    pub const HEADER: u16 = 3;
    /// End of the stream.
    pub const CLOSE: u16 = 4;
    /// A free text message (logs, errors).
    pub const TEXT: u16 = 5;
    /// One readout.
    pub const ACQUISITION: u16 = 1008;
    /// One image.
    pub const IMAGE: u16 = 1022;
    /// One waveform.
    pub const WAVEFORM: u16 = 1026;
    /// One n-dimensional array.
    pub const NDARRAY: u16 = 1030;
}

/// Payloads at most this large are read with one allocation; larger ones grow as they arrive,
/// so that a corrupt length field cannot make the reader allocate absurd amounts of memory.
const CHUNK_BYTES: usize = 64 << 20;

/// One message of an ISMRMRD stream.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamItem {
    /// CONFIG_FILE (1): name of a configuration known to the server.
    ConfigFile(String),
    /// CONFIG_TEXT (2): configuration text.
    ConfigText(String),
    /// HEADER (3): the ISMRMRD XML header, as text.
    Header(String),
    /// TEXT (5): a free text message.
    Text(String),
    /// ACQUISITION (1008): one readout.
    Acquisition(Acquisition),
    /// IMAGE (1022): one image.
    Image(Image),
    /// WAVEFORM (1026): one waveform.
    Waveform(Waveform),
    /// NDARRAY (1030): an array, shape slowest dimension first (numpy order).
    NdArray(ArrayData<IxDyn>),
    /// CLOSE (4): end of the stream.
    Close,
}

impl StreamItem {
    /// The message id this item is written with.
    pub fn message_id(&self) -> u16 {
        match self {
            StreamItem::ConfigFile(_) => message_id::CONFIG_FILE,
            StreamItem::ConfigText(_) => message_id::CONFIG_TEXT,
            StreamItem::Header(_) => message_id::HEADER,
            StreamItem::Text(_) => message_id::TEXT,
            StreamItem::Acquisition(_) => message_id::ACQUISITION,
            StreamItem::Image(_) => message_id::IMAGE,
            StreamItem::Waveform(_) => message_id::WAVEFORM,
            StreamItem::NdArray(_) => message_id::NDARRAY,
            StreamItem::Close => message_id::CLOSE,
        }
    }
}

/// Whether `first_bytes` (the start of a file) carry the HDF5 signature, i.e. the file is an
/// ISMRMRD HDF5 file rather than a stream.
pub fn is_hdf5(first_bytes: &[u8]) -> bool {
    first_bytes.starts_with(&HDF5_SIGNATURE)
}

/// Size of one element of `dt` in bytes, and of its scalar parts (for byte swapping).
fn element_size(dt: DataType) -> (usize, usize) {
    match dt {
        DataType::U16 | DataType::I16 => (2, 2),
        DataType::U32 | DataType::I32 | DataType::F32 => (4, 4),
        DataType::F64 => (8, 8),
        DataType::C32 => (8, 4),
        DataType::C64 => (16, 8),
    }
}

/// Converts little-endian scalars of `scalar` bytes to native order in place (no-op on
/// little-endian hosts).
fn le_to_native(bytes: &mut [u8], scalar: usize) {
    if cfg!(target_endian = "big") {
        bytes.chunks_exact_mut(scalar).for_each(|c| c.reverse());
    }
}

/// Reads ISMRMRD stream messages from any [`Read`]; an iterator of [`StreamItem`]s.
///
/// Iteration ends after a CLOSE message (which is yielded) or at a clean end of input between
/// messages, and stops after the first error. Bytes after CLOSE are not read.
pub struct StreamReader<R: Read> {
    reader: R,
    name: String,
    /// Bytes consumed so far.
    pos: u64,
    /// Index of the current (or next) message.
    index: u64,
    /// Byte offset of the current message's id.
    msg_start: u64,
    done: bool,
}

impl<R: Read> StreamReader<R> {
    /// A reader of `reader`; `name` (e.g. the file path) labels errors.
    pub fn new(reader: R, name: &str) -> Self {
        StreamReader {
            reader,
            name: name.to_string(),
            pos: 0,
            index: 0,
            msg_start: 0,
            done: false,
        }
    }

    /// Number of bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.pos
    }

    /// Gives back the underlying reader (positioned after the last message read).
    pub fn into_inner(self) -> R {
        self.reader
    }

    /// A [`Error::Stream`] for the current message.
    fn err(&self, problem: String) -> Error {
        Error::Stream {
            path: self.name.clone(),
            message: self.index,
            offset: self.msg_start,
            problem,
        }
    }

    /// Bytes of the current message's payload read so far.
    fn payload_read(&self) -> u64 {
        self.pos - self.msg_start - 2
    }

    /// Reads until `buf` is full or the input ends; returns the number of bytes read.
    fn fill(&mut self, buf: &mut [u8]) -> Result<usize> {
        let mut n = 0;
        while n < buf.len() {
            match self.reader.read(&mut buf[n..]) {
                Ok(0) => break,
                Ok(k) => {
                    n += k;
                    self.pos += k as u64;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(source) => {
                    return Err(Error::Io {
                        path: self.name.clone(),
                        source,
                    });
                }
            }
        }
        Ok(n)
    }

    /// Fills `buf` completely; a short read is a truncation error naming `what` and the
    /// `need` payload bytes known to be required.
    fn read_part(&mut self, buf: &mut [u8], what: &str, need: u64) -> Result<()> {
        if self.fill(buf)? < buf.len() {
            return Err(self.err(format!(
                "stream ends after {} of {need} bytes of the {what}",
                self.payload_read()
            )));
        }
        Ok(())
    }

    /// Reads `count` little-endian elements of `T` (made of scalars of `scalar` bytes).
    fn read_vec<T: Pod>(
        &mut self,
        count: u64,
        scalar: usize,
        what: &str,
        need: u64,
    ) -> Result<Vec<T>> {
        let size = std::mem::size_of::<T>();
        let count = usize::try_from(count)
            .ok()
            .filter(|c| c.checked_mul(size).is_some())
            .ok_or_else(|| self.err(format!("{what}: {count} elements do not fit in memory")))?;
        let chunk = (CHUNK_BYTES / size).max(1);
        let mut v: Vec<T> = Vec::new();
        while v.len() < count {
            let start = v.len();
            let n = (count - start).min(chunk);
            v.resize(start + n, T::zeroed());
            let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut v[start..]);
            self.read_part(bytes, what, need)?;
            le_to_native(bytes, scalar);
        }
        Ok(v)
    }

    /// Reads `count` elements of type `dt` into an array of `shape`.
    fn read_array<D: Dimension>(
        &mut self,
        dt: DataType,
        shape: D,
        count: u64,
        what: &str,
        need: u64,
    ) -> Result<ArrayData<D>> {
        fn build<T, D: Dimension>(shape: D, v: Vec<T>) -> std::result::Result<Array<T, D>, String> {
            Array::from_shape_vec(shape, v).map_err(|e| e.to_string())
        }
        let (_, scalar) = element_size(dt);
        let data =
            match dt {
                DataType::U16 => build(shape, self.read_vec::<u16>(count, scalar, what, need)?)
                    .map(ArrayData::U16),
                DataType::I16 => build(shape, self.read_vec::<i16>(count, scalar, what, need)?)
                    .map(ArrayData::I16),
                DataType::U32 => build(shape, self.read_vec::<u32>(count, scalar, what, need)?)
                    .map(ArrayData::U32),
                DataType::I32 => build(shape, self.read_vec::<i32>(count, scalar, what, need)?)
                    .map(ArrayData::I32),
                DataType::F32 => build(shape, self.read_vec::<f32>(count, scalar, what, need)?)
                    .map(ArrayData::F32),
                DataType::F64 => build(shape, self.read_vec::<f64>(count, scalar, what, need)?)
                    .map(ArrayData::F64),
                DataType::C32 => build(
                    shape,
                    self.read_vec::<Complex32>(count, scalar, what, need)?,
                )
                .map(ArrayData::C32),
                DataType::C64 => build(
                    shape,
                    self.read_vec::<Complex64>(count, scalar, what, need)?,
                )
                .map(ArrayData::C64),
            };
        data.map_err(|e| self.err(format!("{what}: {e}")))
    }

    /// Decodes UTF-8 text of a message.
    fn utf8(&self, bytes: Vec<u8>, what: &str) -> Result<String> {
        String::from_utf8(bytes).map_err(|e| {
            self.err(format!(
                "the {what} is not valid UTF-8 (at byte {} of it)",
                e.utf8_error().valid_up_to()
            ))
        })
    }

    /// A `u32`-length-prefixed text payload (CONFIG_TEXT, HEADER, TEXT).
    fn read_text(&mut self, what: &str) -> Result<String> {
        let mut len = [0u8; 4];
        self.read_part(&mut len, &format!("{what} length"), 4)?;
        let len = u32::from_le_bytes(len) as u64;
        let mut bytes = self.read_vec::<u8>(len, 1, what, 4 + len)?;
        // Writers before ismrmrd 1.14 included the C string's NUL; the C++ reader drops it.
        if bytes.last() == Some(&0) {
            bytes.pop();
        }
        self.utf8(bytes, what)
    }

    fn read_config_file(&mut self) -> Result<String> {
        let mut buf = [0u8; CONFIG_FILE_BYTES];
        self.read_part(&mut buf, "config file name", CONFIG_FILE_BYTES as u64)?;
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        self.utf8(buf[..end].to_vec(), "config file name")
    }

    fn read_acquisition(&mut self) -> Result<Acquisition> {
        let mut head = [0u8; ACQUISITION_HEADER_BYTES];
        self.read_part(
            &mut head,
            "acquisition header",
            ACQUISITION_HEADER_BYTES as u64,
        )?;
        let header = AcquisitionHeader::from_bytes(&head);
        let traj_len = header.traj_len() as u64;
        let data_len = header.data_len() as u64;
        let need = ACQUISITION_HEADER_BYTES as u64 + traj_len * 4 + data_len * 8;
        let what = "acquisition payload";
        let traj = self.read_vec::<f32>(traj_len, 4, what, need)?;
        let data = self.read_vec::<Complex32>(data_len, 4, what, need)?;
        Ok(Acquisition { header, traj, data })
    }

    fn read_image(&mut self) -> Result<Image> {
        let mut head = [0u8; IMAGE_HEADER_BYTES];
        self.read_part(&mut head, "image header", IMAGE_HEADER_BYTES as u64)?;
        let header = ImageHeader::from_bytes(&head);
        let dt = DataType::from_code(header.data_type).ok_or_else(|| {
            self.err(format!(
                "image data_type {} is not an ISMRMRD element type (1 u16 … 8 complex128)",
                header.data_type
            ))
        })?;
        let fixed = IMAGE_HEADER_BYTES as u64 + 8;
        let mut len = [0u8; 8];
        self.read_part(&mut len, "image header and attribute length", fixed)?;
        let attr_len = u64::from_le_bytes(len);
        let [x, y, z] = header.matrix_size.map(usize::from);
        let c = usize::from(header.channels);
        let count = (c * z * y * x) as u64;
        let need = fixed
            .checked_add(attr_len)
            .and_then(|n| n.checked_add(count * element_size(dt).0 as u64))
            .ok_or_else(|| self.err(format!("attribute length {attr_len} is impossible")))?;
        let mut attr = self.read_vec::<u8>(attr_len, 1, "image payload", need)?;
        // Some writers count a terminating NUL; the Python reader strips trailing NULs.
        while attr.last() == Some(&0) {
            attr.pop();
        }
        let attributes = self.utf8(attr, "image attribute string")?;
        let data = self.read_array(dt, Ix4(c, z, y, x), count, "image payload", need)?;
        Ok(Image {
            header,
            attributes,
            data,
        })
    }

    fn read_waveform(&mut self) -> Result<Waveform> {
        let mut head = [0u8; WAVEFORM_HEADER_BYTES];
        self.read_part(&mut head, "waveform header", WAVEFORM_HEADER_BYTES as u64)?;
        let header = WaveformHeader::from_bytes(&head);
        let count = header.channels as u64 * header.number_of_samples as u64;
        let need = WAVEFORM_HEADER_BYTES as u64 + count * 4;
        let data = self.read_vec::<u32>(count, 4, "waveform payload", need)?;
        Ok(Waveform { header, data })
    }

    fn read_ndarray(&mut self) -> Result<ArrayData<IxDyn>> {
        let mut head = [0u8; 6];
        self.read_part(&mut head, "ndarray header", 6)?;
        let code = u16::from_le_bytes([head[0], head[1]]);
        let ndim = u16::from_le_bytes([head[4], head[5]]) as u64;
        let dims_need = 6 + 8 * ndim;
        let dims: Vec<u64> = self.read_vec::<u64>(ndim, 8, "ndarray dimensions", dims_need)?;
        let dt = DataType::from_code(code).ok_or_else(|| {
            self.err(format!(
                "ndarray data type {code} is not an ISMRMRD element type (1 u16 … 8 complex128)"
            ))
        })?;
        let too_big = || self.err(format!("ndarray dimensions {dims:?} are too large"));
        let count = dims
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d))
            .ok_or_else(too_big)?;
        let need = count
            .checked_mul(element_size(dt).0 as u64)
            .and_then(|n| n.checked_add(dims_need))
            .ok_or_else(too_big)?;
        let shape: Vec<usize> = dims
            .iter()
            .map(|&d| usize::try_from(d))
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| too_big())?;
        self.read_array(dt, IxDyn(&shape), count, "ndarray payload", need)
    }

    /// Reads the next message; `None` at a clean end of input.
    fn read_item(&mut self) -> Result<Option<StreamItem>> {
        self.msg_start = self.pos;
        let mut id = [0u8; 2];
        match self.fill(&mut id)? {
            0 => return Ok(None),
            1 => return Err(self.err("stream ends inside a message id (1 of 2 bytes)".into())),
            _ => {}
        }
        let item = match u16::from_le_bytes(id) {
            message_id::CONFIG_FILE => StreamItem::ConfigFile(self.read_config_file()?),
            message_id::CONFIG_TEXT => StreamItem::ConfigText(self.read_text("config text")?),
            message_id::HEADER => StreamItem::Header(self.read_text("XML header")?),
            message_id::CLOSE => StreamItem::Close,
            message_id::TEXT => StreamItem::Text(self.read_text("text")?),
            message_id::ACQUISITION => StreamItem::Acquisition(self.read_acquisition()?),
            message_id::IMAGE => StreamItem::Image(self.read_image()?),
            message_id::WAVEFORM => StreamItem::Waveform(self.read_waveform()?),
            message_id::NDARRAY => StreamItem::NdArray(self.read_ndarray()?),
            other => {
                return Err(self.err(format!(
                    "unknown message id {other} (expected 1-5, 1008, 1022, 1026 or 1030)"
                )));
            }
        };
        Ok(Some(item))
    }
}

impl<R: Read> Iterator for StreamReader<R> {
    type Item = Result<StreamItem>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.read_item() {
            Ok(Some(item)) => {
                self.index += 1;
                self.done = item == StreamItem::Close;
                Some(Ok(item))
            }
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

impl<R: Read> std::iter::FusedIterator for StreamReader<R> {}

/// Writes ISMRMRD stream messages to any [`Write`], byte for byte as ismrmrd-python's
/// `ProtocolSerializer` does.
///
/// Call [`StreamWriter::finish`] at the end: it writes CLOSE (unless written already) and
/// flushes. Dropping the writer without it leaves the stream without CLOSE.
pub struct StreamWriter<W: Write> {
    writer: W,
    name: String,
    closed: bool,
}

impl<W: Write> StreamWriter<W> {
    /// A writer to `writer`; errors name it `<stream>`.
    pub fn new(writer: W) -> Self {
        Self::with_name(writer, "<stream>")
    }

    /// A writer to `writer`; `name` (e.g. the file path) labels I/O errors.
    pub fn with_name(writer: W, name: &str) -> Self {
        StreamWriter {
            writer,
            name: name.to_string(),
            closed: false,
        }
    }

    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        self.writer.write_all(bytes).map_err(|source| Error::Io {
            path: self.name.clone(),
            source,
        })
    }

    /// Writes `data` as little-endian scalars of `scalar` bytes.
    fn put_pod<T: Pod>(&mut self, data: &[T], scalar: usize) -> Result<()> {
        let bytes: &[u8] = bytemuck::cast_slice(data);
        if cfg!(target_endian = "little") {
            self.put(bytes)
        } else {
            let mut swapped = bytes.to_vec();
            swapped.chunks_exact_mut(scalar).for_each(|c| c.reverse());
            self.put(&swapped)
        }
    }

    /// Writes the elements of `a` in logical (C) order.
    fn put_array<T: Pod, D: Dimension>(&mut self, a: &Array<T, D>, scalar: usize) -> Result<()> {
        let a = a.as_standard_layout();
        match a.as_slice() {
            Some(s) => self.put_pod(s, scalar),
            None => self.put_pod(&a.iter().copied().collect::<Vec<T>>(), scalar),
        }
    }

    fn put_array_data<D: Dimension>(&mut self, data: &ArrayData<D>) -> Result<()> {
        let (_, scalar) = element_size(data.data_type());
        match data {
            ArrayData::U16(a) => self.put_array(a, scalar),
            ArrayData::I16(a) => self.put_array(a, scalar),
            ArrayData::U32(a) => self.put_array(a, scalar),
            ArrayData::I32(a) => self.put_array(a, scalar),
            ArrayData::F32(a) => self.put_array(a, scalar),
            ArrayData::F64(a) => self.put_array(a, scalar),
            ArrayData::C32(a) => self.put_array(a, scalar),
            ArrayData::C64(a) => self.put_array(a, scalar),
        }
    }

    /// Writes a `u32`-length-prefixed text message.
    fn put_text(&mut self, id: u16, text: &str, what: &str) -> Result<()> {
        let len = u32::try_from(text.len()).map_err(|_| invalid(what, "longer than 4 GiB"))?;
        let mut head = [0u8; 6];
        head[..2].copy_from_slice(&id.to_le_bytes());
        head[2..].copy_from_slice(&len.to_le_bytes());
        self.put(&head)?;
        self.put(text.as_bytes())
    }

    /// Writes one message. Items are checked first (lengths against headers, sizes that fit
    /// the format); an inconsistent item gives [`Error::Invalid`] and writes nothing.
    pub fn write(&mut self, item: &StreamItem) -> Result<()> {
        if self.closed {
            return Err(invalid("stream", "a message written after CLOSE"));
        }
        let id = item.message_id().to_le_bytes();
        match item {
            StreamItem::ConfigFile(name) => {
                let b = name.as_bytes();
                if b.len() >= CONFIG_FILE_BYTES || b.contains(&0) {
                    return Err(invalid(
                        "config file name",
                        "must be under 1024 bytes of UTF-8 without NUL",
                    ));
                }
                let mut buf = vec![0u8; 2 + CONFIG_FILE_BYTES];
                buf[..2].copy_from_slice(&id);
                buf[2..2 + b.len()].copy_from_slice(b);
                self.put(&buf)
            }
            StreamItem::ConfigText(t) => self.put_text(message_id::CONFIG_TEXT, t, "config text"),
            StreamItem::Header(t) => self.put_text(message_id::HEADER, t, "XML header"),
            StreamItem::Text(t) => self.put_text(message_id::TEXT, t, "text"),
            StreamItem::Acquisition(a) => {
                a.check()
                    .map_err(|(field, p)| invalid("acquisition", &format!("{field}: {p}")))?;
                let mut head = Vec::with_capacity(2 + ACQUISITION_HEADER_BYTES);
                head.extend_from_slice(&id);
                head.extend_from_slice(&a.header.to_bytes());
                self.put(&head)?;
                self.put_pod(&a.traj, 4)?;
                self.put_pod(&a.data, 4)
            }
            StreamItem::Image(im) => {
                im.check()
                    .map_err(|(field, p)| invalid("image", &format!("{field}: {p}")))?;
                let attr = im.attributes.as_bytes();
                let attr_len = u32::try_from(attr.len())
                    .map_err(|_| invalid("image", "attribute string longer than 4 GiB"))?;
                // As ismrmrd-python does: the header's attribute_string_len is the length written.
                let header = ImageHeader {
                    attribute_string_len: attr_len,
                    ..im.header
                };
                let mut head = Vec::with_capacity(2 + IMAGE_HEADER_BYTES + 8 + attr.len());
                head.extend_from_slice(&id);
                head.extend_from_slice(&ImageHeader::to_bytes(&header));
                head.extend_from_slice(&(attr.len() as u64).to_le_bytes());
                head.extend_from_slice(attr);
                self.put(&head)?;
                self.put_array_data(&im.data)
            }
            StreamItem::Waveform(w) => {
                w.check()
                    .map_err(|(field, p)| invalid("waveform", &format!("{field}: {p}")))?;
                let mut head = Vec::with_capacity(2 + WAVEFORM_HEADER_BYTES);
                head.extend_from_slice(&id);
                head.extend_from_slice(&WaveformHeader::to_bytes(&w.header));
                self.put(&head)?;
                self.put_pod(&w.data, 4)
            }
            StreamItem::NdArray(a) => {
                let shape = a.shape();
                let ndim = u16::try_from(shape.len())
                    .map_err(|_| invalid("ndarray", "more than 65535 dimensions"))?;
                let mut head = Vec::with_capacity(8 + 8 * shape.len());
                head.extend_from_slice(&id);
                head.extend_from_slice(&a.data_type().code().to_le_bytes());
                // ismrmrd-python writes version 0 (the C++ library writes its NDArray version).
                head.extend_from_slice(&0u16.to_le_bytes());
                head.extend_from_slice(&ndim.to_le_bytes());
                shape
                    .iter()
                    .for_each(|&d| head.extend_from_slice(&(d as u64).to_le_bytes()));
                self.put(&head)?;
                self.put_array_data(a)
            }
            StreamItem::Close => {
                self.put(&id)?;
                self.closed = true;
                Ok(())
            }
        }
    }

    /// Writes CLOSE unless it was written already, flushes, and gives back the writer.
    pub fn finish(mut self) -> Result<W> {
        if !self.closed {
            self.write(&StreamItem::Close)?;
        }
        self.writer.flush().map_err(|source| Error::Io {
            path: self.name.clone(),
            source,
        })?;
        Ok(self.writer)
    }
}

fn invalid(what: &str, problem: &str) -> Error {
    Error::Invalid {
        what: what.to_string(),
        problem: problem.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flags::ImageFlag;

    fn u16_at(b: &[u8], o: usize) -> u16 {
        u16::from_le_bytes([b[o], b[o + 1]])
    }
    fn u32_at(b: &[u8], o: usize) -> u32 {
        u32::from_le_bytes(b[o..o + 4].try_into().unwrap())
    }
    fn f32_at(b: &[u8], o: usize) -> f32 {
        f32::from_le_bytes(b[o..o + 4].try_into().unwrap())
    }

    #[test]
    fn image_header_offsets_and_round_trip() {
        let mut h = ImageHeader {
            data_type: DataType::C32.code(),
            measurement_uid: 0xdead_beef,
            matrix_size: [64, 32, 2],
            field_of_view: [250.0, 125.0, 10.0],
            channels: 3,
            position: [1.0, 2.0, 3.0],
            read_dir: [4.0, 5.0, 6.0],
            phase_dir: [7.0, 8.0, 9.0],
            slice_dir: [10.0, 11.0, 12.0],
            patient_table_position: [13.0, 14.0, 15.0],
            average: 21,
            slice: 22,
            contrast: 23,
            phase: 24,
            repetition: 25,
            set: 26,
            acquisition_time_stamp: 27,
            physiology_time_stamp: [28, 29, 30],
            image_type: 5,
            image_index: 31,
            image_series_index: 32,
            attribute_string_len: 77,
            ..Default::default()
        };
        h.flags.insert(ImageFlag::from_bit_number(64).unwrap());
        h.user_int = [-1, -2, -3, -4, -5, -6, -7, -8];
        h.user_float[7] = 0.5;
        let b = ImageHeader::to_bytes(&h);
        // Offsets from ismrmrd.h (docs/ismrmrd.md 1.4).
        assert_eq!(u16_at(&b, 0), 1);
        assert_eq!(u16_at(&b, 2), 7);
        assert_eq!(u64::from_le_bytes(b[4..12].try_into().unwrap()), 1 << 63);
        assert_eq!(u32_at(&b, 12), 0xdead_beef);
        assert_eq!(
            [u16_at(&b, 16), u16_at(&b, 18), u16_at(&b, 20)],
            [64, 32, 2]
        );
        assert_eq!(f32_at(&b, 22), 250.0);
        assert_eq!(f32_at(&b, 30), 10.0);
        assert_eq!(u16_at(&b, 34), 3);
        assert_eq!(f32_at(&b, 36), 1.0);
        assert_eq!(f32_at(&b, 48), 4.0);
        assert_eq!(f32_at(&b, 60), 7.0);
        assert_eq!(f32_at(&b, 72), 10.0);
        assert_eq!(f32_at(&b, 84), 13.0);
        let counters: Vec<u16> = (0..6).map(|i| u16_at(&b, 96 + 2 * i)).collect();
        assert_eq!(counters, [21, 22, 23, 24, 25, 26]);
        assert_eq!(u32_at(&b, 108), 27);
        assert_eq!(u32_at(&b, 112), 28);
        assert_eq!(u32_at(&b, 120), 30);
        assert_eq!(u16_at(&b, 124), 5);
        assert_eq!(u16_at(&b, 126), 31);
        assert_eq!(u16_at(&b, 128), 32);
        assert_eq!(u32_at(&b, 130) as i32, -1);
        assert_eq!(u32_at(&b, 158) as i32, -8);
        assert_eq!(f32_at(&b, 162 + 28), 0.5);
        assert_eq!(u32_at(&b, 194), 77);
        assert_eq!(ImageHeader::from_bytes(&b), h);
    }

    #[test]
    fn waveform_header_offsets_and_round_trip() {
        let h = WaveformHeader {
            version: 1,
            flags: 0x0102_0304_0506_0708,
            measurement_uid: 11,
            scan_counter: 12,
            time_stamp: 13,
            number_of_samples: 14,
            channels: 15,
            sample_time_us: 2.5,
            waveform_id: 1025,
        };
        let b = WaveformHeader::to_bytes(&h);
        // Natural alignment (docs/ismrmrd.md 1.5), padding zero.
        assert_eq!(u16_at(&b, 0), 1);
        assert_eq!(&b[2..8], &[0; 6]);
        assert_eq!(
            u64::from_le_bytes(b[8..16].try_into().unwrap()),
            0x0102_0304_0506_0708
        );
        assert_eq!(u32_at(&b, 16), 11);
        assert_eq!(u32_at(&b, 20), 12);
        assert_eq!(u32_at(&b, 24), 13);
        assert_eq!(u16_at(&b, 28), 14);
        assert_eq!(u16_at(&b, 30), 15);
        assert_eq!(f32_at(&b, 32), 2.5);
        assert_eq!(u16_at(&b, 36), 1025);
        assert_eq!(&b[38..], &[0; 2]);
        assert_eq!(WaveformHeader::from_bytes(&b), h);
        // Padding written by others is ignored.
        let mut dirty = b;
        dirty[3] = 0xff;
        dirty[39] = 0xff;
        assert_eq!(WaveformHeader::from_bytes(&dirty), h);
    }

    #[test]
    fn hdf5_signature() {
        assert!(is_hdf5(b"\x89HDF\r\n\x1a\n\0\0"));
        assert!(!is_hdf5(b"\x89HDF\r\n\x1a"));
        assert!(!is_hdf5(&[1, 0, b'a']));
        assert!(!is_hdf5(&[]));
    }

    #[test]
    fn text_messages_are_length_prefixed_without_nul() {
        let mut w = StreamWriter::new(Vec::new());
        w.write(&StreamItem::Text("hé".into())).unwrap();
        let bytes = w.finish().unwrap();
        assert_eq!(bytes, [5, 0, 3, 0, 0, 0, b'h', 0xc3, 0xa9, 4, 0]);
        // An old writer's trailing NUL is dropped.
        let old = [5, 0, 3, 0, 0, 0, b'h', b'i', 0];
        let items: Vec<_> = StreamReader::new(&old[..], "old").collect();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].as_ref().unwrap(), &StreamItem::Text("hi".into()));
    }
}
