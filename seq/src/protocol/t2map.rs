//! (being written) — temporary placeholder so that the protocol dispatcher compiles; the
//! `t2map` kind's author replaces this file.

use serde::Deserialize;

use crate::error::{Result, SeqError};
use crate::system::System;

use super::Generated;

/// Parameters of the `t2map` kind (placeholder).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {}

/// Builds the `t2map` sequence (placeholder: not available yet).
pub fn build(_p: &Params, _system: &System) -> Result<Generated> {
    Err(SeqError::build("kind 't2map' is not available yet"))
}
