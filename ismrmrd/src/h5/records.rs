//! HDF5 record types of the ISMRMRD layout, the on-disk (file) types Accord writes, and the
//! member-by-name compatibility check that turns a malformed compound into a clear error.

use hdf5::H5Type;
use hdf5::types::{CompoundField, CompoundType, FloatSize, TypeDescriptor, VarLenArray};
use num_complex::{Complex32, Complex64};

use crate::acquisition::AcquisitionHeader;
use crate::waveform::WaveformHeader;

/// `<g>/data` record with trajectory (memory layout; HDF5 converts from the file by name).
#[derive(hdf5::H5Type)]
#[repr(C)]
pub(crate) struct AcquisitionRecord {
    pub head: AcquisitionHeader,
    pub traj: VarLenArray<f32>,
    pub data: VarLenArray<f32>,
}

/// `<g>/data` record of files without a `traj` member.
#[derive(hdf5::H5Type)]
#[repr(C)]
pub(crate) struct AcquisitionRecordNoTraj {
    pub head: AcquisitionHeader,
    pub data: VarLenArray<f32>,
}

/// Only the header of a `<g>/data` record: HDF5 then skips the variable-length payloads.
#[derive(hdf5::H5Type, Clone, Copy)]
#[repr(C)]
pub(crate) struct AcquisitionHeadRecord {
    pub head: AcquisitionHeader,
}

/// `<g>/waveforms` record.
#[derive(hdf5::H5Type)]
#[repr(C)]
pub(crate) struct WaveformRecord {
    pub head: WaveformHeader,
    pub data: VarLenArray<u32>,
}

/// Complex f32 as ISMRMRD stores it in images and NDArrays: compound `{real, imag}`.
#[derive(hdf5::H5Type, Clone, Copy, Default)]
#[repr(C)]
pub(crate) struct ComplexF32Record {
    pub real: f32,
    pub imag: f32,
}

/// Complex f64 as ISMRMRD stores it: compound `{real, imag}`.
#[derive(hdf5::H5Type, Clone, Copy, Default)]
#[repr(C)]
pub(crate) struct ComplexF64Record {
    pub real: f64,
    pub imag: f64,
}

impl From<ComplexF32Record> for Complex32 {
    fn from(c: ComplexF32Record) -> Self {
        Complex32::new(c.real, c.imag)
    }
}
impl From<ComplexF64Record> for Complex64 {
    fn from(c: ComplexF64Record) -> Self {
        Complex64::new(c.real, c.imag)
    }
}

/// The file type of `<g>/data` written by the ISMRMRD C library: the packed 340-byte header,
/// then `traj` at byte 344 and `data` at byte 360 (376-byte records).
pub(crate) fn acquisition_file_type() -> TypeDescriptor {
    let head = AcquisitionHeader::type_descriptor().to_packed_repr();
    let vlen = TypeDescriptor::VarLenArray(Box::new(TypeDescriptor::Float(FloatSize::U4)));
    TypeDescriptor::Compound(CompoundType {
        fields: vec![
            CompoundField::new("head", head, 0, 0),
            CompoundField::new("traj", vlen.clone(), 344, 1),
            CompoundField::new("data", vlen, 360, 2),
        ],
        size: 376,
    })
}

/// The file type of an image series' `header`: the packed 198-byte image header.
pub(crate) fn image_header_file_type() -> TypeDescriptor {
    crate::image::ImageHeader::type_descriptor().to_packed_repr()
}

/// Checks that every member the reader needs (`want`, a memory type) exists in the file type
/// `have` with a convertible class. Returns the dotted member path and problem on failure.
pub(crate) fn check_members(
    have: &TypeDescriptor,
    want: &TypeDescriptor,
    path: &str,
) -> Result<(), String> {
    use TypeDescriptor as T;
    let here = if path.is_empty() {
        "record".to_string()
    } else {
        format!("member '{path}'")
    };
    match (have, want) {
        (T::Compound(h), T::Compound(w)) => {
            for wf in &w.fields {
                let sub = if path.is_empty() {
                    wf.name.clone()
                } else {
                    format!("{path}.{}", wf.name)
                };
                let Some(hf) = h.fields.iter().find(|f| f.name == wf.name) else {
                    let present: Vec<_> = h.fields.iter().map(|f| f.name.as_str()).collect();
                    return Err(format!(
                        "compound member '{sub}' is missing (members present: {})",
                        present.join(", ")
                    ));
                };
                check_members(&hf.ty, &wf.ty, &sub)?;
            }
            Ok(())
        }
        (T::FixedArray(h, hn), T::FixedArray(w, wn)) => {
            if hn != wn {
                return Err(format!("{here} has {hn} elements, expected {wn}"));
            }
            check_members(h, w, path)
        }
        (T::VarLenArray(h), T::VarLenArray(w)) => check_members(h, w, path),
        (T::Integer(_) | T::Unsigned(_), T::Integer(_) | T::Unsigned(_)) => Ok(()),
        (T::Float(_), T::Float(_)) => Ok(()),
        (h, w) => Err(format!("{here} is stored as {h}, expected {w}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_types_match_the_c_library() {
        let head = AcquisitionHeader::type_descriptor().to_packed_repr();
        assert_eq!(head.size(), 340);
        assert_eq!(acquisition_file_type().size(), 376);
        assert_eq!(image_header_file_type().size(), 198);
        assert_eq!(WaveformHeader::type_descriptor().size(), 40);
    }

    #[test]
    fn missing_member_is_named() {
        let want = AcquisitionRecord::type_descriptor();
        let TypeDescriptor::Compound(mut c) = acquisition_file_type() else {
            unreachable!()
        };
        let TypeDescriptor::Compound(head) = &mut c.fields[0].ty else {
            unreachable!()
        };
        head.fields.retain(|f| f.name != "center_sample");
        let err = check_members(&TypeDescriptor::Compound(c), &want, "").unwrap_err();
        assert!(err.contains("'head.center_sample' is missing"), "{err}");
    }
}
