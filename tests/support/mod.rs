//! The test bed: the emulator (moto behind our wrapper) on a free loopback
//! port, clients that do not share the handler's code paths, and a VPC with
//! subnets and buckets to run the handler against.
// Shared by every test crate, each of which uses a part of it.
#![allow(dead_code, unreachable_pub)]

pub mod bed;
pub mod checkout;
pub mod corpus;
pub mod json_paths;
pub mod lambda;

pub(crate) use checkout::{project_dir, python};

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_ec2::types::Filter;
use aws_sdk_iam::config::Credentials;
use bedrock_setup::cfn::{Request, ResponseUrl};
use bedrock_setup::parts::Clients;
use bedrock_setup::plan::RequestKind;
use serde_json::{Value, json};

pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "us-east-1";
pub const STACK_ID: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/demo-stack/1f2e3d4c-aaaa-bbbb-cccc-000000000001";
pub const LOGICAL_ID: &str = "Customization";
/// The access key the handler signs with: the emulator judges exactly these
/// requests against the template's execution role (the test's own set-up
/// and checks use another key and are not judged).
pub const HANDLER_ACCESS_KEY: &str = "AKIAHANDLERUNDERTEST";
/// The template parameters of the deployment the tests stand for.
pub const DEPLOYED_ROLE_PATH: &str = "/bedrock-customization/";
pub const DEPLOYED_OUTPUT_BUCKET_PATTERN: &str = "output-bucket";
/// The handler stack's own key for pending completion signals.
pub const DEPLOYED_SIGNAL_KEY_ARN: &str =
    "arn:aws:kms:us-east-1:123456789012:key/5d9a1c7e-0000-4000-8000-00000000516a";

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
            .args(["--principal-key", HANDLER_ACCESS_KEY])
            .arg(format!("--param=RolePath={DEPLOYED_ROLE_PATH}"))
            .arg(format!(
                "--param=OutputBucketPattern={DEPLOYED_OUTPUT_BUCKET_PATTERN}"
            ))
            .arg(format!("--param=AWS::Region={REGION}"))
            .arg(format!("--param=SignalKey.Arn={DEPLOYED_SIGNAL_KEY_ARN}"))
            .arg(format!("--param=AWS::AccountId={ACCOUNT}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr))
            .spawn()
            .expect("start the emulator");
        let stdout = child.stdout.take().expect("emulator stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the emulator's port");
        let port: u16 = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| {
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
        aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(&self.endpoint)
            .region(Region::new(REGION))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
            .load()
            .await
    }

    /// The handler's clients, as `main` builds them (plus the emulator),
    /// signing with the handler's key.
    pub async fn handler_clients(&self) -> Clients {
        let config = bedrock_setup::parts::sdk_config_loader()
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

/// The handler's credentials in every test.
pub fn handler_credentials() -> Credentials {
    Credentials::new(HANDLER_ACCESS_KEY, "handler-secret", None, None, "test")
}

/// Operations that change state, by the name the emulator logs.
pub fn is_mutating(op: &str) -> bool {
    const READ_PREFIXES: [&str; 4] = ["Get", "List", "Describe", "S3Get"];
    !READ_PREFIXES.iter().any(|p| op.starts_with(p)) && op != "S3Head"
}

/// A VPC with two subnets (one with its own route table, one on the main
/// table), a security group and the data buckets.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub vpc_id: String,
    pub subnets: Vec<String>,
    pub security_group: String,
    pub own_route_table: String,
    pub main_route_table: String,
    pub training_bucket: String,
    pub output_bucket: String,
    /// Enabled symmetric keys in the emulator's KMS: (data key, model key).
    pub data_key_arn: String,
    pub model_key_arn: String,
}

impl Fixture {
    pub async fn create(emu: &Emulator) -> Fixture {
        let c = emu.check_clients().await;
        let vpc = c
            .ec2
            .create_vpc()
            .cidr_block("10.0.0.0/16")
            .send()
            .await
            .expect("vpc");
        let vpc_id = vpc
            .vpc()
            .and_then(|v| v.vpc_id())
            .expect("vpc id")
            .to_string();
        let mut subnets = Vec::new();
        for (i, cidr) in ["10.0.1.0/24", "10.0.2.0/24"].iter().enumerate() {
            let s = c
                .ec2
                .create_subnet()
                .vpc_id(&vpc_id)
                .cidr_block(*cidr)
                .availability_zone(format!("{REGION}{}", ["a", "b"][i]))
                .send()
                .await
                .expect("subnet");
            subnets.push(
                s.subnet()
                    .and_then(|s| s.subnet_id())
                    .expect("subnet id")
                    .to_string(),
            );
        }
        let sg = c
            .ec2
            .create_security_group()
            .group_name("bedrock-jobs")
            .description("jobs")
            .vpc_id(&vpc_id)
            .send()
            .await
            .expect("sg");
        let rt = c
            .ec2
            .create_route_table()
            .vpc_id(&vpc_id)
            .send()
            .await
            .expect("rt");
        let own_route_table = rt
            .route_table()
            .and_then(|r| r.route_table_id())
            .expect("rt id")
            .to_string();
        c.ec2
            .associate_route_table()
            .route_table_id(&own_route_table)
            .subnet_id(&subnets[0])
            .send()
            .await
            .expect("associate");
        let tables = c
            .ec2
            .describe_route_tables()
            .filters(Filter::builder().name("vpc-id").values(&vpc_id).build())
            .filters(
                Filter::builder()
                    .name("association.main")
                    .values("true")
                    .build(),
            )
            .send()
            .await
            .expect("main table");
        let main_route_table = tables.route_tables()[0]
            .route_table_id()
            .expect("main")
            .to_string();
        let training_bucket = "training-bucket".to_string();
        let output_bucket = "output-bucket".to_string();
        for b in [&training_bucket, &output_bucket] {
            c.s3.create_bucket().bucket(b).send().await.expect("bucket");
        }
        // The data the pre-flight checks look for.
        for key in ["train/data.jsonl", "validation/data.jsonl"] {
            c.s3.put_object()
                .bucket(&training_bucket)
                .key(key)
                .body(aws_sdk_s3::primitives::ByteStream::from_static(
                    b"{\"prompt\": \"p\", \"completion\": \"c\"}\n",
                ))
                .send()
                .await
                .expect("data object");
        }
        let mut keys = Vec::new();
        for purpose in ["training data", "custom model"] {
            let k = c
                .kms
                .create_key()
                .description(purpose)
                .send()
                .await
                .expect("key");
            keys.push(
                k.key_metadata()
                    .and_then(|m| m.arn())
                    .expect("key arn")
                    .to_string(),
            );
        }
        let model_key_arn = keys.pop().expect("model key");
        let data_key_arn = keys.pop().expect("data key");
        Fixture {
            vpc_id,
            subnets,
            security_group: sg.group_id().expect("sg id").to_string(),
            own_route_table,
            main_route_table,
            training_bucket,
            output_bucket,
            data_key_arn,
            model_key_arn,
        }
    }

    /// The names the bad-input corpus is written against.
    pub fn corpus_names(&self, other_vpc_subnet: &str) -> corpus::CorpusNames {
        corpus::CorpusNames {
            full: self.full_properties(),
            subnets: self.subnets.clone(),
            other_vpc_subnet: other_vpc_subnet.to_string(),
        }
    }

    /// Properties using every part of the setup.
    pub fn full_properties(&self) -> Value {
        json!({
            "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:bedrock-setup",
            "TrainingDataUri": format!("s3://{}/train/data.jsonl", self.training_bucket),
            "ValidationDataUris": [format!("s3://{}/validation/data.jsonl", self.training_bucket)],
            "OutputDataUri": format!("s3://{}/output/", self.output_bucket),
            "KmsKeyArns": [self.data_key_arn],
            "VpcConfig": { "SubnetIds": self.subnets.clone(), "SecurityGroupIds": [self.security_group.clone()] },
            "S3Endpoint": { "Create": "true", "Policy": "Restricted" },
            "RestrictOutputBucketToVpc": "true",
            "Job": {
                "BaseModelIdentifier": "amazon.titan-text-express-v1",
                "CustomizationType": "FINE_TUNING",
                "HyperParameters": { "epochCount": "2", "batchSize": "1", "learningRate": "0.00001" },
                "CustomModelKmsKeyArn": self.model_key_arn,
                "StopJobOnDelete": "true",
                "DeleteCustomModelOnDelete": "false"
            },
            "Tags": [{ "Key": "team", "Value": "ml" }]
        })
    }
}

fn base_request(kind: RequestKind, request_id: &str, properties: Value) -> Request {
    Request {
        kind,
        request_id: request_id.to_string(),
        response_url: ResponseUrl::new("https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x?X-Amz-Signature=secret".into()),
        stack_id: STACK_ID.to_string(),
        logical_resource_id: LOGICAL_ID.to_string(),
        physical_resource_id: None,
        properties,
        old_properties: None,
    }
}

pub fn create(request_id: &str, properties: Value) -> Request {
    base_request(RequestKind::Create, request_id, properties)
}

pub fn update(request_id: &str, physical_id: &str, properties: Value, old: Value) -> Request {
    let mut r = base_request(RequestKind::Update, request_id, properties);
    r.physical_resource_id = Some(physical_id.to_string());
    r.old_properties = Some(old);
    r
}

pub fn delete(request_id: &str, physical_id: &str, properties: Value) -> Request {
    let mut r = base_request(RequestKind::Delete, request_id, properties);
    r.physical_resource_id = Some(physical_id.to_string());
    r
}

/// Short IAM-propagation retries so that failure paths finish quickly.
pub fn fast_settings() -> bedrock_setup::lifecycle::Settings {
    bedrock_setup::lifecycle::Settings {
        assume_role_retry: bedrock_setup::parts::AssumeRoleRetry {
            total: Duration::from_secs(3),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// Everything of ours in the emulator, read with independent clients.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Inventory {
    pub roles: Vec<String>,
    pub endpoints: Vec<(String, Vec<String>)>,
    pub bucket_statement_sids: Vec<String>,
    pub jobs: Vec<(String, String)>,
    pub models: Vec<String>,
}

/// The region's VPC endpoints, less the deleted ones EC2 still lists.
pub async fn live_endpoints(c: &Clients) -> Vec<aws_sdk_ec2::types::VpcEndpoint> {
    let eps = c
        .ec2
        .describe_vpc_endpoints()
        .send()
        .await
        .expect("endpoints");
    eps.vpc_endpoints()
        .iter()
        .filter(|e| {
            e.state()
                .is_none_or(|s| !s.as_str().eq_ignore_ascii_case("deleted"))
        })
        .cloned()
        .collect()
}

pub async fn inventory(c: &Clients, output_bucket: &str) -> Inventory {
    let mut inv = Inventory::default();
    let roles = c.iam.list_roles().send().await.expect("list roles");
    inv.roles = roles
        .roles()
        .iter()
        .map(|r| r.role_name().to_string())
        .collect();
    inv.roles.sort();
    for e in live_endpoints(c).await {
        let owner = e
            .tags()
            .iter()
            .find(|t| t.key() == Some(bedrock_setup::model::OWNER_TAG_KEY))
            .and_then(|t| t.value())
            .unwrap_or("-")
            .to_string();
        let mut rts: Vec<String> = e.route_table_ids().to_vec();
        rts.sort();
        rts.insert(0, owner);
        inv.endpoints
            .push((e.vpc_endpoint_id().unwrap_or_default().to_string(), rts));
    }
    inv.endpoints.sort();
    match c.s3.get_bucket_policy().bucket(output_bucket).send().await {
        Ok(p) => {
            // An unreadable policy is an error here, never "no statements".
            let text = p.policy().expect("a bucket policy has a document");
            let v: Value = serde_json::from_str(text)
                .unwrap_or_else(|e| panic!("the bucket policy is not JSON ({e}): {text}"));
            inv.bucket_statement_sids = v["Statement"]
                .as_array()
                .unwrap_or_else(|| panic!("the bucket policy has no Statement list: {text}"))
                .iter()
                .map(|s| s["Sid"].as_str().unwrap_or("-").to_string())
                .collect();
        }
        Err(e)
            if aws_sdk_s3::error::ProvideErrorMetadata::code(&e) == Some("NoSuchBucketPolicy") => {}
        Err(e) => panic!("could not read the bucket policy: {e:?}"),
    }
    let jobs = c
        .bedrock
        .list_model_customization_jobs()
        .send()
        .await
        .expect("jobs");
    for j in jobs.model_customization_job_summaries() {
        inv.jobs
            .push((j.job_name().to_string(), j.status().as_str().to_string()));
    }
    inv.jobs.sort();
    let models = c.bedrock.list_custom_models().send().await.expect("models");
    inv.models = models
        .model_summaries()
        .iter()
        .map(|m| m.model_name().to_string())
        .collect();
    inv.models.sort();
    inv
}

/// A role's inline policy as JSON, `None` when the role has none of that
/// name (IAM answers the document URL-encoded).
pub async fn inline_policy(c: &Clients, role: &str, name: &str) -> Option<Value> {
    let out = c
        .iam
        .get_role_policy()
        .role_name(role)
        .policy_name(name)
        .send()
        .await
        .ok()?;
    let text = percent_encoding::percent_decode_str(out.policy_document())
        .decode_utf8_lossy()
        .to_string();
    Some(serde_json::from_str(&text).unwrap_or_else(|e| panic!("policy {name} ({e}): {text}")))
}

/// The per-attempt timeout of `fast_retry_clients` (production: 20 s).
pub const TEST_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);

/// The handler's clients with the production retry count but millisecond
/// backoff and a short per-attempt timeout, so that hundreds of fault
/// scenarios, slow answers among them, finish in minutes while running the
/// same timeout and retry path as in production.
pub async fn fast_retry_clients(endpoint: &str) -> Clients {
    let config = bedrock_setup::parts::sdk_config_loader()
        .retry_config(
            aws_config::retry::RetryConfig::standard()
                .with_max_attempts(4)
                .with_initial_backoff(Duration::from_millis(5))
                .with_max_backoff(Duration::from_millis(40)),
        )
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(1))
                .operation_attempt_timeout(TEST_ATTEMPT_TIMEOUT)
                .operation_timeout(Duration::from_secs(15))
                .build(),
        )
        .endpoint_url(endpoint)
        .region(Region::new(REGION))
        .credentials_provider(handler_credentials())
        .load()
        .await;
    with_own_retry_quota(&Clients::from_sdk_config(&config, true))
}

/// The same clients with a retry quota of their own. The SDK keeps one
/// retry token bucket per partition (by default the service) for the whole
/// process. A Lambda process runs one handler; a test binary runs many at
/// once, each against its own emulator, and without this the timeouts of
/// one (all emulators start together, and are slow together) spend the
/// retries of all: a clean run then fails on its first timeout.
fn with_own_retry_quota(c: &Clients) -> Clients {
    use aws_smithy_runtime::client::retries::RetryPartition;
    static HANDLERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = HANDLERS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    macro_rules! own_quota {
        ($sdk:ident, $client:expr, $service:literal) => {
            $sdk::Client::from_conf(
                $client
                    .config()
                    .to_builder()
                    .retry_partition(RetryPartition::new(format!(
                        "{}-handler-under-test-{n}",
                        $service
                    )))
                    .build(),
            )
        };
    }
    Clients {
        iam: own_quota!(aws_sdk_iam, c.iam, "iam"),
        ec2: own_quota!(aws_sdk_ec2, c.ec2, "ec2"),
        s3: own_quota!(aws_sdk_s3, c.s3, "s3"),
        bedrock: own_quota!(aws_sdk_bedrock, c.bedrock, "bedrock"),
        kms: own_quota!(aws_sdk_kms, c.kms, "kms"),
        ssm: own_quota!(aws_sdk_ssm, c.ssm, "ssm"),
        lambda: own_quota!(aws_sdk_lambda, c.lambda, "lambda"),
    }
}

/// A CloudFormation event as Lambda delivers it.
pub fn event_json(
    kind: &str,
    url: &str,
    request_id: &str,
    physical_id: Option<&str>,
    props: &Value,
    old: Option<&Value>,
) -> Value {
    let mut e = json!({
        "RequestType": kind,
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:bedrock-setup",
        "ResponseURL": url,
        "StackId": STACK_ID,
        "RequestId": request_id,
        "LogicalResourceId": LOGICAL_ID,
        "ResourceType": "Custom::BedrockCustomizationSetup",
        "ResourceProperties": props
    });
    if let Some(p) = physical_id {
        e["PhysicalResourceId"] = json!(p);
    }
    if let Some(o) = old {
        e["OldResourceProperties"] = o.clone();
    }
    e
}

/// The handler in-process, answering a local ResponseURL: every event gets
/// its answers counted.
pub struct InProcess {
    pub handler: bedrock_setup::handler::Handler,
    pub receiver: lambda::ResponseReceiver,
    sent: std::sync::atomic::AtomicUsize,
}

impl InProcess {
    pub async fn new(clients: Clients) -> InProcess {
        InProcess::with_settings(clients, fast_settings()).await
    }

    pub async fn with_settings(
        clients: Clients,
        settings: bedrock_setup::lifecycle::Settings,
    ) -> InProcess {
        let answerer = bedrock_setup::cfn::Answerer::new(
            bedrock_setup::cfn::Answerer::default_http().expect("http client"),
        );
        InProcess {
            handler: bedrock_setup::handler::Handler::new(clients, settings, answerer),
            receiver: lambda::ResponseReceiver::start(0).await,
            sent: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// Sends one event; asserts it got exactly one answer and returns it.
    pub async fn send(
        &self,
        kind: &str,
        request_id: &str,
        physical_id: Option<&str>,
        props: &Value,
        old: Option<&Value>,
    ) -> Value {
        self.send_within(
            Duration::from_secs(120),
            (kind, request_id, physical_id),
            props,
            old,
        )
        .await
    }

    /// `send` with the invocation's remaining time: Lambda's deadline is
    /// `remaining` from now.
    pub async fn send_within(
        &self,
        remaining: Duration,
        (kind, request_id, physical_id): (&str, &str, Option<&str>),
        props: &Value,
        old: Option<&Value>,
    ) -> Value {
        let n = self.sent.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let url = self.receiver.url(&format!("e{n}"));
        let ev = event_json(kind, &url, request_id, physical_id, props, old);
        let deadline = std::time::SystemTime::now() + remaining;
        let before = self.receiver.answers().len();
        let result = self.handler.handle(ev, deadline).await;
        assert!(
            result.is_ok(),
            "{kind} {request_id}: the answer was not delivered: {result:?}"
        );
        let answers = self.receiver.answers();
        assert_eq!(
            answers.len(),
            before + 1,
            "{kind} {request_id}: exactly one answer"
        );
        answers[before].json()
    }
}

/// Someone else's resources, made without our tags: what the handler must
/// refuse to take and never change.
pub mod foreign {
    use bedrock_setup::parts::Clients;

    /// Another VPC with one subnet and one route table: (vpc, subnet, table).
    pub async fn vpc_with_subnet(c: &Clients, cidr_prefix: &str) -> (String, String, String) {
        let vpc = c
            .ec2
            .create_vpc()
            .cidr_block(format!("{cidr_prefix}.0.0/16"))
            .send()
            .await
            .expect("vpc");
        let vpc_id = vpc
            .vpc()
            .and_then(|v| v.vpc_id())
            .expect("vpc id")
            .to_string();
        let subnet = c
            .ec2
            .create_subnet()
            .vpc_id(&vpc_id)
            .cidr_block(format!("{cidr_prefix}.1.0/24"))
            .send()
            .await
            .expect("subnet");
        let subnet_id = subnet
            .subnet()
            .and_then(|s| s.subnet_id())
            .expect("subnet id")
            .to_string();
        let table = c
            .ec2
            .create_route_table()
            .vpc_id(&vpc_id)
            .send()
            .await
            .expect("route table");
        let table_id = table
            .route_table()
            .and_then(|r| r.route_table_id())
            .expect("table id")
            .to_string();
        (vpc_id, subnet_id, table_id)
    }

    /// A role with one inline policy, `theirs`.
    pub async fn role(c: &Clients, name: &str) {
        role_under(c, "/", name).await;
    }

    /// `role`, on an IAM path of their choosing (ours too).
    pub async fn role_under(c: &Clients, path: &str, name: &str) {
        let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        c.iam
            .create_role()
            .path(path)
            .role_name(name)
            .assume_role_policy_document(trust)
            .send()
            .await
            .expect("role");
        c.iam
            .put_role_policy()
            .role_name(name)
            .policy_name("theirs")
            .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}"#)
            .send()
            .await
            .expect("policy");
    }

    /// A model customization job submitted without our tags.
    pub async fn job(c: &Clients, job_name: &str, model_name: &str) {
        c.bedrock
            .create_model_customization_job()
            .job_name(job_name)
            .custom_model_name(model_name)
            .role_arn("arn:aws:iam::123456789012:role/x")
            .base_model_identifier("amazon.titan-text-express-v1")
            .training_data_config(
                aws_sdk_bedrock::types::TrainingDataConfig::builder()
                    .s3_uri("s3://training-bucket/t")
                    .build(),
            )
            .output_data_config(
                aws_sdk_bedrock::types::OutputDataConfig::builder()
                    .s3_uri("s3://output-bucket/o")
                    .build()
                    .expect("out"),
            )
            .send()
            .await
            .expect("their job");
    }

    /// An S3 gateway endpoint on `table`; returns its id.
    pub async fn s3_endpoint(c: &Clients, vpc_id: &str, table: &str) -> String {
        let e = c
            .ec2
            .create_vpc_endpoint()
            .vpc_id(vpc_id)
            .service_name("com.amazonaws.us-east-1.s3")
            .vpc_endpoint_type(aws_sdk_ec2::types::VpcEndpointType::Gateway)
            .route_table_ids(table)
            .send()
            .await
            .expect("endpoint");
        e.vpc_endpoint()
            .and_then(|e| e.vpc_endpoint_id())
            .expect("endpoint id")
            .to_string()
    }
}
