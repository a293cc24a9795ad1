//! CloudFormation's requests, as the library takes them and as Lambda
//! delivers them.

use std::time::Duration;

use bedrock_setup::cfn::{Request, ResponseUrl};
use bedrock_setup::plan::RequestKind;
use serde_json::{Value, json};

pub const STACK_ID: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/demo-stack/1f2e3d4c-aaaa-bbbb-cccc-000000000001";
pub const LOGICAL_ID: &str = "Customization";

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
