//! Typed numeric arrays as ISMRMRD stores them: the eight element types of images and NDArrays
//! (`ISMRMRD_USHORT` … `ISMRMRD_CXDOUBLE`) behind one enum.

use ndarray::{Array, Dimension};
use num_complex::{Complex32, Complex64};
use serde::Serialize;

/// ISMRMRD element type codes (`ISMRMRD_DataTypes`), shared by images and NDArrays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[repr(u16)]
pub enum DataType {
    /// `ISMRMRD_USHORT`, u16.
    U16 = 1,
    /// `ISMRMRD_SHORT`, i16.
    I16 = 2,
    /// `ISMRMRD_UINT`, u32.
    U32 = 3,
    /// `ISMRMRD_INT`, i32.
    I32 = 4,
    /// `ISMRMRD_FLOAT`, f32.
    F32 = 5,
    /// `ISMRMRD_DOUBLE`, f64.
    F64 = 6,
    /// `ISMRMRD_CXFLOAT`, complex f32.
    C32 = 7,
    /// `ISMRMRD_CXDOUBLE`, complex f64.
    C64 = 8,
}

impl DataType {
    /// The type for an ISMRMRD code, if it is one.
    pub fn from_code(code: u16) -> Option<Self> {
        Some(match code {
            1 => DataType::U16,
            2 => DataType::I16,
            3 => DataType::U32,
            4 => DataType::I32,
            5 => DataType::F32,
            6 => DataType::F64,
            7 => DataType::C32,
            8 => DataType::C64,
            _ => return None,
        })
    }

    /// The ISMRMRD code.
    pub fn code(self) -> u16 {
        self as u16
    }

    /// Short lowercase name (`u16`, …, `complex64`).
    pub fn name(self) -> &'static str {
        match self {
            DataType::U16 => "u16",
            DataType::I16 => "i16",
            DataType::U32 => "u32",
            DataType::I32 => "i32",
            DataType::F32 => "f32",
            DataType::F64 => "f64",
            DataType::C32 => "complex64",
            DataType::C64 => "complex128",
        }
    }
}

/// An n-dimensional array of one of the ISMRMRD element types.
#[derive(Debug, Clone, PartialEq)]
pub enum ArrayData<D: Dimension> {
    /// u16 elements.
    U16(Array<u16, D>),
    /// i16 elements.
    I16(Array<i16, D>),
    /// u32 elements.
    U32(Array<u32, D>),
    /// i32 elements.
    I32(Array<i32, D>),
    /// f32 elements.
    F32(Array<f32, D>),
    /// f64 elements.
    F64(Array<f64, D>),
    /// complex f32 elements.
    C32(Array<Complex32, D>),
    /// complex f64 elements.
    C64(Array<Complex64, D>),
}

/// Applies `$body` to the inner array of an [`ArrayData`], whatever its element type.
macro_rules! with_array {
    ($value:expr, $a:ident => $body:expr) => {
        match $value {
            $crate::array::ArrayData::U16($a) => $body,
            $crate::array::ArrayData::I16($a) => $body,
            $crate::array::ArrayData::U32($a) => $body,
            $crate::array::ArrayData::I32($a) => $body,
            $crate::array::ArrayData::F32($a) => $body,
            $crate::array::ArrayData::F64($a) => $body,
            $crate::array::ArrayData::C32($a) => $body,
            $crate::array::ArrayData::C64($a) => $body,
        }
    };
}

impl<D: Dimension> ArrayData<D> {
    /// The element type.
    pub fn data_type(&self) -> DataType {
        match self {
            ArrayData::U16(_) => DataType::U16,
            ArrayData::I16(_) => DataType::I16,
            ArrayData::U32(_) => DataType::U32,
            ArrayData::I32(_) => DataType::I32,
            ArrayData::F32(_) => DataType::F32,
            ArrayData::F64(_) => DataType::F64,
            ArrayData::C32(_) => DataType::C32,
            ArrayData::C64(_) => DataType::C64,
        }
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        with_array!(self, a => a.shape())
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        with_array!(self, a => a.len())
    }

    /// Whether the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The same array with a dynamic number of dimensions.
    pub fn into_dyn(self) -> ArrayData<ndarray::IxDyn> {
        match self {
            ArrayData::U16(a) => ArrayData::U16(a.into_dyn()),
            ArrayData::I16(a) => ArrayData::I16(a.into_dyn()),
            ArrayData::U32(a) => ArrayData::U32(a.into_dyn()),
            ArrayData::I32(a) => ArrayData::I32(a.into_dyn()),
            ArrayData::F32(a) => ArrayData::F32(a.into_dyn()),
            ArrayData::F64(a) => ArrayData::F64(a.into_dyn()),
            ArrayData::C32(a) => ArrayData::C32(a.into_dyn()),
            ArrayData::C64(a) => ArrayData::C64(a.into_dyn()),
        }
    }

    /// The values as complex f64 in logical (row-major) order; handy for comparisons.
    pub fn to_complex64_vec(&self) -> Vec<Complex64> {
        match self {
            ArrayData::U16(a) => a.iter().map(|&v| Complex64::new(v as f64, 0.0)).collect(),
            ArrayData::I16(a) => a.iter().map(|&v| Complex64::new(v as f64, 0.0)).collect(),
            ArrayData::U32(a) => a.iter().map(|&v| Complex64::new(v as f64, 0.0)).collect(),
            ArrayData::I32(a) => a.iter().map(|&v| Complex64::new(v as f64, 0.0)).collect(),
            ArrayData::F32(a) => a.iter().map(|&v| Complex64::new(v as f64, 0.0)).collect(),
            ArrayData::F64(a) => a.iter().map(|&v| Complex64::new(v, 0.0)).collect(),
            ArrayData::C32(a) => a
                .iter()
                .map(|v| Complex64::new(v.re as f64, v.im as f64))
                .collect(),
            ArrayData::C64(a) => a.iter().copied().collect(),
        }
    }
}
