use bedrock_setup::cfn::response::{MAX_BODY_BYTES, body};
use bedrock_setup::cfn::{Outcome, Request, RequestError, ResponseUrl};
use serde_json::{Value, json};

const URL: &str = "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/arn%3Aaws%3Acloudformation/x?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=deadbeefsecret";

fn event(kind: &str) -> Value {
    json!({
        "RequestType": kind,
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:f",
        "ResponseURL": URL,
        "StackId": crate::common::STACK_ID,
        "RequestId": "req-1",
        "LogicalResourceId": "Customization",
        "PhysicalResourceId": "demo-stack-Customization-0123456789ab",
        "ResourceType": "Custom::BedrockCustomizationSetup",
        "ResourceProperties": crate::common::minimal(),
        "OldResourceProperties": crate::common::minimal()
    })
}

fn request() -> Request {
    Request::parse(event("Create")).expect("request")
}

#[test]
fn response_url_never_shows_in_debug_or_display() {
    let r = request();
    for text in [
        format!("{r:?}"),
        format!("{}", r.response_url),
        format!("{:?}", r.response_url),
    ] {
        assert!(
            !text.contains("X-Amz-Signature") && !text.contains("deadbeef"),
            "{text}"
        );
    }
    assert_eq!(r.response_url.expose(), URL);
    assert!(format!("{:?}", ResponseUrl::new("no scheme".into())).contains("redacted"));
}

#[test]
fn body_carries_every_field() {
    let mut o = Outcome::success("pid-1", "done it");
    o.data
        .insert("RoleArn".into(), "arn:aws:iam::123456789012:role/x".into());
    let b: Value = serde_json::from_str(&body(&request(), &o)).expect("json");
    assert_eq!(b["Status"], "SUCCESS");
    assert_eq!(b["Reason"], "done it");
    assert_eq!(b["PhysicalResourceId"], "pid-1");
    assert_eq!(b["StackId"], crate::common::STACK_ID);
    assert_eq!(b["RequestId"], "req-1");
    assert_eq!(b["LogicalResourceId"], "Customization");
    assert_eq!(b["Data"]["RoleArn"], "arn:aws:iam::123456789012:role/x");
    let f: Value =
        serde_json::from_str(&body(&request(), &Outcome::failed("pid-1", ""))).expect("json");
    assert_eq!(f["Status"], "FAILED");
    assert!(
        !f["Reason"].as_str().unwrap_or("").is_empty(),
        "Reason is always set"
    );
    let no_id: Value =
        serde_json::from_str(&body(&request(), &Outcome::failed("", "x"))).expect("json");
    assert!(
        !no_id["PhysicalResourceId"]
            .as_str()
            .unwrap_or("")
            .is_empty()
    );
}

#[test]
fn body_always_fits_4096_bytes() {
    for reason in [
        "x".repeat(10_000),
        "é\"\\\n".repeat(3_000),
        "🦀".repeat(2_000),
        "\u{1}".repeat(5_000),
    ] {
        let mut o = Outcome::failed("pid-1", reason.clone());
        o.data
            .insert("RoleArn".into(), "arn:aws:iam::123456789012:role/x".into());
        let text = body(&request(), &o);
        assert!(text.len() <= MAX_BODY_BYTES, "{}", text.len());
        let b: Value = serde_json::from_str(&text).expect("valid json after truncation");
        let r = b["Reason"].as_str().expect("reason");
        assert!(r.ends_with("[truncated]"), "{r}");
        // As much as fits: less than one escaped character (at most six
        // bytes, `\u0001`) is left unused.
        assert!(
            text.len() > MAX_BODY_BYTES - 6,
            "keeps as much as fits: {}",
            text.len()
        );
        assert_eq!(
            b["Data"]["RoleArn"], "arn:aws:iam::123456789012:role/x",
            "Data survives a long Reason"
        );
    }
    let mut huge = Outcome::success("pid", "ok");
    for i in 0..100 {
        huge.data.insert(format!("K{i}"), "v".repeat(100));
    }
    assert!(body(&request(), &huge).len() <= MAX_BODY_BYTES);
}

#[test]
fn request_kinds_and_salvage() {
    assert!(
        Request::parse(event("Update"))
            .expect("u")
            .old_properties
            .is_some()
    );
    assert_eq!(
        Request::parse(event("Delete"))
            .expect("d")
            .physical_resource_id
            .as_deref(),
        Some("demo-stack-Customization-0123456789ab")
    );
    let mut bad = event("Create");
    bad["RequestType"] = json!("Explode");
    match Request::parse(bad) {
        Err(RequestError::Answerable { partial, problem }) => {
            assert_eq!(partial.response_url.expose(), URL);
            assert!(!problem.contains("X-Amz-Signature"), "{problem}");
        }
        other => panic!("{other:?}"),
    }
    let mut missing = event("Create");
    missing.as_object_mut().expect("obj").remove("StackId");
    assert!(matches!(
        Request::parse(missing),
        Err(RequestError::Answerable { .. })
    ));
    let mut no_url = event("Create");
    no_url.as_object_mut().expect("obj").remove("ResponseURL");
    assert!(matches!(
        Request::parse(no_url),
        Err(RequestError::Unanswerable(_))
    ));
    assert!(matches!(
        Request::parse(json!("hello")),
        Err(RequestError::Unanswerable(_))
    ));
}

#[test]
fn a_deadline_sent_as_a_duration_is_counted_from_now() {
    use bedrock_setup::handler::effective_deadline;
    use std::time::{Duration, UNIX_EPOCH};
    let now = UNIX_EPOCH + Duration::from_millis(1_795_685_642_367);
    // Lambda: epoch milliseconds, taken as they are.
    let real = now + Duration::from_secs(300);
    assert_eq!(effective_deadline(real, now), real);
    // cargo-lambda's local runtime: the timeout (600000 ms) as the deadline.
    let local = UNIX_EPOCH + Duration::from_millis(600_000);
    assert_eq!(
        effective_deadline(local, now),
        now + Duration::from_secs(600)
    );
    // A deadline just passed stays passed.
    let passed = now - Duration::from_secs(1);
    assert_eq!(effective_deadline(passed, now), passed);
}
