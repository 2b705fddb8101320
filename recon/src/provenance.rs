//! Provenance: what made an output. Every image Accord writes carries a JSON sidecar with the
//! resolved configuration and its hash, the Accord version, the input file's hash, the backend
//! and what each stage decided (e.g. prewhitening skipped for lack of noise readouts), so that
//! an image can be traced to, and reproduced from, its inputs.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::ReconConfig;

/// The sidecar schema name.
pub const PROVENANCE_SCHEMA: &str = "accord-recon-provenance/1";

/// One stage as it ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageRecord {
    /// The stage's `kind`.
    pub kind: String,
    /// What it did with these data (sizes, iterations run, skipped and why).
    pub decision: String,
}

/// The provenance sidecar of one output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// [`PROVENANCE_SCHEMA`].
    pub schema: String,
    /// Accord's version.
    pub accord_version: String,
    /// The input raw-data file as given.
    pub input_file: String,
    /// SHA-256 of the input file's bytes.
    pub input_sha256: String,
    /// The resolved configuration (every default written out).
    pub config_toml: String,
    /// SHA-256 of `config_toml`.
    pub config_sha256: String,
    /// The backend that ran (`cpu`, `cuda:0`).
    pub backend: String,
    /// The stages as they ran.
    pub stages: Vec<StageRecord>,
    /// Shape of the written array (C order).
    pub output_shape: Vec<usize>,
    /// Element type written (`float32` magnitude or `complex64`).
    pub output_dtype: String,
    /// Axis names of the output, outermost first (e.g. `["slice", "contrast", "y", "x"]`).
    pub output_axes: Vec<String>,
}

impl Provenance {
    /// A record for `config` run on `backend` over the input with hash `input_sha256`.
    pub fn new(config: &ReconConfig, backend: &str, input_file: &str, input_sha256: &str) -> Self {
        let config_toml = config.resolved_toml();
        Provenance {
            schema: PROVENANCE_SCHEMA.into(),
            accord_version: env!("CARGO_PKG_VERSION").into(),
            input_file: input_file.into(),
            input_sha256: input_sha256.into(),
            config_sha256: sha256_hex(config_toml.as_bytes()),
            config_toml,
            backend: backend.into(),
            stages: Vec::new(),
            output_shape: Vec::new(),
            output_dtype: String::new(),
            output_axes: Vec::new(),
        }
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_record() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let c = ReconConfig::from_toml("schema_version = 1\n[[stage]]\nkind = \"combine\"\n", "c")
            .unwrap();
        let p = Provenance::new(&c, "cpu", "in.h5", "00");
        assert_eq!(p.config_sha256, sha256_hex(c.resolved_toml().as_bytes()));
        let back: Provenance = serde_json::from_str(&p.to_json()).unwrap();
        assert_eq!(back, p);
    }
}
