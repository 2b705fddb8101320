//! Pulseq sequences for Accord: events, system limits, builders, timing checks and `.seq`
//! read/write. The crate is created with the workspace; its contents arrive with the Pulseq issue.
