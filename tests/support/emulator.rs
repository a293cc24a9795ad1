//! One emulator process (moto behind tests/emulator/moto_wrapper.py) on a
//! free loopback port, judging the handler's requests as deployed with the
//! tests' parameters; its control API (faults, request log, violations).

use super::{handler_credentials, is_mutating, project_dir, python, with_own_retry_quota};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_iam::config::Credentials;
use bedrock_setup::parts::Clients;
use serde_json::{Value, json};

pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "us-east-1";
/// The tests' output bucket pattern (the scripts deploy with their own).
pub const DEPLOYED_OUTPUT_BUCKET_PATTERN: &str = "output-bucket";

/// The handler deployment the test bed stands for, from
/// tests/emulator/deployment.json, which the scripts read too.
pub struct Deployment {
    /// The key the handler signs with: the emulator judges exactly these
    /// requests against the template's execution role (the tests' own set-up
    /// and checks use another key and are not judged).
    pub handler_access_key: String,
    pub handler_secret_key: String,
    /// The template's RolePath parameter.
    pub role_path: String,
    /// The handler stack's own key for pending completion signals.
    pub signal_key_arn: String,
    /// The environment Lambda gives the function and the template sets,
    /// beside the values above.
    pub function_environment: Vec<(String, String)>,
}

impl Deployment {
    /// The function's environment as deployed: Lambda's variables and the
    /// template's, pointed at `runtime_api` (not yet at an emulator).
    pub fn function_env(&self, runtime_api: &str) -> Vec<(String, String)> {
        let mut env = self.function_environment.clone();
        for (k, v) in [
            ("AWS_LAMBDA_RUNTIME_API", runtime_api),
            ("AWS_REGION", REGION),
            ("AWS_ACCESS_KEY_ID", &self.handler_access_key),
            ("AWS_SECRET_ACCESS_KEY", &self.handler_secret_key),
            ("MANAGED_ROLE_PATH", &self.role_path),
            ("SIGNAL_KEY_ID", &self.signal_key_arn),
        ] {
            env.push((k.to_string(), v.to_string()));
        }
        env
    }
}

/// The deployment, read once.
pub fn deployment() -> &'static Deployment {
    static READ: std::sync::OnceLock<Deployment> = std::sync::OnceLock::new();
    READ.get_or_init(|| {
        let v: Value = serde_json::from_str(include_str!("../emulator/deployment.json"))
            .expect("tests/emulator/deployment.json is JSON");
        let field = |k: &str| {
            v[k].as_str()
                .unwrap_or_else(|| panic!("tests/emulator/deployment.json has no {k}"))
                .to_string()
        };
        // REGION and ACCOUNT stay constants (events and ARNs format them);
        // the file is their source, and a drift fails here.
        assert_eq!(
            (field("Region"), field("AccountId")),
            (REGION.to_string(), ACCOUNT.to_string()),
            "REGION and ACCOUNT must be those of tests/emulator/deployment.json"
        );
        let function_environment = ["LambdaEnvironment", "HandlerEnvironment"]
            .iter()
            .flat_map(|section| {
                v[section]
                    .as_object()
                    .unwrap_or_else(|| panic!("tests/emulator/deployment.json has no {section}"))
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            })
            .collect();
        Deployment {
            handler_access_key: field("HandlerAccessKey"),
            handler_secret_key: field("HandlerSecretKey"),
            role_path: field("RolePath"),
            signal_key_arn: field("SignalKeyArn"),
            function_environment,
        }
    })
}

/// The port a test-bed process (the emulator, a `ReportingScript`) prints on its
/// first line, `PORT <n>`, once it listens; else the line it printed.
pub fn reported_port(out: &mut impl BufRead) -> Result<u16, String> {
    let mut line = String::new();
    if let Err(e) = out.read_line(&mut line) {
        return Err(format!("(unreadable: {e})"));
    }
    line.trim()
        .strip_prefix("PORT ")
        .and_then(|p| p.parse().ok())
        .ok_or(line)
}

/// A test-bed script of tests/emulator (the TLS peer, the fake Runtime API)
/// that prints `PORT <n>` once it listens and then one JSON value a line;
/// stopped when dropped.
pub struct ReportingScript {
    child: Child,
    pub port: u16,
    /// Every line printed after the port, as it arrives.
    pub lines: std::sync::Arc<std::sync::Mutex<Vec<Value>>>,
}

impl ReportingScript {
    /// Starts `script` with `args`; `stdin` piped when the test writes to it.
    pub fn start(
        script: &str,
        args: &[&std::ffi::OsStr],
        stdin: Stdio,
        what: &str,
    ) -> ReportingScript {
        let mut child = Command::new(python())
            .arg(project_dir().join("tests/emulator").join(script))
            .args(args)
            .stdin(stdin)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {what}: {e}"));
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let port = reported_port(&mut stdout)
            .unwrap_or_else(|line| panic!("{what} did not start: {line:?}"));
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    sink.lock().expect("lock").push(v);
                }
            }
        });
        ReportingScript { child, port, lines }
    }

    pub fn lines(&self) -> Vec<Value> {
        self.lines.lock().expect("lock").clone()
    }

    /// Its stdin, when started with it piped.
    pub fn take_stdin(&mut self) -> std::process::ChildStdin {
        self.child
            .stdin
            .take()
            .expect("the script's stdin is piped")
    }

    /// Stops the script (again, harmlessly, once stopped).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ReportingScript {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One emulator process, stopped when dropped.
pub struct Emulator {
    child: Child,
    pub endpoint: String,
    http: reqwest::Client,
    stderr_path: PathBuf,
}

impl Emulator {
    /// The emulator, judging the handler's requests by `template.yaml` as
    /// deployed with the tests' parameters.
    pub fn start() -> Emulator {
        Emulator::start_judged_by(&project_dir().join("template.yaml"))
    }

    /// The emulator, judging the handler's requests by another template
    /// (a test that removes a grant on purpose).
    pub fn start_judged_by(template: &std::path::Path) -> Emulator {
        // Its stderr is kept, to show why it did not start.
        static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let stderr_path =
            std::env::temp_dir().join(format!("bcs-emulator-{}-{n}.log", std::process::id()));
        let stderr = std::fs::File::create(&stderr_path).expect("emulator log file");
        let mut child = Command::new(python())
            .arg(project_dir().join("tests/emulator/moto_wrapper.py"))
            .args(["--host", "127.0.0.1", "--port", "0"])
            .arg("--template")
            .arg(template)
            .args(["--principal-key", &deployment().handler_access_key])
            .arg(format!("--param=RolePath={}", deployment().role_path))
            .arg(format!(
                "--param=OutputBucketPattern={DEPLOYED_OUTPUT_BUCKET_PATTERN}"
            ))
            .arg(format!("--param=AWS::Region={REGION}"))
            .arg(format!(
                "--param=SignalKey.Arn={}",
                deployment().signal_key_arn
            ))
            .arg(format!("--param=AWS::AccountId={ACCOUNT}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr))
            .spawn()
            .expect("start the emulator");
        let stdout = child.stdout.take().expect("emulator stdout");
        let port = reported_port(&mut BufReader::new(stdout)).unwrap_or_else(|line| {
            let _ = child.kill();
            let _ = child.wait();
            let why = std::fs::read_to_string(&stderr_path).unwrap_or_default();
            panic!("emulator did not report a port: {line:?}; its stderr:\n{why}")
        });
        Emulator {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
            stderr_path,
        }
    }

    pub async fn sdk_config(&self) -> SdkConfig {
        // The function's transport (the SDK has no other client in this
        // build), but none of its retry, timeout or credential settings.
        aws_config::defaults(BehaviorVersion::latest())
            .http_client(bedrock_setup::http::SdkTransport::shared(
                super::http_client(),
            ))
            .endpoint_url(&self.endpoint)
            .region(Region::new(REGION))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
            .load()
            .await
    }

    /// The handler's clients, as `main` builds them (plus the emulator),
    /// signing with the handler's key.
    pub async fn handler_clients(&self) -> Clients {
        let config = bedrock_setup::parts::sdk_config_loader(super::http_client())
            .endpoint_url(&self.endpoint)
            .region(Region::new(REGION))
            .credentials_provider(handler_credentials())
            .load()
            .await;
        with_own_retry_quota(&Clients::from_sdk_config(&config, true))
    }

    /// What the handler did that real AWS would have refused (denied by the
    /// template's execution role, or invalid for the service), taken: a test
    /// that provokes one on purpose asserts on it, and the rest fail the
    /// test when the emulator is dropped.
    pub async fn take_violations(&self) -> Vec<Value> {
        match self
            .control(reqwest::Method::DELETE, "/_emulator/violations", None)
            .await
        {
            Value::Array(a) => a,
            other => panic!("the emulator's violation list is unreadable: {other}"),
        }
    }

    /// The violations, read without an async runtime (for `Drop`).
    fn violations_blocking(&self) -> Result<Vec<Value>, String> {
        use std::io::{Read, Write};
        let addr = self.endpoint.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(addr).map_err(|e| e.to_string())?;
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .map_err(|e| e.to_string())?;
        write!(
            stream,
            "GET /_emulator/violations HTTP/1.0\r\nHost: {addr}\r\n\r\n"
        )
        .map_err(|e| e.to_string())?;
        let mut raw = String::new();
        stream.read_to_string(&mut raw).map_err(|e| e.to_string())?;
        let body = raw.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
        match serde_json::from_str(body) {
            Ok(Value::Array(a)) => Ok(a),
            _ => Err(format!("unreadable answer: {raw}")),
        }
    }

    /// Independent clients for checking state.
    pub async fn check_clients(&self) -> Clients {
        Clients::from_sdk_config(&self.sdk_config().await, true)
    }

    async fn control(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.endpoint));
        if let Some(b) = body {
            req = req.body(b.to_string());
        }
        let resp = req.send().await.expect("emulator control call");
        let status = resp.status();
        let text = resp.text().await.expect("emulator control body");
        // A control call that did not take effect must fail the test, not
        // let it pass on a fault that was never injected.
        assert!(
            status.is_success(),
            "emulator control {path}: HTTP {status}: {text}"
        );
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("emulator control {path}: unreadable answer ({e}): {text}"))
    }

    pub async fn add_faults(&self, rules: Value) {
        self.control(
            reqwest::Method::POST,
            "/_emulator/faults",
            Some(json!({ "rules": rules })),
        )
        .await;
    }

    pub async fn clear_faults(&self) {
        self.control(reqwest::Method::DELETE, "/_emulator/faults", None)
            .await;
    }

    /// Every AWS request the emulator saw, oldest first.
    pub async fn requests(&self) -> Vec<Value> {
        match self
            .control(reqwest::Method::GET, "/_emulator/requests", None)
            .await
        {
            Value::Array(a) => a,
            other => panic!("emulator request log: not a list: {other}"),
        }
    }

    /// Waits until the emulator serves no request: a slow call's late effect
    /// has landed (or a hung one given up) before the test looks.
    pub async fn wait_idle(&self) {
        let start = std::time::Instant::now();
        loop {
            let v = self
                .control(reqwest::Method::GET, "/_emulator/inflight", None)
                .await;
            let n = v["inflight"]
                .as_u64()
                .unwrap_or_else(|| panic!("emulator inflight: unreadable answer: {v}"));
            if n == 0 {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(90),
                "the emulator is still serving {n} requests after 90 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The operation of every AWS request the emulator saw, oldest first.
    pub async fn operations(&self) -> Vec<String> {
        self.requests()
            .await
            .iter()
            .filter_map(|r| r["operation"].as_str().map(str::to_string))
            .collect()
    }

    /// The operations among them that change something (`is_mutating`).
    pub async fn mutating_operations(&self) -> Vec<String> {
        let mut ops = self.operations().await;
        ops.retain(|op| is_mutating(op));
        ops
    }

    pub async fn clear_requests(&self) {
        self.control(reqwest::Method::DELETE, "/_emulator/requests", None)
            .await;
    }

    pub async fn set_job_status(&self, job_name: &str, status: &str) {
        self.control(
            reqwest::Method::POST,
            "/_emulator/bedrock/job-status",
            Some(json!({ "account": ACCOUNT, "region": REGION, "job_name": job_name, "status": status })),
        )
        .await;
    }

    /// Switches on the latency model of real AWS
    /// (tests/emulator/latency_model.py): per-call latency, IAM propagation.
    pub async fn set_latency_model(&self, model: Value) {
        self.control(
            reqwest::Method::POST,
            "/_emulator/latency-model",
            Some(model),
        )
        .await;
    }

    /// Per role the latency model saw made: its propagation delay, when it
    /// became assumable, the submissions refused and the accepted one.
    pub async fn propagation(&self) -> Vec<Value> {
        match self
            .control(reqwest::Method::GET, "/_emulator/propagation", None)
            .await
        {
            Value::Array(a) => a,
            other => panic!("emulator propagation: not a list: {other}"),
        }
    }

    /// How many accepted jobs had their Bedrock service role judged
    /// (tests/emulator/service_role.py).
    pub async fn service_roles_judged(&self) -> u64 {
        let v = self
            .control(
                reqwest::Method::GET,
                "/_emulator/service-roles-judged",
                None,
            )
            .await;
        v["judged"]
            .as_u64()
            .unwrap_or_else(|| panic!("emulator service-roles-judged: unreadable answer: {v}"))
    }

    /// The test bed's IAM verdict on one policy document: `None` when it
    /// allows `action` on `resource`, otherwise why not.
    pub async fn evaluate(&self, policy: &Value, action: &str, resource: &str) -> Option<String> {
        let v = self
            .control(
                reqwest::Method::POST,
                "/_emulator/evaluate",
                Some(json!({ "policy": policy, "action": action, "resource": resource })),
            )
            .await;
        v["denied"].as_str().map(str::to_string)
    }

    /// Sets a job's status and Bedrock's failure message.
    pub(crate) async fn set_job_status_with_message(
        &self,
        job_name: &str,
        status: &str,
        message: &str,
    ) {
        self.control(
            reqwest::Method::POST,
            "/_emulator/bedrock/job-status",
            Some(json!({ "account": ACCOUNT, "region": REGION, "job_name": job_name, "status": status, "failure_message": message })),
        )
        .await;
    }

    /// New deployments become ready by themselves `secs` after creation.
    pub async fn set_deployments_ready_after(&self, secs: u64) {
        self.control(
            reqwest::Method::POST,
            "/_emulator/bedrock/deployment-status",
            Some(json!({ "auto_ready_s": secs })),
        )
        .await;
    }

    /// Sets a deployment's (`kind` "deployment") or a provisioned
    /// throughput's (`kind` "throughput") status, as Bedrock would once it
    /// is ready or has failed (tests/emulator/deployments.py).
    pub async fn set_deployment_status(&self, kind: &str, name: &str, status: &str, message: &str) {
        self.control(
            reqwest::Method::POST,
            "/_emulator/bedrock/deployment-status",
            Some(
                json!({ "kind": kind, "name": name, "status": status, "failure_message": message }),
            ),
        )
        .await;
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        // Every test is judged: a request real AWS would refuse fails it,
        // unless the test took it as expected (`take_violations`).
        let violations = if std::thread::panicking() {
            Ok(Vec::new())
        } else {
            self.violations_blocking()
        };
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.stderr_path);
        match violations {
            Ok(v) if v.is_empty() => {}
            Ok(v) => panic!(
                "the handler made {} request(s) real AWS would refuse:\n{}",
                v.len(),
                v.iter()
                    .map(|x| format!(
                        "- {} {}:{}: {}",
                        x["kind"].as_str().unwrap_or("?"),
                        x["service"].as_str().unwrap_or("?"),
                        x["operation"].as_str().unwrap_or("?"),
                        x["detail"].as_str().unwrap_or("?")
                    ))
                    .collect::<Vec<_>>()
                    .join("\n")
            ),
            Err(e) => panic!("could not read the emulator's violations: {e}"),
        }
    }
}
