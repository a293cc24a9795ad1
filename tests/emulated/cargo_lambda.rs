//! The local loop the README documents: `make watch` (the handler under
//! `cargo lambda watch`, against the emulator) and `cargo lambda invoke` on
//! the sample events, answering their local ResponseURL. Driven here so that
//! this path cannot silently rot.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::lambda::free_port;
use crate::support::*;
use serde_json::Value;

/// `scripts/watch.py`, stopped (with its `cargo lambda watch` and emulator)
/// when dropped.
struct Watch {
    child: Child,
    run_dir: PathBuf,
}

impl Drop for Watch {
    fn drop(&mut self) {
        // SIGTERM: the script stops cargo lambda watch and the emulator.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.run_dir);
    }
}

fn cargo_lambda() -> PathBuf {
    let p = project_dir().join(".venv-tools/bin/cargo-lambda");
    assert!(
        p.exists(),
        "{} is missing: run `make tools` (make test does)",
        p.display()
    );
    p
}

fn wait_for(path: &Path, limit: Duration) -> String {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if let Ok(text) = std::fs::read_to_string(path)
            && !text.is_empty()
        {
            return text;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("{} did not appear within {limit:?}", path.display());
}

/// `cargo lambda invoke` of one localized sample event; the first one waits
/// for `cargo lambda watch` to build the function.
fn invoke(port: u16, event: &Path) {
    let tools = cargo_lambda();
    let mut child = Command::new(&tools)
        .args(["lambda", "invoke", "bootstrap", "-A", "127.0.0.1", "-P"])
        .arg(port.to_string())
        .arg("--data-file")
        .arg(event)
        .env("PATH", path_with(&tools))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cargo lambda invoke");
    let until = Instant::now() + Duration::from_secs(1200);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut e, &mut err);
            }
            assert!(
                status.success(),
                "cargo lambda invoke {} failed: {err}",
                event.display()
            );
            return;
        }
        assert!(
            Instant::now() < until,
            "cargo lambda invoke {} hung",
            event.display()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn path_with(tool: &Path) -> String {
    let dir = tool.parent().expect("bin dir").display().to_string();
    format!("{dir}:{}", std::env::var("PATH").unwrap_or_default())
}

fn answers(run_dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(run_dir.join("answers.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[test]
fn cargo_lambda_invoke_of_the_sample_events_answers_locally() {
    let tools = cargo_lambda();
    let port = free_port();
    let run_dir = std::env::temp_dir().join(format!("bcs-watch-{}", std::process::id()));
    let watch = Watch {
        child: Command::new(python())
            .current_dir(project_dir().join("scripts"))
            .arg("watch.py")
            .args(["--invoke-port", &port.to_string(), "--run-dir"])
            .arg(&run_dir)
            .arg("--cargo-lambda")
            .arg(&tools)
            .env("PATH", path_with(&tools))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("scripts/watch.py"),
        run_dir: run_dir.clone(),
    };
    let ready: Value =
        serde_json::from_str(&wait_for(&run_dir.join("ready"), Duration::from_secs(120)))
            .expect("ready");
    let until = Instant::now() + Duration::from_secs(120);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < until,
            "cargo lambda watch never listened on {port}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let events = run_dir.join("events");
    invoke(port, &events.join("create.json"));
    invoke(port, &events.join("delete.json"));
    let got = answers(&run_dir);
    assert_eq!(got.len(), 2, "one answer per event: {got:?}");
    for (a, says) in got.iter().zip(["created", "deleted"]) {
        assert_eq!(a["kind"], "answer", "{a}");
        assert_eq!(a["body"]["Status"], "SUCCESS", "{a}");
        assert!(
            a["body"]["Reason"].as_str().unwrap_or("").contains(says),
            "{a}"
        );
    }
    // Judged like every other run: nothing real AWS would refuse.
    let emulator = ready["emulator"].as_str().expect("emulator").to_string();
    let refused = reqwest::blocking_get_json(&format!("{emulator}/_emulator/violations"));
    assert_eq!(refused, Value::Array(Vec::new()), "{refused}");
    drop(watch);
}

/// A blocking GET of a JSON document (the test is not async).
mod reqwest {
    use std::io::{Read, Write};

    pub(super) fn blocking_get_json(url: &str) -> serde_json::Value {
        let rest = url.trim_start_matches("http://");
        let (addr, path) = rest.split_once('/').expect("a path");
        let mut s = std::net::TcpStream::connect(addr).expect("connect");
        write!(s, "GET /{path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").expect("write");
        let mut raw = String::new();
        s.read_to_string(&mut raw).expect("read");
        let body = raw.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        serde_json::from_str(body).expect("JSON")
    }
}
