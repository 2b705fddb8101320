//! (being written) — temporary placeholder so that the protocol dispatcher compiles; the
//! `tse` kind's author replaces this file.

use serde::Deserialize;

use crate::error::{Result, SeqError};
use crate::system::System;

use super::Generated;

/// Parameters of the `tse` kind (placeholder).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {}

/// Builds the `tse` sequence (placeholder: not available yet).
pub fn build(_p: &Params, _system: &System) -> Result<Generated> {
    Err(SeqError::build("kind 'tse' is not available yet"))
}
