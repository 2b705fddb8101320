//! Helpers shared by the test files of `accord-ismrmrd` and of the root package: the peer
//! tools (ismrmrd-python, the ISMRMRD C++ tools), skipped with a message when absent unless
//! `ACCORD_REQUIRE_INTEROP=1`, and a lock that runs HDF5 tests one at a time.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

/// Whether a missing peer tool fails the test instead of skipping it (`make test` sets it).
pub fn require_interop() -> bool {
    std::env::var("ACCORD_REQUIRE_INTEROP").is_ok_and(|v| v == "1")
}

/// The Python named by `ACCORD_PYTHON` (one with the ismrmrd package), or `None` (skip);
/// `what` names the check in the skip message.
pub fn python(what: &str) -> Option<String> {
    match std::env::var("ACCORD_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            assert!(
                !require_interop(),
                "ACCORD_REQUIRE_INTEROP=1 but ACCORD_PYTHON is not set (it must name a python with the ismrmrd package)"
            );
            println!(
                "skipped: ACCORD_PYTHON not set ({what}; make test sets it to .venv/bin/python)"
            );
            None
        }
    }
}

/// Program `name` found on `PATH`, or `None` (skip).
pub fn tool_on_path(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            !require_interop(),
            "ACCORD_REQUIRE_INTEROP=1 but {name} is not on PATH (apt-get install ismrmrd-tools)"
        );
        println!("skipped: {name} not on PATH (apt-get install ismrmrd-tools)");
    }
    found
}

/// Runs HDF5 tests one at a time. With Debian's libhdf5 1.10.8 (not built thread-safe;
/// hdf5-metno serializes each call), tests reading several files from parallel threads crashed
/// now and then inside libhdf5's variable-length conversion (about 1 run in 10, never with one
/// test thread); see the `Threads` section of `accord_ismrmrd::h5`.
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}
