//! The loopback HTTPS peer of `tests/emulator/tls_peer.py`, for the tests of
//! what the handler's HTTP clients trust.

use std::io::BufRead;

use serde_json::Value;

use super::{project_dir, python, reported_port};

/// The loopback HTTPS peer of `tests/emulator/tls_peer.py`: its certificate
/// authority, an unrelated one, and what it served.
pub struct TlsPeer {
    child: std::process::Child,
    pub port: u16,
    dir: std::path::PathBuf,
    log: std::sync::Arc<std::sync::Mutex<Vec<Value>>>,
}

impl TlsPeer {
    pub fn start() -> TlsPeer {
        // Unique per peer: the suites share one test process.
        static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("bcs-tls-peer-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("peer dir");
        let mut child = std::process::Command::new(python())
            .arg(project_dir().join("tests/emulator/tls_peer.py"))
            .arg("--dir")
            .arg(&dir)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("start the TLS peer");
        let mut stdout = std::io::BufReader::new(child.stdout.take().expect("stdout"));
        let port = reported_port(&mut stdout)
            .unwrap_or_else(|line| panic!("the TLS peer did not start: {line:?}"));
        let lines = stdout.lines();
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    sink.lock().expect("lock").push(v);
                }
            }
        });
        TlsPeer {
            child,
            port,
            dir,
            log,
        }
    }

    pub fn file(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    pub fn served(&self) -> Vec<Value> {
        self.log.lock().expect("lock").clone()
    }
}

impl Drop for TlsPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
