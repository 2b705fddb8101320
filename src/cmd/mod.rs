//! One module per `accord` subcommand.

pub mod analyze;
pub mod info;
pub mod qa;
pub mod recon;
pub mod seq;
