//! File formats the reconstruction reads and writes besides ISMRMRD (the only place, with the
//! caller, where files are touched; the algorithms never do).

pub mod nifti;
pub mod npy;
