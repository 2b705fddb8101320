//! Reconstructed images: [`ImageHeader`] (the 198-byte ISMRMRD image header), pixel data
//! `[channels, z, y, x]` of any ISMRMRD element type, and the MetaAttributes XML string.

use ndarray::Ix4;
use serde::Serialize;

use crate::acquisition::{ByteReader, ByteWriter, HEADER_VERSION};
use crate::array::{ArrayData, DataType};
use crate::flags::{ImageFlag, ImageFlags};

/// Size in bytes of the packed image header on the wire.
pub const IMAGE_HEADER_BYTES: usize = 198;

/// Pixel data of one image, shape `[channels, z, y, x]`.
pub type ImageData = ArrayData<Ix4>;

/// What an image's values mean (`ISMRMRD_ImageTypes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ImageType {
    /// 1: magnitude.
    Magnitude,
    /// 2: phase.
    Phase,
    /// 3: real part.
    Real,
    /// 4: imaginary part.
    Imag,
    /// 5: complex.
    Complex,
    /// 6: RGB stored as u16 with 3 channels (ISMRMRD documentation, not in the C enum).
    Rgb,
    /// Any other value, including 0 (unset, written by some servers).
    Other(u16),
}

impl ImageType {
    /// The type for an ISMRMRD code.
    pub fn from_code(code: u16) -> Self {
        match code {
            1 => ImageType::Magnitude,
            2 => ImageType::Phase,
            3 => ImageType::Real,
            4 => ImageType::Imag,
            5 => ImageType::Complex,
            6 => ImageType::Rgb,
            other => ImageType::Other(other),
        }
    }

    /// The ISMRMRD code.
    pub fn code(self) -> u16 {
        match self {
            ImageType::Magnitude => 1,
            ImageType::Phase => 2,
            ImageType::Real => 3,
            ImageType::Imag => 4,
            ImageType::Complex => 5,
            ImageType::Rgb => 6,
            ImageType::Other(c) => c,
        }
    }
}

/// The ISMRMRD image header (`ISMRMRD_ImageHeader`), field for field.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, hdf5::H5Type)]
#[repr(C)]
pub struct ImageHeader {
    /// Header version.
    pub version: u16,
    /// Element type code, see [`DataType`].
    pub data_type: u16,
    /// Flags, see [`ImageFlag`].
    pub flags: ImageFlags,
    /// Unique measurement id.
    pub measurement_uid: u32,
    /// Pixels along x, y, z.
    pub matrix_size: [u16; 3],
    /// Field of view along x, y, z, mm.
    pub field_of_view: [f32; 3],
    /// Number of channels.
    pub channels: u16,
    /// Centre of the image volume, LPS, mm.
    pub position: [f32; 3],
    /// Readout (x) direction cosines.
    pub read_dir: [f32; 3],
    /// Phase (y) direction cosines.
    pub phase_dir: [f32; 3],
    /// Slice (z) direction cosines.
    pub slice_dir: [f32; 3],
    /// Table position, mm.
    pub patient_table_position: [f32; 3],
    /// Average counter.
    pub average: u16,
    /// Slice counter.
    pub slice: u16,
    /// Contrast counter.
    pub contrast: u16,
    /// Phase counter.
    pub phase: u16,
    /// Repetition counter.
    pub repetition: u16,
    /// Set counter.
    pub set: u16,
    /// Time stamp in vendor ticks.
    pub acquisition_time_stamp: u32,
    /// Physiology time stamps.
    pub physiology_time_stamp: [u32; 3],
    /// Image type code, see [`ImageType`].
    pub image_type: u16,
    /// Image index.
    pub image_index: u16,
    /// Series index.
    pub image_series_index: u16,
    /// User integers.
    pub user_int: [i32; 8],
    /// User floats.
    pub user_float: [f32; 8],
    /// Length of the attribute string.
    pub attribute_string_len: u32,
}

impl Default for ImageHeader {
    fn default() -> Self {
        ImageHeader {
            version: HEADER_VERSION,
            data_type: DataType::F32.code(),
            flags: ImageFlags::EMPTY,
            measurement_uid: 0,
            matrix_size: [0; 3],
            field_of_view: [0.0; 3],
            channels: 0,
            position: [0.0; 3],
            read_dir: [0.0; 3],
            phase_dir: [0.0; 3],
            slice_dir: [0.0; 3],
            patient_table_position: [0.0; 3],
            average: 0,
            slice: 0,
            contrast: 0,
            phase: 0,
            repetition: 0,
            set: 0,
            acquisition_time_stamp: 0,
            physiology_time_stamp: [0; 3],
            image_type: ImageType::Magnitude.code(),
            image_index: 0,
            image_series_index: 0,
            user_int: [0; 8],
            user_float: [0.0; 8],
            attribute_string_len: 0,
        }
    }
}

impl ImageHeader {
    /// Whether `flag` is set.
    pub fn is_flag_set(&self, flag: ImageFlag) -> bool {
        self.flags.contains(flag)
    }

    /// The image type.
    pub fn image_type(&self) -> ImageType {
        ImageType::from_code(self.image_type)
    }

    /// The element type, if the code is a known one.
    pub fn data_type(&self) -> Option<DataType> {
        DataType::from_code(self.data_type)
    }

    /// Encodes an image header as the packed little-endian 198-byte record of the stream.
    pub fn to_bytes(&self) -> [u8; IMAGE_HEADER_BYTES] {
        let mut w = ByteWriter::default();
        w.u16(self.version);
        w.u16(self.data_type);
        w.u64(self.flags.0);
        w.u32(self.measurement_uid);
        self.matrix_size.iter().for_each(|&v| w.u16(v));
        self.field_of_view.iter().for_each(|&v| w.f32(v));
        w.u16(self.channels);
        for v in [
            self.position,
            self.read_dir,
            self.phase_dir,
            self.slice_dir,
            self.patient_table_position,
        ] {
            v.iter().for_each(|&x| w.f32(x));
        }
        for v in [
            self.average,
            self.slice,
            self.contrast,
            self.phase,
            self.repetition,
            self.set,
        ] {
            w.u16(v);
        }
        w.u32(self.acquisition_time_stamp);
        self.physiology_time_stamp.iter().for_each(|&v| w.u32(v));
        w.u16(self.image_type);
        w.u16(self.image_index);
        w.u16(self.image_series_index);
        self.user_int.iter().for_each(|&v| w.u32(v as u32));
        self.user_float.iter().for_each(|&v| w.f32(v));
        w.u32(self.attribute_string_len);
        let mut out = [0u8; IMAGE_HEADER_BYTES];
        out.copy_from_slice(&w.0);
        out
    }

    /// Decodes the packed little-endian 198-byte image header record of the stream.
    pub fn from_bytes(bytes: &[u8; IMAGE_HEADER_BYTES]) -> Self {
        let mut r = ByteReader { buf: bytes, pos: 0 };
        let version = r.u16();
        let data_type = r.u16();
        let flags = ImageFlags(r.u64());
        let measurement_uid = r.u32();
        let matrix_size = [r.u16(), r.u16(), r.u16()];
        let field_of_view = [r.f32(), r.f32(), r.f32()];
        let channels = r.u16();
        let mut vec3 = || [r.f32(), r.f32(), r.f32()];
        let position = vec3();
        let read_dir = vec3();
        let phase_dir = vec3();
        let slice_dir = vec3();
        let patient_table_position = vec3();
        let average = r.u16();
        let slice = r.u16();
        let contrast = r.u16();
        let phase = r.u16();
        let repetition = r.u16();
        let set = r.u16();
        let acquisition_time_stamp = r.u32();
        let physiology_time_stamp = [r.u32(), r.u32(), r.u32()];
        let image_type = r.u16();
        let image_index = r.u16();
        let image_series_index = r.u16();
        let mut user_int = [0i32; 8];
        user_int.iter_mut().for_each(|v| *v = r.u32() as i32);
        let mut user_float = [0f32; 8];
        user_float.iter_mut().for_each(|v| *v = r.f32());
        let attribute_string_len = r.u32();
        ImageHeader {
            version,
            data_type,
            flags,
            measurement_uid,
            matrix_size,
            field_of_view,
            channels,
            position,
            read_dir,
            phase_dir,
            slice_dir,
            patient_table_position,
            average,
            slice,
            contrast,
            phase,
            repetition,
            set,
            acquisition_time_stamp,
            physiology_time_stamp,
            image_type,
            image_index,
            image_series_index,
            user_int,
            user_float,
            attribute_string_len,
        }
    }
}

/// One image: header, MetaAttributes XML (possibly empty) and pixels `[channels, z, y, x]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    /// The header; `data_type`, `matrix_size` and `channels` describe `data`.
    pub header: ImageHeader,
    /// The MetaAttributes XML document (`<ismrmrdMeta>…`), empty when none.
    pub attributes: String,
    /// The pixels.
    pub data: ImageData,
}

impl Image {
    /// An image from pixels `[channels, z, y, x]`: sets `data_type`, `matrix_size`, `channels`
    /// and `attribute_string_len` in `header` from the data and attributes.
    pub fn new(mut header: ImageHeader, attributes: String, data: ImageData) -> Self {
        let s = data.shape();
        header.data_type = data.data_type().code();
        header.channels = s[0] as u16;
        header.matrix_size = [s[3] as u16, s[2] as u16, s[1] as u16];
        header.attribute_string_len = attributes.len() as u32;
        Image {
            header,
            attributes,
            data,
        }
    }

    /// Checks that the header describes the data; on failure returns the field and problem.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        let h = &self.header;
        if h.data_type != self.data.data_type().code() {
            return Err((
                "data_type",
                format!(
                    "header says {} but the pixels are {}",
                    h.data_type,
                    self.data.data_type().name()
                ),
            ));
        }
        let s = self.data.shape();
        let want = [
            h.channels as usize,
            h.matrix_size[2] as usize,
            h.matrix_size[1] as usize,
            h.matrix_size[0] as usize,
        ];
        if s != want {
            return Err((
                "matrix_size",
                format!("header describes [channels, z, y, x] = {want:?} but the pixels are {s:?}"),
            ));
        }
        Ok(())
    }
}
