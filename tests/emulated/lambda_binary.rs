//! The real bootstrap binary, unmodified, under a fake Lambda Runtime API,
//! answering a local ResponseURL; plus the panic path in-process.

use std::time::{Duration, SystemTime};

use crate::support::bed::bootstrap;
use crate::support::lambda::{
    FakeRuntime, Function, Reported, ResponseReceiver, SIGNATURE, free_port, response_url,
};
use crate::support::tls_peer::TlsPeer;
use crate::support::*;
use bedrock_setup::cfn::{Answerer, Outcome};
use bedrock_setup::handler::Handler;
use bedrock_setup::lifecycle::Settings;
use serde_json::{Value, json};

fn event(
    kind: &str,
    url: &str,
    request_id: &str,
    physical_id: Option<&str>,
    props: Value,
) -> Value {
    let mut e = event_json(kind, url, request_id, physical_id, &Value::Null, None);
    e["ResourceProperties"] = props;
    e
}

/// The id the plan gives a Create of the test stack with this request id.
fn create_id(request_id: &str) -> String {
    let stack = bedrock_setup::model::StackIdentity::from_stack_id(STACK_ID).expect("stack id");
    bedrock_setup::model::identity::physical_id_for(&stack, LOGICAL_ID, request_id)
}

/// A Delete of a placeholder physical id: answered without any AWS call.
fn placeholder_delete(url: &str) -> Value {
    event(
        "Delete",
        url,
        "req-1",
        Some("demo-stack-Customization-PLACEHOLDER1"),
        json!({}),
    )
}

/// Sends one event and returns its single answer, checking the promises
/// every answer keeps.
async fn one_answer(
    rt: &FakeRuntime,
    rx: &ResponseReceiver,
    id: &str,
    ev: Value,
    timeout: Duration,
) -> Value {
    let before = rx.answers().len();
    let reported_before = rt.reported().len();
    rt.invoke(id, &ev, timeout);
    let answers = rx
        .wait_for(before + 1, timeout + Duration::from_secs(5))
        .await;
    assert_eq!(answers.len(), before + 1, "exactly one answer for {id}");
    let reported = rt
        .wait_reported(reported_before + 1, Duration::from_secs(5))
        .await;
    assert_eq!(reported.last().map(|(i, _)| i.as_str()), Some(id));
    assert!(
        matches!(reported.last().map(|(_, r)| r), Some(Reported::Response(_))),
        "the function returns success to Lambda after answering: {reported:?}"
    );
    // No second answer trails the first: watched for longer than any retry
    // of the answer (backoff up to 4 s) or late work would take to show.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(rx.answers().len(), before + 1, "a second answer for {id}");
    let a = &answers[before];
    assert!(
        a.content_type.as_deref().is_none_or(str::is_empty),
        "Content-Type must be empty: {:?}",
        a.content_type
    );
    assert!(a.body.len() <= 4096, "{}", a.body.len());
    assert!(
        a.path_and_query.contains(SIGNATURE),
        "the answer goes to the signed URL"
    );
    let body = a.json();
    assert!(
        !body["Reason"].as_str().unwrap_or("").is_empty(),
        "Reason is always set"
    );
    body
}

fn assert_logs_clean(f: &Function) {
    let logs = f.logs();
    assert!(!logs.is_empty(), "the function logged nothing");
    assert!(
        !logs.contains(SIGNATURE) && !logs.contains("X-Amz-Signature"),
        "the ResponseURL's query string leaked into logs"
    );
    assert!(
        !logs.contains("X-Amz-Algorithm"),
        "the ResponseURL leaked into logs"
    );
    for line in logs.lines().filter(|l| l.starts_with('{')) {
        serde_json::from_str::<Value>(line)
            .unwrap_or_else(|e| panic!("log line is not JSON ({e}): {line}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_and_delete_succeed_and_bad_events_fail_cleanly() {
    let emu = Emulator::start();
    let fx = Fixture::create(&emu).await;
    let rt = FakeRuntime::start().await;
    let rx = ResponseReceiver::start(0).await;
    let f = Function::start(bootstrap(), &rt, Some(&emu.endpoint), "create-delete");
    let t = Duration::from_secs(60);

    let created = one_answer(
        &rt,
        &rx,
        "inv-1",
        event("Create", &rx.url("c1"), "req-1", None, fx.full_properties()),
        t,
    )
    .await;
    assert_eq!(created["Status"], "SUCCESS", "{created}");
    let pid = created["PhysicalResourceId"]
        .as_str()
        .expect("pid")
        .to_string();
    for k in [
        "RoleArn",
        "RoleName",
        "VpcId",
        "S3EndpointId",
        "JobArn",
        "JobName",
        "CustomModelName",
    ] {
        assert!(
            created["Data"][k].as_str().is_some_and(|v| !v.is_empty()),
            "Data.{k}: {created}"
        );
    }

    // Validation failure: FAILED naming the property, no AWS call that changes anything.
    emu.clear_requests().await;
    let mut bad = fx.full_properties();
    bad["Job"]["CustomizationType"] = json!("MAGIC");
    let refused = one_answer(
        &rt,
        &rx,
        "inv-2",
        event("Create", &rx.url("c2"), "req-2", None, bad),
        t,
    )
    .await;
    assert_eq!(refused["Status"], "FAILED");
    assert!(
        refused["Reason"]
            .as_str()
            .unwrap_or("")
            .contains("Job.CustomizationType"),
        "{refused}"
    );
    assert!(
        refused["PhysicalResourceId"]
            .as_str()
            .is_some_and(|p| !p.is_empty())
    );
    assert!(
        emu.requests()
            .await
            .iter()
            .all(|r| !is_mutating(r["operation"].as_str().unwrap_or("")))
    );

    // Malformed properties and an unknown request type: FAILED, once.
    let malformed = one_answer(
        &rt,
        &rx,
        "inv-3",
        event(
            "Create",
            &rx.url("c3"),
            "req-3",
            None,
            json!("not an object"),
        ),
        t,
    )
    .await;
    assert_eq!(malformed["Status"], "FAILED");
    assert!(
        malformed["Reason"]
            .as_str()
            .unwrap_or("")
            .contains("ResourceProperties"),
        "{malformed}"
    );
    let odd = one_answer(
        &rt,
        &rx,
        "inv-4",
        event(
            "Rename",
            &rx.url("c4"),
            "req-4",
            Some(&pid),
            fx.full_properties(),
        ),
        t,
    )
    .await;
    assert_eq!(odd["Status"], "FAILED");
    assert_eq!(
        odd["PhysicalResourceId"],
        pid.as_str(),
        "the resource keeps its id"
    );

    // An event with no ResponseURL has nobody to answer: Lambda gets the error.
    rt.invoke("inv-5", &json!({ "hello": "world" }), t);
    let reported = rt.wait_reported(5, Duration::from_secs(10)).await;
    assert!(
        matches!(reported.last(), Some((id, Reported::Error(_))) if id == "inv-5"),
        "{reported:?}"
    );

    let deleted = one_answer(
        &rt,
        &rx,
        "inv-6",
        event(
            "Delete",
            &rx.url("d1"),
            "req-6",
            Some(&pid),
            fx.full_properties(),
        ),
        t,
    )
    .await;
    assert_eq!(deleted["Status"], "SUCCESS", "{deleted}");
    let inv = inventory(&emu.check_clients().await, &fx.output_bucket).await;
    assert!(inv.roles.is_empty() && inv.endpoints.is_empty(), "{inv:?}");

    let logs = f.logs();
    assert!(
        logs.contains("\"request_type\":\"Create\"")
            && logs.contains("\"logical_resource_id\":\"Customization\""),
        "span fields in logs: {logs}"
    );
    assert!(logs.contains(STACK_ID) && logs.contains("\"request_id\":\"req-1\""));
    assert_logs_clean(&f);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_failure_answers_failed_and_cleans_up() {
    let emu = Emulator::start();
    let fx = Fixture::create(&emu).await;
    let rt = FakeRuntime::start().await;
    let rx = ResponseReceiver::start(0).await;
    let f = Function::start(bootstrap(), &rt, Some(&emu.endpoint), "aws-failure");
    emu.add_faults(json!([{ "service": "iam", "operation": "PutRolePolicy", "kind": "error500", "times": -1 }])).await;
    let a = one_answer(
        &rt,
        &rx,
        "inv-1",
        event("Create", &rx.url("c1"), "req-1", None, fx.full_properties()),
        Duration::from_secs(90),
    )
    .await;
    assert_eq!(a["Status"], "FAILED");
    let reason = a["Reason"].as_str().unwrap_or("");
    assert!(reason.contains("iam:PutRolePolicy"), "{reason}");
    assert!(reason.contains("removed again"), "{reason}");
    let inv = inventory(&emu.check_clients().await, &fx.output_bucket).await;
    assert!(
        inv.roles.is_empty()
            && inv.endpoints.is_empty()
            && inv.bucket_statement_sids.is_empty()
            && inv.jobs.is_empty(),
        "{inv:?}"
    );
    assert_logs_clean(&f);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadline_near_answers_failed_in_time() {
    let emu = Emulator::start();
    let fx = Fixture::create(&emu).await;
    let rt = FakeRuntime::start().await;
    let rx = ResponseReceiver::start(0).await;
    let f = Function::start(bootstrap(), &rt, Some(&emu.endpoint), "deadline");
    // One slow IAM call, far longer than the invocation may run.
    emu.add_faults(json!([{ "service": "iam", "operation": "GetRole", "kind": "delay", "delay_ms": 30000, "times": 1 }])).await;
    let timeout = Duration::from_secs(9);
    let started = std::time::Instant::now();
    let a = one_answer(
        &rt,
        &rx,
        "inv-1",
        event("Create", &rx.url("c1"), "req-1", None, fx.full_properties()),
        timeout,
    )
    .await;
    let took = rx.answers()[0].received_at.duration_since(started);
    assert_eq!(a["Status"], "FAILED");
    assert!(
        a["Reason"]
            .as_str()
            .unwrap_or("")
            .contains("ran out of time"),
        "{a}"
    );
    // The guard fires at the documented margin: 5 s before the deadline,
    // give or take a second.
    let margin = bedrock_setup::handler::DEADLINE_MARGIN;
    assert!(
        took >= timeout - margin - Duration::from_secs(1)
            && took <= timeout - margin + Duration::from_secs(1),
        "answered {took:?} after the invocation, not {margin:?} before its {timeout:?} deadline"
    );
    // The id the plan gave this Create: the rollback Delete finds what the
    // aborted work made.
    assert_eq!(a["PhysicalResourceId"], create_id("req-1"), "{a}");
    assert_logs_clean(&f);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_url_that_hangs_is_given_up_at_the_deadline() {
    let emu = Emulator::start();
    let fx = Fixture::create(&emu).await;
    let rt = FakeRuntime::start().await;
    // Every PUT is held open far longer than the invocation may run (and
    // than the HTTP client's own 10 s timeout).
    let rx = ResponseReceiver::start_stalling(u32::MAX, Duration::from_secs(60)).await;
    let f = Function::start(bootstrap(), &rt, Some(&emu.endpoint), "hanging-url");
    let timeout = Duration::from_secs(7);
    let started = std::time::Instant::now();
    rt.invoke(
        "inv-1",
        &event("Create", &rx.url("c1"), "req-1", None, fx.full_properties()),
        timeout,
    );
    let reported = rt.wait_reported(1, timeout + Duration::from_secs(20)).await;
    let took = started.elapsed();
    assert!(
        matches!(reported.first().map(|(_, r)| r), Some(Reported::Error(_))),
        "an undelivered answer is reported to Lambda as an error: {reported:?}"
    );
    // Lambda stops a function at its deadline, before it could report; a
    // second's slack for a loaded machine (an attempt left to the client's
    // timeout would report at 10 s).
    assert!(
        took <= timeout + Duration::from_secs(1),
        "reported {took:?} after the invocation, past its {timeout:?} deadline"
    );
    assert!(rx.attempts() >= 1, "the answer was tried");
    assert!(rx.answers().is_empty());
    drop(f);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_timeout_shorter_than_the_function_bounds_the_work() {
    let emu = Emulator::start();
    let fx = Fixture::create(&emu).await;
    let rt = FakeRuntime::start().await;
    let rx = ResponseReceiver::start(0).await;
    let f = Function::start(bootstrap(), &rt, Some(&emu.endpoint), "service-timeout");
    emu.add_faults(json!([{ "service": "iam", "operation": "GetRole", "kind": "delay", "delay_ms": 30000, "times": 1 }])).await;
    // Lambda would allow 60 s; the stack author allows 9 (CloudFormation
    // stops waiting then), so the answer must be out before 9 s.
    let service_timeout = Duration::from_secs(9);
    let mut props = fx.full_properties();
    props["ServiceTimeout"] = json!("9");
    let started = std::time::Instant::now();
    let a = one_answer(
        &rt,
        &rx,
        "inv-1",
        event("Create", &rx.url("c1"), "req-1", None, props),
        Duration::from_secs(60),
    )
    .await;
    let took = rx.answers()[0].received_at.duration_since(started);
    assert_eq!(a["Status"], "FAILED");
    let reason = a["Reason"].as_str().unwrap_or("");
    assert!(
        reason.contains("ran out of time") && reason.contains("ServiceTimeout"),
        "{a}"
    );
    let margin = bedrock_setup::handler::DEADLINE_MARGIN;
    assert!(
        took >= service_timeout - margin - Duration::from_secs(1)
            && took <= service_timeout - margin + Duration::from_secs(1),
        "answered {took:?} after the invocation, not {margin:?} before its {service_timeout:?} ServiceTimeout"
    );
    assert_logs_clean(&f);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answer_is_retried_on_5xx() {
    let rt = FakeRuntime::start().await;
    let rx = ResponseReceiver::start(2).await;
    // No AWS endpoint: a placeholder Delete needs no AWS call.
    let f = Function::start(bootstrap(), &rt, None, "retry");
    let a = one_answer(
        &rt,
        &rx,
        "inv-1",
        event(
            "Delete",
            &rx.url("d1"),
            "req-1",
            Some("demo-stack-Customization-PLACEHOLDER1"),
            json!({}),
        ),
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(a["Status"], "SUCCESS");
    assert_eq!(rx.attempts(), 3, "two 503s, then delivered");
    assert_logs_clean(&f);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answer_is_retried_while_the_connection_is_refused() {
    let rt = FakeRuntime::start().await;
    let f = Function::start(bootstrap(), &rt, None, "refused");
    // Nothing listens on the ResponseURL's port at first.
    let port = free_port();
    let url = response_url(([127, 0, 0, 1], port).into(), "refused");
    rt.invoke("inv-1", &placeholder_delete(&url), Duration::from_secs(30));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let rx = ResponseReceiver::start_on(port, 0).await;
    let answers = rx.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(
        answers.len(),
        1,
        "delivered once the connection was accepted"
    );
    assert_eq!(answers[0].json()["Status"], "SUCCESS");
    let reported = rt.wait_reported(1, Duration::from_secs(10)).await;
    assert!(
        matches!(reported[0].1, Reported::Response(_)),
        "{reported:?}"
    );
    assert!(
        f.logs().contains("answer not delivered, retrying"),
        "the refusals were retried"
    );
    assert_logs_clean(&f);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_that_cannot_be_delivered_is_an_error_to_lambda() {
    let rt = FakeRuntime::start().await;
    let f = Function::start(bootstrap(), &rt, None, "undeliverable");
    let port = free_port();
    let url = response_url(([127, 0, 0, 1], port).into(), "nobody");
    rt.invoke("inv-1", &placeholder_delete(&url), Duration::from_secs(8));
    let reported = rt.wait_reported(1, Duration::from_secs(20)).await;
    assert_eq!(reported.len(), 1);
    // An error, so that Lambda's retry gives the answer another chance.
    assert!(matches!(reported[0].1, Reported::Error(_)), "{reported:?}");
    assert!(f.logs().contains("answer not delivered"), "said why");
    assert_logs_clean(&f);
}

/// The handler in-process, with clients that reach nothing: for the answer
/// path around work the test gives.
fn in_process_handler() -> Handler {
    let emu_less = bedrock_setup::parts::Clients::from_sdk_config(
        &aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .http_client(bedrock_setup::http::SdkTransport::shared(http_client()))
            .build(),
        false,
    );
    Handler::new(emu_less, Settings::default(), Answerer::new(http_client()))
}

/// Work with a bug: the kind of panic a guard is for.
async fn panicking_work() -> Outcome {
    let outcomes: Vec<Outcome> = Vec::new();
    outcomes[usize::from(outcomes.is_empty())].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_in_the_work_is_answered_failed() {
    let rx = ResponseReceiver::start(0).await;
    let handler = in_process_handler();
    let ev = event("Create", &rx.url("p1"), "req-1", None, json!({}));
    let deadline = SystemTime::now() + Duration::from_secs(30);
    let result = handler
        .handle_with(ev, deadline, |_, _, _, _| panicking_work())
        .await;
    assert!(result.is_ok(), "answered, so Lambda must not retry");
    let answers = rx.answers();
    assert_eq!(answers.len(), 1);
    let body = answers[0].json();
    assert_eq!(body["Status"], "FAILED");
    assert!(
        body["Reason"]
            .as_str()
            .unwrap_or("")
            .contains("internal error"),
        "{body}"
    );
    // The id the plan gives this Create, so that the rollback Delete finds
    // whatever was made before the panic.
    assert_eq!(body["PhysicalResourceId"], create_id("req-1"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_in_an_update_or_a_delete_answers_the_current_id() {
    let current = "demo-stack-Customization-0123456789ab";
    for kind in ["Update", "Delete"] {
        let rx = ResponseReceiver::start(0).await;
        let mut ev = event(kind, &rx.url("p1"), "req-2", Some(current), json!({}));
        if kind == "Update" {
            ev["OldResourceProperties"] = json!({});
        }
        let deadline = SystemTime::now() + Duration::from_secs(30);
        let result = in_process_handler()
            .handle_with(ev, deadline, |_, _, _, _| panicking_work())
            .await;
        assert!(result.is_ok(), "{kind}: answered");
        let answers = rx.answers();
        assert_eq!(answers.len(), 1, "{kind}");
        let body = answers[0].json();
        assert_eq!(body["Status"], "FAILED", "{kind}: {body}");
        assert_eq!(body["PhysicalResourceId"], current, "{kind}: {body}");
    }
}

/// What the work was handed, for the test to judge outside the task.
#[derive(Debug)]
struct Handed {
    service_timeout: Option<Duration>,
    new_physical_id: String,
    retry_until: Option<tokio::time::Instant>,
}

/// The work is handed the request as read once: the properties' own
/// ServiceTimeout, the id a new setup takes, and waits that end inside the
/// budget ServiceTimeout gives (or Lambda's, without a valid one).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_work_is_handed_the_request_read_once_and_waits_within_its_budget() {
    let lambda = Duration::from_secs(120);
    let margins = bedrock_setup::handler::DEADLINE_MARGIN + Duration::from_secs(10);
    for (timeout, window) in [
        (json!("40"), Duration::from_secs(40)),
        (json!("soon"), lambda),
        (Value::Null, lambda),
    ] {
        let rx = ResponseReceiver::start(0).await;
        let props = if timeout.is_null() {
            json!({})
        } else {
            json!({ "ServiceTimeout": timeout })
        };
        let ev = event("Create", &rx.url("t1"), "req-3", None, props);
        let (tx, handed) = std::sync::mpsc::channel();
        let started = tokio::time::Instant::now();
        let result = in_process_handler()
            .handle_with(
                ev,
                SystemTime::now() + lambda,
                move |_, settings, _, read| async move {
                    let (service_timeout, new_physical_id) = match read {
                        Ok(e) => (e.service_timeout, e.new_physical_id),
                        Err(why) => (None, why),
                    };
                    let id = new_physical_id.clone();
                    let _ = tx.send(Handed {
                        service_timeout,
                        new_physical_id,
                        retry_until: settings.assume_role_retry.until,
                    });
                    Outcome::success(id, "judged by the test")
                },
            )
            .await;
        assert!(result.is_ok(), "{timeout}");
        let handed = handed.recv().expect("the work ran");
        let want = (timeout == json!("40")).then_some(window);
        assert_eq!(handed.service_timeout, want, "{timeout}");
        let id = create_id("req-3");
        assert_eq!(handed.new_physical_id, id, "{timeout}");
        let until = handed.retry_until.expect("the wait is bounded");
        let expected = started + window - margins;
        let off = if until > expected {
            until - expected
        } else {
            expected - until
        };
        assert!(
            off < Duration::from_secs(2),
            "{timeout}: the wait ends {off:?} away from {window:?} less the margins"
        );
        assert_eq!(
            rx.answers()[0].json()["PhysicalResourceId"],
            id,
            "{timeout}"
        );
    }
}

/// The function with only the given root certificates trusted, every AWS
/// call and the answer going to the TLS peer; what the peer served for one
/// Create, and what the runtime was told.
async fn create_over_tls(peer: &TlsPeer, trusted: &str, name: &str) -> (Vec<Value>, Reported) {
    let rt = FakeRuntime::start().await;
    let endpoint = format!("https://127.0.0.1:{}", peer.port);
    let no_dir = peer.file("no-such-dir");
    let f = Function::start_with_env(
        bootstrap(),
        &rt,
        Some(&endpoint),
        name,
        &[("SSL_CERT_FILE", trusted), ("SSL_CERT_DIR", &no_dir)],
    );
    let before = peer.served().len();
    let url = format!("{endpoint}/{name}?{SIGNATURE}");
    let props = json!({
        "ServiceToken": format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:bedrock-setup"),
        "TrainingDataUri": "s3://training-bucket/data/",
        "OutputDataUri": "s3://output-bucket/out/"
    });
    rt.invoke(
        name,
        &event("Create", &url, "req-1", None, props),
        Duration::from_secs(25),
    );
    let reported = rt.wait_reported(1, Duration::from_secs(40)).await;
    let (_, outcome) = reported.into_iter().next().unwrap_or_else(|| {
        panic!("the runtime was told nothing; logs:\n{}", f.logs());
    });
    // The peer writes its log line before it answers.
    tokio::time::sleep(Duration::from_millis(200)).await;
    (peer.served().split_off(before), outcome)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_calls_and_the_answer_trust_exactly_the_systems_root_certificates() {
    let peer = TlsPeer::start();
    // Trusted: the SDK's calls and the answer both reach the peer over TLS.
    let (served, outcome) = create_over_tls(&peer, &peer.file("ca.pem"), "trusted").await;
    let sdk_calls = served
        .iter()
        .filter(|e| e["event"] == "request" && e["signed"] == true)
        .count();
    assert!(sdk_calls > 0, "no AWS call reached the peer: {served:?}");
    let answers: Vec<&Value> = served
        .iter()
        .filter(|e| e["event"] == "request" && e["method"] == "PUT")
        .collect();
    assert_eq!(answers.len(), 1, "one answer over TLS: {served:?}");
    let body: Value =
        serde_json::from_str(answers[0]["body"].as_str().unwrap_or("")).expect("body");
    assert_eq!(body["Status"], "FAILED", "{body}");
    assert!(
        matches!(outcome, Reported::Response(_)),
        "the answer was delivered, so the invocation succeeds: {outcome:?}"
    );
    // Not trusted: neither the SDK's calls nor the answer get past the
    // handshake, so nothing is served, and the undeliverable answer is an
    // error to Lambda.
    let (served, outcome) = create_over_tls(&peer, &peer.file("other-ca.pem"), "untrusted").await;
    assert!(
        served.iter().all(|e| e["event"] == "handshake_failed") && !served.is_empty(),
        "a client trusted a certificate outside SSL_CERT_FILE: {served:?}"
    );
    assert!(matches!(outcome, Reported::Error(_)), "{outcome:?}");
}
