//! (being written) — temporary placeholder so that the protocol dispatcher compiles; the
//! `se` kind's author replaces this file.

use serde::Deserialize;

use crate::error::{Result, SeqError};
use crate::system::System;

use super::Generated;

/// Parameters of the `se` kind (placeholder).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {}

/// Builds the `se` sequence (placeholder: not available yet).
pub fn build(_p: &Params, _system: &System) -> Result<Generated> {
    Err(SeqError::build("kind 'se' is not available yet"))
}

/// Builds an inversion-recovery spin echo at the given TIs (placeholder: not available yet).
pub fn build_ir_se(
    _p: &Params,
    _tis: &[crate::time::Nanos],
    _system: &System,
) -> Result<Generated> {
    Err(SeqError::build("t1map method 'ir-se' is not available yet"))
}
