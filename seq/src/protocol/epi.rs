//! (being written) — temporary placeholder so that the protocol dispatcher compiles; the
//! `epi` kind's author replaces this file.

use serde::Deserialize;

use crate::error::{Result, SeqError};
use crate::system::System;

use super::Generated;

/// Parameters of the `epi` kind (placeholder).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {}

/// Builds the `epi` sequence (placeholder: not available yet).
pub fn build(_p: &Params, _system: &System) -> Result<Generated> {
    Err(SeqError::build("kind 'epi' is not available yet"))
}
