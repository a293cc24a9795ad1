//! The fake Lambda Runtime API (tests/emulator/runtime_api.py, shared with
//! the scripts) and a fake ResponseURL, both on loopback, so the real
//! bootstrap binary runs unmodified.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

// A small HTTP/1.1 server of its own, on tokio's TcpListener, rather than
// hyper's: hyper's `server` feature in the dev-dependencies changed the
// feature set of the hyper every AWS SDK crate is built on, so the test
// build and a plain `cargo build --bin bootstrap` (which `cargo lambda
// watch` runs) compiled the whole SDK twice (issue 20).

/// A request as the fake ResponseURL reads it.
pub struct Parts {
    pub method: String,
    pub path_and_query: String,
    headers: Vec<(String, String)>,
}

impl Parts {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub struct Reply {
    status: u16,
    body: Vec<u8>,
}

fn reply(status: u16, body: impl Into<Vec<u8>>) -> Reply {
    Reply {
        status,
        body: body.into(),
    }
}

/// Serves `handler` at `bind` until the test ends.
async fn serve_at<H, F>(bind: &str, handler: H) -> SocketAddr
where
    H: Fn(Parts, Vec<u8>) -> F + Clone + Send + Sync + 'static,
    F: std::future::Future<Output = Reply> + Send + 'static,
{
    let listener = TcpListener::bind(bind).await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let handler = handler.clone();
            tokio::spawn(async move {
                let _ = serve_connection(stream, handler).await;
            });
        }
    });
    addr
}

/// Requests on one kept-alive connection, answered in turn, until the
/// client closes it.
async fn serve_connection<H, F>(stream: TcpStream, handler: H) -> std::io::Result<()>
where
    H: Fn(Parts, Vec<u8>) -> F,
    F: std::future::Future<Output = Reply>,
{
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    loop {
        let mut line = String::new();
        if read.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let mut words = line.split_whitespace();
        let method = words.next().unwrap_or_default().to_string();
        let path_and_query = words.next().unwrap_or_default().to_string();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if read.read_line(&mut h).await? == 0 {
                return Ok(());
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.trim().to_string(), v.trim().to_string()));
            }
        }
        let parts = Parts {
            method,
            path_and_query,
            headers,
        };
        let body = read_body(&mut read, &parts).await?;
        let r = handler(parts, body).await;
        let mut head = format!(
            "HTTP/1.1 {} {}\r\ncontent-length: {}\r\n",
            r.status,
            reason(r.status),
            r.body.len()
        );
        head.push_str("\r\n");
        write.write_all(head.as_bytes()).await?;
        write.write_all(&r.body).await?;
        write.flush().await?;
    }
}

async fn read_body<R: AsyncBufReadExt + Unpin>(
    read: &mut R,
    parts: &Parts,
) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    if parts
        .header("transfer-encoding")
        .is_some_and(|t| t.eq_ignore_ascii_case("chunked"))
    {
        loop {
            let mut size = String::new();
            read.read_line(&mut size).await?;
            let n = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)
                .unwrap_or(0);
            let mut chunk = vec![0; n + 2];
            read.read_exact(&mut chunk).await?;
            if n == 0 {
                return Ok(body);
            }
            body.extend_from_slice(&chunk[..n]);
        }
    }
    let n = parts
        .header("content-length")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    body.resize(n, 0);
    read.read_exact(&mut body).await?;
    Ok(body)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        202 => "Accepted",
        404 => "Not Found",
        405 => "Method Not Allowed",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// One PUT the ResponseURL received.
#[derive(Debug, Clone)]
pub struct Answer {
    pub path_and_query: String,
    pub content_type: Option<String>,
    pub body: String,
    /// When it arrived.
    pub received_at: std::time::Instant,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("answer body is JSON")
    }
}

/// A loopback port nothing listens on (now).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A pre-signed URL of the shape CloudFormation sends, at `addr`.
pub fn response_url(addr: SocketAddr, name: &str) -> String {
    format!(
        "http://{addr}/arn%3Aaws%3Acloudformation%3Aus-east-1%3A123456789012%3Astack/demo/{name}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20261125T000000Z&{SIGNATURE}"
    )
}

/// The pre-signed S3 URL CloudFormation would wait on.
#[derive(Clone)]
pub struct ResponseReceiver {
    pub addr: SocketAddr,
    answers: Arc<Mutex<Vec<Answer>>>,
    attempts: Arc<Mutex<u32>>,
    arrived: Arc<Notify>,
}

pub const SIGNATURE: &str = "X-Amz-Signature=5ecre7deadbeef0123456789";

impl ResponseReceiver {
    /// Answers 503 to the first `failures` attempts, 200 after.
    pub async fn start(failures: u32) -> ResponseReceiver {
        ResponseReceiver::start_at("127.0.0.1:0", failures).await
    }

    /// A receiver on a given port (which may have refused connections
    /// before it started).
    pub async fn start_on(port: u16, failures: u32) -> ResponseReceiver {
        ResponseReceiver::start_at(&format!("127.0.0.1:{port}"), failures).await
    }

    /// Holds the first `stalls` attempts open for `stall` without an
    /// answer (a PUT that hangs), then answers 200 after.
    pub async fn start_stalling(stalls: u32, stall: Duration) -> ResponseReceiver {
        ResponseReceiver::start_with("127.0.0.1:0", 0, (stalls, stall)).await
    }

    async fn start_at(bind: &str, failures: u32) -> ResponseReceiver {
        ResponseReceiver::start_with(bind, failures, (0, Duration::ZERO)).await
    }

    async fn start_with(
        bind: &str,
        failures: u32,
        (stalls, stall): (u32, Duration),
    ) -> ResponseReceiver {
        let answers = Arc::new(Mutex::new(Vec::new()));
        let attempts = Arc::new(Mutex::new(0u32));
        let arrived = Arc::new(Notify::new());
        let (a, n, t) = (answers.clone(), arrived.clone(), attempts.clone());
        let addr = serve_at(bind, move |parts: Parts, body: Vec<u8>| {
            let (a, n, t) = (a.clone(), n.clone(), t.clone());
            async move {
                let attempt = {
                    let mut t = t.lock().expect("lock");
                    *t += 1;
                    *t
                };
                if parts.method != "PUT" {
                    return reply(405, "");
                }
                if attempt <= failures {
                    return reply(503, "try again");
                }
                if attempt <= stalls {
                    // Whatever arrives here is lost: the client gave up.
                    tokio::time::sleep(stall).await;
                    return reply(503, "too late");
                }
                a.lock().expect("lock").push(Answer {
                    received_at: std::time::Instant::now(),
                    path_and_query: parts.path_and_query.clone(),
                    content_type: parts.header("content-type").map(str::to_string),
                    body: String::from_utf8_lossy(&body).into_owned(),
                });
                n.notify_waiters();
                reply(200, "")
            }
        })
        .await;
        ResponseReceiver {
            addr,
            answers,
            attempts,
            arrived,
        }
    }

    /// A URL shaped like CloudFormation's, with a signature that must never
    /// be logged.
    pub fn url(&self, name: &str) -> String {
        response_url(self.addr, name)
    }

    pub fn answers(&self) -> Vec<Answer> {
        self.answers.lock().expect("lock").clone()
    }

    pub fn attempts(&self) -> u32 {
        *self.attempts.lock().expect("lock")
    }

    /// Waits for `n` answers, up to `timeout`.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Answer> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let now = self.answers();
            if now.len() >= n || tokio::time::Instant::now() >= deadline {
                return now;
            }
            let _ = tokio::time::timeout(Duration::from_millis(100), self.arrived.notified()).await;
        }
    }
}

/// What the function reported back to the Runtime API for one invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reported {
    Response(String),
    Error(String),
}

/// The fake Lambda Runtime API of `tests/emulator/runtime_api.py`, the one
/// the scripts use too, run as a process of this test: invocations go to its
/// stdin, the function's reports come back on its stdout.
#[derive(Clone)]
pub struct FakeRuntime {
    pub addr: SocketAddr,
    process: Arc<RuntimeProcess>,
}

struct RuntimeProcess {
    script: super::ReportingScript,
    invocations: Mutex<std::process::ChildStdin>,
}

impl FakeRuntime {
    pub async fn start() -> FakeRuntime {
        let mut script = super::ReportingScript::start(
            "runtime_api.py",
            &["--port".as_ref(), "0".as_ref()],
            Stdio::piped(),
            "the fake Runtime API",
        );
        let invocations = script.take_stdin();
        FakeRuntime {
            addr: SocketAddr::from(([127, 0, 0, 1], script.port)),
            process: Arc::new(RuntimeProcess {
                script,
                invocations: Mutex::new(invocations),
            }),
        }
    }

    /// Queues an event with Lambda's deadline `timeout` from now.
    pub fn invoke(&self, id: &str, event: &Value, timeout: Duration) {
        use std::io::Write;
        let deadline_ms = (SystemTime::now() + timeout)
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_millis();
        let line = serde_json::json!({ "id": id, "event": event, "deadline_ms": deadline_ms });
        let mut stdin = self.process.invocations.lock().expect("lock");
        writeln!(stdin, "{line}")
            .and_then(|()| stdin.flush())
            .expect("queue the invocation");
    }

    /// What the function reported, in order: one JSON line of the script
    /// each, `{"id", "kind": "response"|"error", "body"}`.
    pub fn reported(&self) -> Vec<(String, Reported)> {
        self.process
            .script
            .lines()
            .iter()
            .map(|entry| {
                let body = entry["body"].as_str().unwrap_or_default().to_string();
                let report = match entry["kind"].as_str() {
                    Some("response") => Reported::Response(body),
                    _ => Reported::Error(body),
                };
                let id = entry["id"].as_str().unwrap_or_default().to_string();
                (id, report)
            })
            .collect()
    }

    pub async fn wait_reported(&self, n: usize, timeout: Duration) -> Vec<(String, Reported)> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let now = self.reported();
            if now.len() >= n || tokio::time::Instant::now() >= deadline {
                return now;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The bootstrap binary running under the fake runtime; its output goes to
/// files so that tests can read every log line.
pub struct Function {
    child: Child,
    pub log_path: PathBuf,
}

impl Function {
    pub fn start(
        binary: &Path,
        runtime: &FakeRuntime,
        aws_endpoint: Option<&str>,
        log_name: &str,
    ) -> Function {
        Function::start_with_env(binary, runtime, aws_endpoint, log_name, &[])
    }

    /// The same, with more of the environment set (the system's trust
    /// store, say).
    pub fn start_with_env(
        binary: &Path,
        runtime: &FakeRuntime,
        aws_endpoint: Option<&str>,
        log_name: &str,
        extra: &[(&str, &str)],
    ) -> Function {
        let log_path =
            std::env::temp_dir().join(format!("bcs-{}-{log_name}.log", std::process::id()));
        let log = std::fs::File::create(&log_path).expect("log file");
        let err = log.try_clone().expect("log file");
        let mut cmd = Command::new(binary);
        cmd.env_clear()
            .envs(super::deployment().function_env(&runtime.addr.to_string()))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "stream")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bedrock-setup")
            .env("ASSUME_ROLE_RETRY_SECONDS", "2")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(err));
        if let Some(e) = aws_endpoint {
            cmd.env("AWS_ENDPOINT_URL", e);
        }
        cmd.envs(extra.iter().copied());
        Function {
            child: cmd.spawn().expect("start bootstrap"),
            log_path,
        }
    }

    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log_path);
    }
}
