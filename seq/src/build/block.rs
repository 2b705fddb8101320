//! [`SequenceBuilder`]: pypulseq's `Sequence.add_block` (being written).

use crate::build::Event;
use crate::error::Result;
use crate::sequence::{DefValue, Sequence};
use crate::system::System;
use crate::time::Nanos;

/// Builds a [`Sequence`] block by block.
#[derive(Debug, Clone)]
pub struct SequenceBuilder {
    seq: Sequence,
    system: System,
}

impl SequenceBuilder {
    /// An empty sequence for `system` (raster definitions set).
    pub fn new(system: &System) -> Self {
        SequenceBuilder {
            seq: Sequence::default(),
            system: system.clone(),
        }
    }
    /// Appends one block made of `events`.
    pub fn add_block(&mut self, events: &[Event]) -> Result<()> {
        let _ = (events, &self.system);
        unimplemented!("being written")
    }
    /// Sets (or replaces) a `[DEFINITIONS]` entry.
    pub fn set_definition(&mut self, key: &str, value: DefValue) {
        let _ = (key, value);
        unimplemented!("being written")
    }
    /// Total duration so far.
    pub fn duration(&self) -> Nanos {
        self.seq.total_duration()
    }
    /// Number of blocks so far.
    pub fn n_blocks(&self) -> usize {
        self.seq.blocks.len()
    }
    /// The sequence built so far.
    pub fn sequence(&self) -> &Sequence {
        &self.seq
    }
    /// Finishes: sets `TotalDuration` and returns the sequence.
    pub fn finish(self) -> Sequence {
        self.seq
    }
}
