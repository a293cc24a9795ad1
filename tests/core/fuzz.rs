//! Property-based checks: the parser and the bucket-policy merge never
//! panic, whatever they are given, and merge-then-remove gives back the
//! user's policy.

use bedrock_setup::cfn::response::{MAX_BODY_BYTES, body};
use bedrock_setup::cfn::{Outcome, Request};
use bedrock_setup::policy::bucket::*;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use crate::common::*;

pub(crate) fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::String),
        prop_oneof![
            Just("true"),
            Just("FALSE"),
            Just("s3://a-bucket/k"),
            Just("subnet-0123abcd"),
            Just("arn:aws:kms:us-east-1:123456789012:key/k")
        ]
        .prop_map(|s| Value::String(s.into())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(".{0,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

/// Every property path the parser knows, and one it does not.
pub(crate) fn paths() -> Vec<String> {
    use bedrock_setup::model::customization::INVOCATION_LOGS_KEYS;
    use bedrock_setup::model::deployment::DEPLOYMENT_KEYS;
    use bedrock_setup::model::job::JOB_KEYS;
    use bedrock_setup::model::network::{ENDPOINT_KEYS, VPC_KEYS};
    use bedrock_setup::model::properties::TOP_LEVEL;
    let nested = |parent: &str, keys: &[&str]| -> Vec<String> {
        keys.iter().map(|k| format!("{parent}.{k}")).collect()
    };
    TOP_LEVEL
        .iter()
        .map(|k| k.to_string())
        .chain(nested("VpcConfig", VPC_KEYS))
        .chain(nested("S3Endpoint", ENDPOINT_KEYS))
        .chain(nested("Job", JOB_KEYS))
        .chain(nested("InvocationLogs", INVOCATION_LOGS_KEYS))
        .chain(nested("Deployment", DEPLOYMENT_KEYS))
        .chain(["Unknown".to_string()])
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn parser_never_panics_on_any_json(v in arb_json()) {
        let _ = parse(&v);
    }

    #[test]
    fn parser_never_panics_on_a_fuzzed_property(path in prop::sample::select(paths()), v in arb_json()) {
        let props = with(full(), &path, v);
        if let Err(e) = parse(&props) {
            // Whatever is wrong is said, naming where.
            prop_assert!(!e.0.is_empty());
            prop_assert!(e.0.iter().all(|p| !p.property.is_empty() && !p.allowed.is_empty()));
        }
    }

    #[test]
    fn merge_never_panics_on_any_text(text in ".{0,200}", v in arb_json()) {
        let ours = output_bucket_statement("BedrockSetupVpcOnlyX", "aws", "b", "vpc-1");
        let _ = merge_statement(Some(&text), &ours);
        let _ = remove_statement(&text, "BedrockSetupVpcOnlyX");
        let _ = merge_statement(Some(&v.to_string()), &ours);
        let _ = remove_statement(&v.to_string(), "BedrockSetupVpcOnlyX");
    }

    #[test]
    fn merge_then_remove_gives_back_the_users_policy(
        statements in prop::collection::vec((proptest::option::of("[A-Za-z0-9]{1,12}"), arb_json()), 1..6),
        id in proptest::option::of("[a-z-]{1,10}"),
    ) {
        let statements: Vec<Value> = statements
            .into_iter()
            .map(|(sid, extra)| {
                let mut s = json!({ "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*", "Extra": extra });
                if let Some(sid) = sid {
                    s["Sid"] = json!(sid);
                }
                s
            })
            .collect();
        let mut user = json!({ "Version": "2012-10-17", "Statement": statements });
        if let Some(id) = id {
            user["Id"] = json!(id);
        }
        // Our Sid's prefix never occurs in a user's short alphanumeric Sid.
        let ours = output_bucket_statement("BedrockSetupVpcOnlydemostackX0123456789ab", "aws", "b", "vpc-1");
        let merged = merge_statement(Some(&user.to_string()), &ours).expect("merge");
        prop_assert!(contains_statement(&merged, &ours));
        match remove_statement(&merged, "BedrockSetupVpcOnlydemostackX0123456789ab").expect("remove") {
            AfterRemoval::Remaining(p) => prop_assert_eq!(serde_json::from_str::<Value>(&p).expect("json"), user),
            other => prop_assert!(false, "expected the user's policy back, got {:?}", other),
        }
    }

    #[test]
    fn answer_body_always_fits(reason in ".{0,6000}", data in prop::collection::btree_map("[A-Za-z]{1,20}", ".{0,300}", 0..20)) {
        let req = Request::parse(json!({
            "RequestType": "Create", "ResponseURL": "https://example.invalid/x?X-Amz-Signature=s",
            "StackId": STACK_ID, "RequestId": "r", "LogicalResourceId": "L",
            "ResourceType": "Custom::BedrockCustomizationSetup", "ResourceProperties": {}
        })).expect("request");
        let mut o = Outcome::failed("pid", reason);
        o.data = data;
        let text = body(&req, &o);
        prop_assert!(text.len() <= MAX_BODY_BYTES);
        let v: Value = serde_json::from_str(&text).expect("valid JSON");
        prop_assert!(!v["Reason"].as_str().unwrap_or("").is_empty());
    }
}
