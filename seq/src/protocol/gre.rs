//! The `gre` kind (being written).

use serde::Deserialize;

use crate::error::{Result, SeqError};
use crate::system::System;

use super::Generated;

/// Parameters of the `gre` kind.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {}

/// Builds the `gre` sequence.
pub fn build(_p: &Params, _system: &System) -> Result<Generated> {
    Err(SeqError::build("kind 'gre' is not available yet"))
}
