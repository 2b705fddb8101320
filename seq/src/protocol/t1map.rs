//! The `t1map` kind (being written).

use serde::Deserialize;

use crate::error::{Result, SeqError};
use crate::system::System;

use super::Generated;

/// Parameters of the `t1map` kind.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {}

/// Builds the `t1map` sequence.
pub fn build(_p: &Params, _system: &System) -> Result<Generated> {
    Err(SeqError::build("kind 't1map' is not available yet"))
}
