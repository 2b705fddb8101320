//! The `mprage` kind (being written).

use serde::Deserialize;

use crate::error::{Result, SeqError};
use crate::system::System;

use super::Generated;

/// Parameters of the `mprage` kind.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {}

/// Builds the `mprage` sequence.
pub fn build(_p: &Params, _system: &System) -> Result<Generated> {
    Err(SeqError::build("kind 'mprage' is not available yet"))
}
