//! Where the checkout under test is, for the files tests read at run time
//! (template, README, the emulator, the virtualenv).

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
