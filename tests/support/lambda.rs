//! A fake Lambda Runtime API and a fake ResponseURL, both on loopback, so
//! the real bootstrap binary runs unmodified.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::http::request::Parts;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::Notify;

type Reply = Response<Full<Bytes>>;

fn reply(status: StatusCode, body: impl Into<Bytes>) -> Reply {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r
}

/// Serves `handler` on a free loopback port until the test ends.
async fn serve<H, F>(handler: H) -> SocketAddr
where
    H: Fn(Parts, Bytes) -> F + Clone + Send + Sync + 'static,
    F: std::future::Future<Output = Reply> + Send + 'static,
{
    serve_at("127.0.0.1:0", handler).await
}

async fn serve_at<H, F>(bind: &str, handler: H) -> SocketAddr
where
    H: Fn(Parts, Bytes) -> F + Clone + Send + Sync + 'static,
    F: std::future::Future<Output = Reply> + Send + 'static,
{
    let listener = TcpListener::bind(bind).await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let handler = handler.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: Request<Incoming>| {
                    let handler = handler.clone();
                    async move {
                        let (parts, body) = req.into_parts();
                        let bytes = body
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        Ok::<_, Infallible>(handler(parts, bytes).await)
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    addr
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

    async fn start_at(bind: &str, failures: u32) -> ResponseReceiver {
        let answers = Arc::new(Mutex::new(Vec::new()));
        let attempts = Arc::new(Mutex::new(0u32));
        let arrived = Arc::new(Notify::new());
        let (a, n, t) = (answers.clone(), arrived.clone(), attempts.clone());
        let addr = serve_at(bind, move |parts: Parts, body: Bytes| {
            let (a, n, t) = (a.clone(), n.clone(), t.clone());
            async move {
                let attempt = {
                    let mut t = t.lock().expect("lock");
                    *t += 1;
                    *t
                };
                if parts.method != hyper::Method::PUT {
                    return reply(StatusCode::METHOD_NOT_ALLOWED, "");
                }
                if attempt <= failures {
                    return reply(StatusCode::SERVICE_UNAVAILABLE, "try again");
                }
                a.lock().expect("lock").push(Answer {
                    received_at: std::time::Instant::now(),
                    path_and_query: parts
                        .uri
                        .path_and_query()
                        .map(|p| p.to_string())
                        .unwrap_or_default(),
                    content_type: parts
                        .headers
                        .get("content-type")
                        .map(|v| v.to_str().unwrap_or("?").to_string()),
                    body: String::from_utf8_lossy(&body).into_owned(),
                });
                n.notify_waiters();
                reply(StatusCode::OK, "")
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

struct Invocation {
    id: String,
    deadline_ms: u128,
    event: Value,
}

#[derive(Clone)]
pub struct FakeRuntime {
    pub addr: SocketAddr,
    queue: Arc<Mutex<VecDeque<Invocation>>>,
    queued: Arc<Notify>,
    reported: Arc<Mutex<Vec<(String, Reported)>>>,
    pub first_next_at: Arc<Mutex<Option<std::time::Instant>>>,
}

impl FakeRuntime {
    pub async fn start() -> FakeRuntime {
        let queue: Arc<Mutex<VecDeque<Invocation>>> = Arc::new(Mutex::new(VecDeque::new()));
        let queued = Arc::new(Notify::new());
        let reported = Arc::new(Mutex::new(Vec::new()));
        let first_next_at = Arc::new(Mutex::new(None));
        let (q, qn, r, f) = (
            queue.clone(),
            queued.clone(),
            reported.clone(),
            first_next_at.clone(),
        );
        let addr = serve(move |parts: Parts, body: Bytes| {
            let (q, qn, r, f) = (q.clone(), qn.clone(), r.clone(), f.clone());
            async move {
                let path = parts.uri.path().to_string();
                if path == "/2018-06-01/runtime/invocation/next" {
                    f.lock()
                        .expect("lock")
                        .get_or_insert_with(std::time::Instant::now);
                    // Long poll, as Lambda does, until an event is queued.
                    let inv = loop {
                        let notified = qn.notified();
                        if let Some(inv) = q.lock().expect("lock").pop_front() {
                            break inv;
                        }
                        notified.await;
                    };
                    let mut resp = reply(StatusCode::OK, inv.event.to_string());
                    let h = resp.headers_mut();
                    h.insert(
                        "lambda-runtime-aws-request-id",
                        inv.id.parse().expect("hdr"),
                    );
                    h.insert(
                        "lambda-runtime-deadline-ms",
                        inv.deadline_ms.to_string().parse().expect("hdr"),
                    );
                    h.insert(
                        "lambda-runtime-invoked-function-arn",
                        "arn:aws:lambda:us-east-1:123456789012:function:bedrock-setup"
                            .parse()
                            .expect("hdr"),
                    );
                    h.insert(
                        "lambda-runtime-trace-id",
                        "Root=1-00000000-000000000000000000000000;Sampled=0"
                            .parse()
                            .expect("hdr"),
                    );
                    return resp;
                }
                let text = String::from_utf8_lossy(&body).into_owned();
                if let Some(rest) = path.strip_prefix("/2018-06-01/runtime/invocation/") {
                    if let Some(id) = rest.strip_suffix("/response") {
                        r.lock()
                            .expect("lock")
                            .push((id.to_string(), Reported::Response(text)));
                        return reply(StatusCode::ACCEPTED, "{}");
                    }
                    if let Some(id) = rest.strip_suffix("/error") {
                        r.lock()
                            .expect("lock")
                            .push((id.to_string(), Reported::Error(text)));
                        return reply(StatusCode::ACCEPTED, "{}");
                    }
                }
                if path == "/2018-06-01/runtime/init/error" {
                    r.lock()
                        .expect("lock")
                        .push(("init".to_string(), Reported::Error(text)));
                    return reply(StatusCode::ACCEPTED, "{}");
                }
                reply(StatusCode::NOT_FOUND, "")
            }
        })
        .await;
        FakeRuntime {
            addr,
            queue,
            queued,
            reported,
            first_next_at,
        }
    }

    /// Queues an event with Lambda's deadline `timeout` from now.
    pub fn invoke(&self, id: &str, event: Value, timeout: Duration) {
        let deadline = SystemTime::now() + timeout;
        let deadline_ms = deadline
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_millis();
        self.queue.lock().expect("lock").push_back(Invocation {
            id: id.to_string(),
            deadline_ms,
            event,
        });
        self.queued.notify_waiters();
    }

    pub fn reported(&self) -> Vec<(String, Reported)> {
        self.reported.lock().expect("lock").clone()
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
        let log_path =
            std::env::temp_dir().join(format!("bcs-{}-{log_name}.log", std::process::id()));
        let log = std::fs::File::create(&log_path).expect("log file");
        let err = log.try_clone().expect("log file");
        let mut cmd = Command::new(binary);
        cmd.env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", runtime.addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", "bedrock-setup")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "stream")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bedrock-setup")
            .env("AWS_REGION", super::REGION)
            .env("AWS_ACCESS_KEY_ID", super::HANDLER_ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", "handler-secret")
            .env("MANAGED_ROLE_PATH", super::DEPLOYED_ROLE_PATH)
            .env("SIGNAL_KEY_ID", super::DEPLOYED_SIGNAL_KEY_ARN)
            .env("S3_FORCE_PATH_STYLE", "true")
            .env("ASSUME_ROLE_RETRY_SECONDS", "2")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(err));
        if let Some(e) = aws_endpoint {
            cmd.env("AWS_ENDPOINT_URL", e);
        }
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
