//! One module per `accord` subcommand.

pub mod info;
