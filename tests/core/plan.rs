use bedrock_setup::model::identity::physical_id_for;
use bedrock_setup::plan::*;
use serde_json::{Value, json};

use crate::common::*;

/// The plan's decision on an event, with the properties parsed as the
/// orchestrator parses them (once, where the request is read).
fn decide(
    kind: RequestKind,
    pid: Option<&str>,
    props: &Value,
    old: Option<&Value>,
    deployed: Option<&str>,
    stack: &bedrock_setup::model::StackIdentity,
) -> Decision {
    use bedrock_setup::model::SetupProperties;
    let new = SetupProperties::parse(props, stack);
    let old = old.map(|o| SetupProperties::parse(o, stack));
    bedrock_setup::plan::decide(&EventFacts {
        kind,
        stack,
        logical_id: "Customization",
        new_physical_id: &physical_id_for(stack, "Customization", "req-9"),
        physical_id: pid,
        properties: &new,
        old_properties: old.as_ref(),
        deployed_fingerprint: deployed,
        managed_role_path: "/bedrock-customization/",
    })
}

fn current_id() -> String {
    physical_id_for(&stack(), "Customization", "req-1")
}

fn delete(pid: &str, props: &Value) -> Decision {
    decide(RequestKind::Delete, Some(pid), props, None, None, &stack())
}

fn update(new: &Value, old: &Value) -> Decision {
    let s = stack();
    let pid = current_id();
    decide(RequestKind::Update, Some(&pid), new, Some(old), None, &s)
}

#[test]
fn create_makes_a_new_setup_with_a_derived_id() {
    let s = stack();
    let props = full();
    match decide(RequestKind::Create, None, &props, None, None, &s) {
        Decision::Ensure(e) => {
            assert_eq!(e.how, EnsureKind::Create);
            assert_eq!(e.physical_id, physical_id_for(&s, "Customization", "req-9"));
            assert!(e.is_new_setup());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn invalid_create_is_refused_with_the_id_it_would_have() {
    let s = stack();
    let props = with(full(), "TrainingDataUri", json!("nope"));
    match decide(RequestKind::Create, None, &props, None, None, &s) {
        Decision::Refuse {
            physical_id,
            reason,
        } => {
            assert_eq!(physical_id, physical_id_for(&s, "Customization", "req-9"));
            assert!(reason.contains("TrainingDataUri"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn in_place_changes_keep_the_id() {
    let cases: Vec<(&str, Value, &str)> = vec![
        ("Tags", json!([{ "Key": "team", "Value": "other" }]), "Tags"),
        ("KmsKeyArns", json!([]), "KmsKeyArns"),
        (
            "RestrictOutputBucketToVpc",
            json!("false"),
            "RestrictOutputBucketToVpc",
        ),
        (
            "PermissionsBoundaryArn",
            json!("arn:aws:iam::123456789012:policy/other"),
            "PermissionsBoundaryArn",
        ),
        ("S3Endpoint.Policy", json!("FullAccess"), "S3Endpoint"),
        ("S3Endpoint.Create", json!("false"), "S3Endpoint"),
        (
            "Job.DeleteCustomModelOnDelete",
            json!("true"),
            "Job.StopJobOnDelete/DeleteCustomModelOnDelete",
        ),
    ];
    for (path, value, label) in cases {
        let new = with(full(), path, value);
        match update(&new, &full()) {
            Decision::Ensure(Ensure {
                physical_id,
                how: EnsureKind::InPlace { changed },
                ..
            }) => {
                assert_eq!(physical_id, current_id(), "{path}");
                assert_eq!(changed, vec![label], "{path}");
            }
            other => panic!("{path}: {other:?}"),
        }
    }
    // Nothing changed at all, or only what changes nothing in AWS
    // (ServiceTimeout, ServiceToken): read back, no work.
    let mut timeout_only = with(full(), "ServiceTimeout", json!("900"));
    timeout_only["ServiceToken"] = json!("arn:aws:lambda:us-east-1:123456789012:function:moved");
    for new in [full(), timeout_only] {
        match update(&new, &with(full(), "ServiceTimeout", json!(120))) {
            Decision::Unchanged { physical_id, .. } => assert_eq!(physical_id, current_id()),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn service_timeout_is_validated_and_read_for_the_budget() {
    use bedrock_setup::model::ResourceProperties;
    use std::time::Duration;
    let service_timeout = |props: &Value| ResourceProperties::read(props, &stack()).service_timeout;
    for (v, want) in [
        (json!("1"), Some(1)),
        (json!("3600"), Some(3600)),
        (json!(900), Some(900)),
        (json!(" 60 "), Some(60)),
    ] {
        let props = with(full(), "ServiceTimeout", v.clone());
        assert!(parse(&props).is_ok(), "{v}");
        assert_eq!(
            service_timeout(&props),
            want.map(Duration::from_secs),
            "{v}"
        );
    }
    for v in [
        json!("0"),
        json!("3601"),
        json!("1.5"),
        json!("soon"),
        json!(-5),
        json!(true),
    ] {
        let props = with(full(), "ServiceTimeout", v.clone());
        let e = parse(&props).expect_err("invalid").to_string();
        assert!(
            e.contains("ServiceTimeout") && e.contains("from 1 to 3600"),
            "{v}: {e}"
        );
        assert_eq!(service_timeout(&props), None, "{v}");
    }
    assert_eq!(service_timeout(&full()), None);
}

#[test]
fn changes_a_job_depends_on_replace_the_setup() {
    let cases: Vec<(&str, Value)> = vec![
        ("TrainingDataUri", json!("s3://training-bucket/other.jsonl")),
        ("ValidationDataUris", json!([])),
        ("OutputDataUri", json!("s3://output-bucket/elsewhere/")),
        (
            "VpcConfig.SecurityGroupIds",
            json!(["sg-0123456789abcdef1"]),
        ),
        ("RoleName", json!("another-role")),
        ("RolePath", json!("/bedrock-customization/other/")),
        ("Job.BaseModelIdentifier", json!("amazon.nova-micro-v1:0")),
        ("Job.HyperParameters", json!({ "epochCount": "3" })),
        ("Job.CustomizationType", json!("CONTINUED_PRE_TRAINING")),
        (
            "Job.CustomModelKmsKeyArn",
            json!("arn:aws:kms:us-east-1:123456789012:key/0000abcd-12ab-34cd-56ef-1234567890ab"),
        ),
        ("Job.JobName", json!("another-job")),
    ];
    for (path, value) in cases {
        // Names fixed in `full()` would clash; unset them unless the case
        // is about that name.
        let mut old = without(without(full(), "Job.CustomModelName"), "Job.JobName");
        if path != "RoleName" {
            old = without(old, "RoleName");
        }
        let new = with(old.clone(), path, value);
        match update(&new, &old) {
            Decision::Ensure(Ensure {
                physical_id,
                how: EnsureKind::Replace {
                    old_physical_id, ..
                },
                ..
            }) => {
                assert_ne!(physical_id, current_id(), "{path}");
                assert_eq!(old_physical_id, current_id());
            }
            other => panic!("{path}: {other:?}"),
        }
    }
}

#[test]
fn fixed_names_that_a_replacement_would_reuse_are_refused() {
    let new = with(full(), "Job.HyperParameters", json!({ "epochCount": "3" }));
    match update(&new, &full()) {
        Decision::Refuse {
            physical_id,
            reason,
        } => {
            assert_eq!(physical_id, current_id());
            for n in [
                "RoleName 'my-role'",
                "Job.JobName 'my-job'",
                "Job.CustomModelName 'my-model'",
            ] {
                assert!(reason.contains(n), "{n}: {reason}");
            }
            assert!(
                reason.contains("change the name or leave it unset"),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }
    // Renaming everything is fine.
    let renamed = with(
        with(
            with(new, "RoleName", json!("r2")),
            "Job.JobName",
            json!("j2"),
        ),
        "Job.CustomModelName",
        json!("m2"),
    );
    assert!(matches!(
        update(&renamed, &full()),
        Decision::Ensure(Ensure {
            how: EnsureKind::Replace { .. },
            ..
        })
    ));
}

#[test]
fn rollback_to_what_is_deployed_is_in_place() {
    let s = stack();
    let pid = current_id();
    let deployed_props = full();
    let failed_new = with(full(), "Job.HyperParameters", json!({ "epochCount": "3" }));
    let fp = parse_ok(&deployed_props).replacement_fingerprint();
    let d = decide(
        RequestKind::Update,
        Some(&pid),
        &deployed_props,
        Some(&failed_new),
        Some(&fp),
        &s,
    );
    assert!(
        matches!(
            d,
            Decision::Ensure(Ensure {
                how: EnsureKind::InPlace { .. },
                ..
            })
        ),
        "{d:?}"
    );
    // Without the fingerprint the same event would replace (or refuse).
    let d = decide(
        RequestKind::Update,
        Some(&pid),
        &deployed_props,
        Some(&failed_new),
        None,
        &s,
    );
    assert!(
        !matches!(
            d,
            Decision::Ensure(Ensure {
                how: EnsureKind::InPlace { .. },
                ..
            })
        ),
        "{d:?}"
    );
}

#[test]
fn update_with_invalid_old_properties_reconciles_in_place() {
    let old = with(full(), "TrainingDataUri", json!("broken"));
    assert!(matches!(
        update(&full(), &old),
        Decision::Ensure(Ensure {
            how: EnsureKind::InPlace { .. },
            ..
        })
    ));
}

#[test]
fn invalid_update_is_refused_keeping_the_id() {
    match update(&with(full(), "VpcConfig.SubnetIds", json!([])), &full()) {
        Decision::Refuse { physical_id, .. } => assert_eq!(physical_id, current_id()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn update_of_a_placeholder_makes_a_new_setup() {
    let s = stack();
    let props = full();
    let d = decide(
        RequestKind::Update,
        Some("demo-stack-Customization-1ABCDEFGHIJK"),
        &props,
        Some(&props),
        None,
        &s,
    );
    match d {
        Decision::Ensure(e) => assert_eq!(e.how, EnsureKind::Create),
        other => panic!("{other:?}"),
    }
}

#[test]
fn delete_decisions() {
    let pid = current_id();
    let props = full();
    assert!(matches!(delete(&pid, &props), Decision::Teardown { .. }));
    match delete("demo-stack-Customization-1ABCDEFGHIJK", &props) {
        Decision::Nothing { physical_id, why } => {
            assert_eq!(physical_id, "demo-stack-Customization-1ABCDEFGHIJK");
            assert!(why.contains("not made by this handler"), "{why}");
        }
        other => panic!("{other:?}"),
    }
    let bad = with(full(), "OutputDataUri", json!("x"));
    assert!(matches!(delete(&pid, &bad), Decision::Nothing { .. }));
}

#[test]
fn fingerprint_ignores_in_place_properties_only() {
    let base = parse_ok(&full()).replacement_fingerprint();
    assert_eq!(
        base,
        parse_ok(&with(full(), "Tags", json!([]))).replacement_fingerprint()
    );
    assert_eq!(
        base,
        parse_ok(&with(full(), "RestrictOutputBucketToVpc", json!("false")))
            .replacement_fingerprint()
    );
    assert_ne!(
        base,
        parse_ok(&with(
            full(),
            "OutputDataUri",
            json!("s3://output-bucket/b/")
        ))
        .replacement_fingerprint()
    );
    assert_ne!(
        base,
        parse_ok(&with(full(), "Job.HyperParameters", json!({}))).replacement_fingerprint()
    );
}

#[test]
fn a_role_path_outside_the_handlers_path_is_refused_on_create_and_update() {
    let s = stack();
    for path in ["/", "/other/", "/bedrock/"] {
        let mut props = minimal();
        props["RolePath"] = json!(path);
        let create = decide(RequestKind::Create, None, &props, None, None, &s);
        match create {
            Decision::Refuse { reason, .. } => {
                assert!(reason.contains("RolePath"), "{reason}");
                assert!(reason.contains("'/bedrock-customization/'"), "{reason}");
            }
            other => panic!("{path}: {other:?}"),
        }
        match update(&props, &minimal()) {
            Decision::Refuse { reason, .. } => assert!(reason.contains("RolePath"), "{reason}"),
            other => panic!("{path}: {other:?}"),
        }
    }
    // The managed path itself and paths below it are fine.
    for path in ["/bedrock-customization/", "/bedrock-customization/team-a/"] {
        let mut props = minimal();
        props["RolePath"] = json!(path);
        assert!(matches!(
            decide(RequestKind::Create, None, &props, None, None, &s),
            Decision::Ensure(_)
        ));
    }
}

#[test]
fn a_delete_is_decided_whatever_the_role_path() {
    // A Delete must never be refused for a path: the teardown says what it
    // cannot remove (see parts::role::teardown), everything else goes.
    let pid = current_id();
    let mut props = minimal();
    props["RolePath"] = json!("/elsewhere/");
    assert!(matches!(delete(&pid, &props), Decision::Teardown { .. }));
}

#[test]
fn a_change_to_a_grader_teacher_or_log_source_replaces_the_setup() {
    let cases: Vec<(Value, &str, Value)> = vec![
        (
            rft(),
            "Job.GraderLambdaArn",
            json!("arn:aws:lambda:us-east-1:123456789012:function:other-reward"),
        ),
        (rft(), "Job.HyperParameters.learningRate", json!("0.0002")),
        (
            profile_teacher(),
            "Job.TeacherModelIdentifier",
            json!("us.meta.llama3-3-70b-instruct-v1:0"),
        ),
        (
            invocation_logs(),
            "InvocationLogs.SourceUri",
            json!("s3://invocation-logs/other/"),
        ),
        (
            invocation_logs(),
            "InvocationLogs.RequestMetadataFilters.Equals.project",
            json!("another-bot"),
        ),
    ];
    for (base, path, value) in cases {
        let old = without(
            without(without(base, "Job.CustomModelName"), "Job.JobName"),
            "RoleName",
        );
        let new = with(old.clone(), path, value);
        match update(&new, &old) {
            Decision::Ensure(Ensure {
                physical_id,
                how: EnsureKind::Replace { .. },
                ..
            }) => assert_ne!(physical_id, current_id(), "{path}"),
            other => panic!("{path}: {other:?}"),
        }
        // The same properties again change nothing.
        match update(&old, &old) {
            Decision::Unchanged { physical_id, .. } => assert_eq!(physical_id, current_id()),
            other => panic!("{path} unchanged: {other:?}"),
        }
    }
}

/// A request as the handler receives it, for `Event::read`.
fn request(
    kind: RequestKind,
    stack_id: &str,
    props: Value,
    old: Option<Value>,
) -> bedrock_setup::cfn::Request {
    bedrock_setup::cfn::Request {
        kind,
        request_id: "req-7".into(),
        response_url: bedrock_setup::cfn::ResponseUrl::new(
            "https://example.com/r?X-Amz-Signature=s".into(),
        ),
        stack_id: stack_id.into(),
        logical_resource_id: "Customization".into(),
        physical_resource_id: old.as_ref().map(|_| current_id()),
        properties: props,
        old_properties: old,
    }
}

#[test]
fn a_request_is_read_once_into_what_the_handler_and_the_plan_need() {
    use std::time::Duration;
    let props = with(full(), "ServiceTimeout", json!("900"));
    let old = with(full(), "RoleName", json!("old-role"));
    let req = request(
        RequestKind::Update,
        STACK_ID,
        props.clone(),
        Some(old.clone()),
    );
    let event = Event::read(&req).expect("a readable stack id");
    assert_eq!(event.stack, stack());
    assert_eq!(
        event.new_physical_id,
        physical_id_for(&stack(), "Customization", "req-7")
    );
    assert_eq!(event.properties, parse(&props));
    assert_eq!(event.old_properties, Some(parse(&old)));
    assert_eq!(event.service_timeout, Some(Duration::from_secs(900)));

    // An invalid ServiceTimeout bounds nothing and is among the problems.
    let bad = request(
        RequestKind::Create,
        STACK_ID,
        with(full(), "ServiceTimeout", json!("0")),
        None,
    );
    let event = Event::read(&bad).expect("a readable stack id");
    assert_eq!(event.service_timeout, None);
    let problems = event.properties.expect_err("invalid").to_string();
    assert!(problems.contains("ServiceTimeout"), "{problems}");
    assert_eq!(event.old_properties, None);
}

#[test]
fn a_request_whose_stack_id_cannot_be_read_says_so() {
    let req = request(RequestKind::Create, "not-a-stack", full(), None);
    let why = Event::read(&req).expect_err("unreadable");
    assert!(
        why.contains("StackId") && why.contains("not-a-stack"),
        "{why}"
    );
}

#[test]
fn a_new_setup_takes_the_id_the_reading_gave() {
    let s = stack();
    let facts_id = "demo-stack-Customization-00000000beef";
    let new = parse(&full());
    let decided = bedrock_setup::plan::decide(&EventFacts {
        kind: RequestKind::Create,
        stack: &s,
        logical_id: "Customization",
        new_physical_id: facts_id,
        physical_id: None,
        properties: &new,
        old_properties: None,
        deployed_fingerprint: None,
        managed_role_path: "/bedrock-customization/",
    });
    match decided {
        Decision::Ensure(e) => assert_eq!(e.physical_id, facts_id),
        other => panic!("{other:?}"),
    }
}
