//! The loopback HTTPS peer of `tests/emulator/tls_peer.py`, for the tests of
//! what the handler's HTTP clients trust.

use serde_json::Value;

use super::ReportingScript;

/// The loopback HTTPS peer of `tests/emulator/tls_peer.py`: its certificate
/// authority, an unrelated one, and what it served.
pub struct TlsPeer {
    script: ReportingScript,
    pub port: u16,
    dir: std::path::PathBuf,
}

impl TlsPeer {
    pub fn start() -> TlsPeer {
        // Unique per peer: the suites share one test process.
        static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("bcs-tls-peer-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("peer dir");
        let script = ReportingScript::start(
            "tls_peer.py",
            &["--dir".as_ref(), dir.as_os_str()],
            std::process::Stdio::null(),
            "the TLS peer",
        );
        TlsPeer {
            port: script.port,
            script,
            dir,
        }
    }

    pub fn file(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    pub fn served(&self) -> Vec<Value> {
        self.script.lines()
    }
}

impl Drop for TlsPeer {
    fn drop(&mut self) {
        // Stopped before its directory goes.
        self.script.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
