//! The test bed's judges at work, and what they made the handler fix: every
//! request is authorized against `template.yaml` and validated against the
//! service's API model (see tests/emulator/authz.py and api_model.py). Each
//! test here shows a judge biting: a grant removed, a malformed request, a
//! path or bucket the deployment does not cover.

use crate::support::*;
use bedrock_setup::cfn::Status;
use bedrock_setup::lifecycle::{Settings, run};
use serde_json::{Value, json};

/// `template.yaml` with one edit, written where only this test reads it.
fn template_with(name: &str, from: &str, to: &str) -> std::path::PathBuf {
    let text = std::fs::read_to_string(project_dir().join("template.yaml")).expect("template");
    assert!(text.contains(from), "template.yaml no longer has {from:?}");
    let path = std::env::temp_dir().join(format!("bcs-{}-{name}.yaml", std::process::id()));
    std::fs::write(&path, text.replacen(from, to, 1)).expect("write template");
    path
}

/// `template.yaml` with the statement `sid` cut out (up to the next list
/// item at its level, or the next policy).
fn template_without_statement(sid: &str) -> std::path::PathBuf {
    let text = std::fs::read_to_string(project_dir().join("template.yaml")).expect("template");
    let marker = format!("              - Sid: {sid}\n");
    let start = text
        .find(&marker)
        .unwrap_or_else(|| panic!("no statement {sid}"));
    let rest = &text[start + marker.len()..];
    let end = [
        "\n              - ",
        "\n              #",
        "\n        - PolicyName",
        "\n\n",
    ]
    .iter()
    .filter_map(|m| rest.find(m))
    .min()
    .map_or(text.len(), |i| start + marker.len() + i + 1);
    let path = std::env::temp_dir().join(format!("bcs-{}-without-{sid}.yaml", std::process::id()));
    std::fs::write(&path, format!("{}{}", &text[..start], &text[end..])).expect("write template");
    path
}

fn details(violations: &[Value]) -> String {
    violations
        .iter()
        .map(|v| v["detail"].as_str().unwrap_or_default().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_read_scoped_to_the_path_is_denied_for_a_role_not_yet_made() {
    // The grant as it was before the judge existed: GetRole only under the
    // path. A role that does not exist yet is named role/NAME, without a
    // path, so real IAM answers AccessDenied instead of NoSuchEntity.
    let narrowed = template_with(
        "get-role-on-path",
        "Action: iam:GetRole\n                Resource: !Sub arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*",
        "Action: iam:GetRole\n                Resource: !Sub arn:${AWS::Partition}:iam::${AWS::AccountId}:role${RolePath}*",
    );
    let emu = Emulator::start_judged_by(&narrowed);
    let fx = Fixture::create(&emu).await;
    emu.clear_requests().await;
    let out = run(
        &emu.handler_clients().await,
        &fast_settings(),
        &create("narrowed", fx.full_properties()),
    )
    .await;
    assert_eq!(out.status, Status::Failed, "{}", out.reason);
    assert!(
        out.reason.contains("iam:GetRole") && out.reason.contains("AccessDenied"),
        "{}",
        out.reason
    );
    let v = emu.take_violations().await;
    let d = details(&v);
    assert!(
        d.contains("GetRole: no statement allows iam:GetRole on arn:aws:iam::123456789012:role/demo-stack-Customization-"),
        "{d}"
    );
    assert!(emu.mutating_operations().await.is_empty());
    let _ = std::fs::remove_file(narrowed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_removed_grant_fails_the_full_lifecycle() {
    // One statement at a time taken out of the template: the full lifecycle
    // must then meet a denial naming the call that needed it.
    for (sid, call) in [
        ("CreateOnlyOwnedRolesUnderThePath", "iam:CreateRole"),
        ("TagRolesWithTheOwnerTag", "iam:TagRole"),
        ("PassServiceRolesToBedrockOnly", "iam:PassRole"),
        ("CreateOnlyOwnedS3GatewayEndpoints", "ec2:CreateVpcEndpoint"),
        ("TagEndpointsAtCreation", "ec2:CreateTags"),
        ("EditTheNamedOutputBucketPolicies", "s3:GetBucketPolicy"),
        ("SubmitOnlyOwnedJobs", "bedrock:CreateModelCustomizationJob"),
        ("UseCustomModelKeysThroughBedrockOnly", "kms:"),
    ] {
        let edited = template_without_statement(sid);
        let emu = Emulator::start_judged_by(&edited);
        let fx = Fixture::create(&emu).await;
        let out = run(
            &emu.handler_clients().await,
            &fast_settings(),
            &create("without", fx.full_properties()),
        )
        .await;
        let v = emu.take_violations().await;
        assert_eq!(out.status, Status::Failed, "{sid}: {}", out.reason);
        assert!(
            details(&v).contains(call),
            "{sid}: expected a denial of {call}, got:\n{}",
            details(&v)
        );
        drop(emu);
        let _ = std::fs::remove_file(edited);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_request_is_refused_in_the_services_wire_format() {
    let emu = Emulator::start();
    let handler = emu.handler_clients().await;
    // DISTILLATION without its teacher: the model cannot say it, real
    // Bedrock refuses it, and so does the test bed.
    let err = handler
        .bedrock
        .create_model_customization_job()
        .job_name("j")
        .custom_model_name("m")
        .role_arn("arn:aws:iam::123456789012:role/bedrock-customization/r")
        .base_model_identifier("amazon.titan-text-express-v1")
        .customization_type(aws_sdk_bedrock::types::CustomizationType::Distillation)
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
        .job_tags(
            aws_sdk_bedrock::types::Tag::builder()
                .key(bedrock_setup::model::OWNER_TAG_KEY)
                .value("x")
                .build()
                .expect("tag"),
        )
        .send()
        .await
        .expect_err("refused");
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_validation_exception()),
        "{err:?}"
    );
    // A role name IAM's model refuses (65 characters).
    let long = "r".repeat(65);
    let err = handler
        .iam
        .get_role()
        .role_name(&long)
        .send()
        .await
        .expect_err("refused");
    assert_eq!(
        aws_sdk_iam::error::ProvideErrorMetadata::code(&err),
        Some("ValidationError")
    );
    let v = emu.take_violations().await;
    let d = details(&v);
    assert_eq!(v.len(), 2, "{d}");
    assert!(
        d.contains("distillationConfig: is required when customizationType is DISTILLATION"),
        "{d}"
    );
    assert!(
        d.contains("RoleName: is 65 characters, at most 64 allowed"),
        "{d}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_distillation_job_carries_its_teacher() {
    let emu = Emulator::start();
    let fx = Fixture::create(&emu).await;
    let mut props = fx.full_properties();
    props["Job"]["BaseModelIdentifier"] = json!("amazon.nova-micro-v1:0");
    props["Job"]["CustomizationType"] = json!("DISTILLATION");
    props["Job"]["TeacherModelIdentifier"] = json!("amazon.nova-pro-v1:0");
    props["Job"]["MaxResponseLengthForInference"] = json!("1000");
    props["Job"]
        .as_object_mut()
        .expect("job")
        .remove("HyperParameters");
    let out = run(
        &emu.handler_clients().await,
        &fast_settings(),
        &create("distil", props.clone()),
    )
    .await;
    assert_eq!(out.status, Status::Success, "{}", out.reason);
    // The request itself: the judge saw the teacher (a DISTILLATION without
    // it is a violation, see above); the job exists with the type asked for.
    let check = emu.check_clients().await;
    let job = check
        .bedrock
        .get_model_customization_job()
        .job_identifier(&out.data["JobName"])
        .send()
        .await
        .expect("job");
    assert_eq!(job.job_name(), out.data["JobName"]);
    let out = run(
        &emu.handler_clients().await,
        &fast_settings(),
        &delete("distil-delete", &out.physical_id, props),
    )
    .await;
    assert_eq!(out.status, Status::Success, "{}", out.reason);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_path_outside_the_handlers_path_is_refused_before_any_call() {
    let emu = Emulator::start();
    let fx = Fixture::create(&emu).await;
    emu.clear_requests().await;
    let mut props = fx.full_properties();
    props["RolePath"] = json!("/admins/");
    let out = run(
        &emu.handler_clients().await,
        &fast_settings(),
        &create("outside", props),
    )
    .await;
    assert_eq!(out.status, Status::Failed);
    assert!(
        out.reason
            .contains("RolePath: '/admins/' lies outside the path this handler may manage")
            && out.reason.contains("'/bedrock-customization/'"),
        "{}",
        out.reason
    );
    assert!(emu.requests().await.is_empty(), "no AWS call at all");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_after_the_handlers_path_moved_removes_the_rest_and_says_what_to_do() {
    let emu = Emulator::start();
    let fx = Fixture::create(&emu).await;
    let handler = emu.handler_clients().await;
    let props = fx.full_properties();
    let out = run(&handler, &fast_settings(), &create("made", props.clone())).await;
    assert_eq!(out.status, Status::Success, "{}", out.reason);
    // The handler stack was redeployed with another RolePath.
    let moved = Settings {
        managed_role_path: "/moved/".into(),
        ..fast_settings()
    };
    let gone = run(&handler, &moved, &delete("gone", &out.physical_id, props)).await;
    assert_eq!(gone.status, Status::Failed);
    assert!(
        gone.reason.contains("RolePath: role '")
            && gone.reason.contains("outside the path '/moved/'")
            && gone
                .reason
                .contains("redeploy the handler stack with RolePath '/bedrock-customization/'"),
        "{}",
        gone.reason
    );
    // Everything else is gone; the role stays for the retry.
    let inv = inventory(&emu.check_clients().await, &fx.output_bucket).await;
    assert!(inv.endpoints.is_empty(), "{inv:?}");
    assert_eq!(inv.roles, vec![out.physical_id.clone()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_output_bucket_the_deployment_does_not_name_is_refused_naming_it() {
    let emu = Emulator::start();
    let fx = Fixture::create(&emu).await;
    let check = emu.check_clients().await;
    check
        .s3
        .create_bucket()
        .bucket("unlisted-bucket")
        .send()
        .await
        .expect("bucket");
    emu.clear_requests().await;
    let mut props = fx.full_properties();
    props["OutputDataUri"] = json!("s3://unlisted-bucket/out/");
    let out = run(
        &emu.handler_clients().await,
        &fast_settings(),
        &create("unlisted", props),
    )
    .await;
    assert_eq!(out.status, Status::Failed);
    assert!(
        out.reason.contains("OutputDataUri") && out.reason.contains("OutputBucketPattern"),
        "{}",
        out.reason
    );
    assert!(emu.mutating_operations().await.is_empty());
    let v = emu.take_violations().await;
    assert!(
        v.iter().all(|x| x["operation"] == "GetBucketPolicy")
            && details(&v).contains("arn:aws:s3:::unlisted-bucket"),
        "{}",
        details(&v)
    );
}

#[test]
#[should_panic(expected = "No such file or directory")]
fn an_emulator_that_cannot_start_says_why() {
    // The test bed shows the emulator's own error instead of a bare
    // "no port": here, a template that does not exist.
    let _ = Emulator::start_judged_by(std::path::Path::new("/nonexistent/template.yaml"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_judged_request_gets_a_second_verdict() {
    // The second judge (tests/judge: an IAM simulator over the Service
    // Authorization Reference) answers every question authz.py answers;
    // any difference would have been a violation, which the test bed fails.
    let emu = Emulator::start();
    let fx = Fixture::create(&emu).await;
    let handler = emu.handler_clients().await;
    let props = fx.full_properties();
    let made = run(&handler, &fast_settings(), &create("judged", props.clone())).await;
    assert_eq!(made.status, Status::Success, "{}", made.reason);
    let gone = run(
        &handler,
        &fast_settings(),
        &delete("judged-delete", &made.physical_id, props),
    )
    .await;
    assert_eq!(gone.status, Status::Success, "{}", gone.reason);
    let requests = emu.requests().await;
    let judged: Vec<&Value> = requests
        .iter()
        .filter(|r| r["judged"].as_u64().is_some())
        .collect();
    assert!(judged.len() > 20, "only {} judged requests", judged.len());
    for r in &judged {
        assert_eq!(r["second_verdicts"], r["judged"], "{r}");
    }
    let questions: u64 = judged.iter().filter_map(|r| r["judged"].as_u64()).sum();
    assert!(questions > judged.len() as u64, "{questions} questions");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_role_is_judged_by_bedrocks_own_requests() {
    // A full Create (VPC, endpoint, keys, a validation file) gets its job
    // accepted; the emulator then puts Bedrock's requests for that job, and
    // their near misses, to both judges over the role it holds. A need
    // refused or a near miss allowed is a violation, which fails the test as
    // the emulator is dropped; here the count proves the judging ran.
    let emu = Emulator::start();
    let fx = Fixture::create(&emu).await;
    let handler = emu.handler_clients().await;
    assert_eq!(emu.service_roles_judged().await, 0);
    let made = run(
        &handler,
        &fast_settings(),
        &create("role-judged", fx.full_properties()),
    )
    .await;
    assert_eq!(made.status, Status::Success, "{}", made.reason);
    assert_eq!(emu.service_roles_judged().await, 1);
    let violations = emu.take_violations().await;
    assert!(violations.is_empty(), "{violations:?}");
}
