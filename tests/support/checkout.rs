//! Where the checkout under test is, for the files tests read at run time
//! (template, README, the emulator, the virtualenv), and its Python.

use std::path::PathBuf;

/// The checkout `cargo test` runs in (cargo sets `CARGO_MANIFEST_DIR` at run
/// time too), else the one the test was built from. Clones that share a
/// target directory share test binaries, and cargo does not rebuild one for
/// a clone whose files are older than it: the path compiled in may then be
/// another clone's.
pub(crate) fn project_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// The project virtualenv's Python (made by `make venv`), or `BCS_PYTHON`.
pub(crate) fn python() -> PathBuf {
    if let Ok(p) = std::env::var("BCS_PYTHON") {
        return PathBuf::from(p);
    }
    let p = project_dir().join(".venv/bin/python");
    assert!(
        p.exists(),
        "{} is missing: run `make venv` (make test does it for you)",
        p.display()
    );
    p
}
