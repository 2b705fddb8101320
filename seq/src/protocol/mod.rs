//! `seqgen` protocols: a short TOML file naming a sequence kind and its parameters in the units
//! MR physicists use (mm, ms, degrees, Hz/pixel) becomes a scanner-ready [`Sequence`] plus a
//! JSON sidecar describing the raw data the reconstruction must expect.
//!
//! Each kind lives in its own module with its own parameter struct and `build` function.

pub mod epi;
pub mod gre;
pub mod mprage;
pub mod se;
pub mod t1map;
pub mod t2map;
pub mod tse;
