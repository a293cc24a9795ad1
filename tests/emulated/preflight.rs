//! Pre-flight checks and ServiceTimeout (SPEC section 7) against the
//! emulator: each doomed setup refused in seconds, naming the property, with
//! no call that changes anything; a check the user's policies prevent is a
//! warning; an Update of only ServiceTimeout changes nothing.

use crate::support::json_paths::with;
use crate::support::*;
use bedrock_setup::cfn::Status;
use bedrock_setup::lifecycle::run;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_doomed_setup_is_refused_naming_the_property_before_any_change() {
    let emu = Emulator::start();
    let fx = Fixture::create(&emu).await;
    let check = emu.check_clients().await;
    // What the cases point at.
    check
        .s3
        .create_bucket()
        .bucket("output-bucket-eu")
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
                .build(),
        )
        .send()
        .await
        .expect("eu bucket");
    let disabled = check.kms.create_key().send().await.expect("key");
    let meta = disabled.key_metadata().expect("metadata");
    // moto's DisableKey takes the key id only.
    check
        .kms
        .disable_key()
        .key_id(meta.key_id())
        .send()
        .await
        .expect("disable");
    let disabled = meta.arn().expect("arn").to_string();
    let signing = check
        .kms
        .create_key()
        .key_spec(aws_sdk_kms::types::KeySpec::Rsa2048)
        .key_usage(aws_sdk_kms::types::KeyUsageType::SignVerify)
        .send()
        .await
        .expect("key");
    let signing = signing
        .key_metadata()
        .and_then(|m| m.arn())
        .expect("arn")
        .to_string();
    let full = fx.full_properties();
    let with = |path: &str, value: Value| with(full.clone(), path, value);
    let cases: Vec<(&str, &str, Value)> = vec![
        (
            "TrainingDataUri",
            "nothing was found at s3://training-bucket/train/missing.jsonl",
            with(
                "TrainingDataUri",
                json!("s3://training-bucket/train/missing.jsonl"),
            ),
        ),
        (
            "TrainingDataUri",
            "bucket 'no-training-here' does not exist",
            with("TrainingDataUri", json!("s3://no-training-here/t.jsonl")),
        ),
        (
            "ValidationDataUris[0]",
            "nothing was found at s3://training-bucket/empty/",
            with("ValidationDataUris", json!(["s3://training-bucket/empty/"])),
        ),
        (
            "OutputDataUri",
            "is in eu-west-1, not in the stack's region us-east-1",
            {
                // Not restricted: the deployment may not edit this bucket's policy.
                let mut p = with("OutputDataUri", json!("s3://output-bucket-eu/out/"));
                p["RestrictOutputBucketToVpc"] = json!("false");
                p
            },
        ),
        (
            "Job.BaseModelIdentifier",
            "'amazon.nothing-v9' was not found in us-east-1",
            with("Job.BaseModelIdentifier", json!("amazon.nothing-v9")),
        ),
        (
            "Job.BaseModelIdentifier",
            "does not support FINE_TUNING (it supports no customization)",
            with(
                "Job.BaseModelIdentifier",
                json!("amazon.titan-embed-text-v2:0"),
            ),
        ),
        (
            "Job.BaseModelIdentifier",
            "does not support DISTILLATION (it supports FINE_TUNING, CONTINUED_PRE_TRAINING)",
            {
                let mut p = with("Job.CustomizationType", json!("DISTILLATION"));
                p["Job"]["TeacherModelIdentifier"] = json!("amazon.nova-pro-v1:0");
                p["Job"]
                    .as_object_mut()
                    .expect("job")
                    .remove("HyperParameters");
                p
            },
        ),
        (
            "Job.BaseModelIdentifier",
            "custom model 'my-earlier-model' was not found",
            with("Job.BaseModelIdentifier", json!("my-earlier-model")),
        ),
        (
            "KmsKeyArns[0]",
            "does not exist",
            with(
                "KmsKeyArns",
                json!([
                    "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000"
                ]),
            ),
        ),
        (
            "KmsKeyArns[0]",
            "is Disabled",
            with("KmsKeyArns", json!([disabled])),
        ),
        (
            "Job.CustomModelKmsKeyArn",
            "is a RSA_2048 key for SIGN_VERIFY",
            with("Job.CustomModelKmsKeyArn", json!(signing)),
        ),
        (
            "KmsKeyArns[0]",
            "is in eu-west-1",
            with(
                "KmsKeyArns",
                json!([
                    "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"
                ]),
            ),
        ),
        (
            "VpcConfig.SecurityGroupIds",
            "sg-0123456789abcdef9",
            with(
                "VpcConfig.SecurityGroupIds",
                json!(["sg-0123456789abcdef9"]),
            ),
        ),
    ];
    let problems = refused_before_any_change(&emu, cases).await;
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // All of it one round trip: the checks ran beside the other lookups.
    assert!(inventory(&check, &fx.output_bucket).await.roles.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_the_users_policies_prevent_is_a_warning_not_a_failure() {
    // The data buckets deny the handler's listing (here: the grant is not
    // in the template, which IAM judges the same way).
    let text = std::fs::read_to_string(project_dir().join("template.yaml")).expect("template");
    let edited = text.replace("Action: s3:ListBucket\n", "Action: s3:ListBucketVersions\n");
    assert_ne!(edited, text);
    let path = std::env::temp_dir().join(format!("bcs-{}-no-list.yaml", std::process::id()));
    std::fs::write(&path, edited).expect("write");
    let emu = Emulator::start_judged_by(&path);
    let fx = Fixture::create(&emu).await;
    let out = create_with(&emu, "warned", fx.full_properties()).await;
    assert_eq!(out.status, Status::Success, "{}", out.reason);
    assert!(
        out.reason.contains(
            "not checked: TrainingDataUri: could not check s3://training-bucket/train/data.jsonl"
        ) && out
            .reason
            .contains("ValidationDataUris[0]: could not check"),
        "{}",
        out.reason
    );
    let v = emu.take_violations().await;
    assert!(v.iter().all(|x| x["operation"] == "ListObjectsV2"), "{v:?}");
    assert_eq!(v.len(), 2, "{v:?}");
    let _ = std::fs::remove_file(path);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_timeout_is_accepted_and_an_update_of_only_it_changes_nothing() {
    let emu = Emulator::start();
    let fx = Fixture::create(&emu).await;
    let handler = emu.handler_clients().await;
    let mut props = fx.full_properties();
    props["ServiceTimeout"] = json!("900");
    let made = run(&handler, &fast_settings(), &create("timed", props.clone())).await;
    assert_eq!(made.status, Status::Success, "{}", made.reason);
    let before = inventory(&emu.check_clients().await, &fx.output_bucket).await;

    // ServiceTimeout (a number now) and ServiceToken change: nothing else.
    let mut new = props.clone();
    new["ServiceTimeout"] = json!(1800);
    new["ServiceToken"] = json!("arn:aws:lambda:us-east-1:123456789012:function:moved");
    emu.clear_requests().await;
    let out = run(
        &handler,
        &fast_settings(),
        &update("timed-update", &made.physical_id, new, props),
    )
    .await;
    assert_eq!(out.status, Status::Success, "{}", out.reason);
    assert_eq!(out.physical_id, made.physical_id);
    assert_eq!(out.data, made.data, "the same outputs, read back");
    let calls = emu.mutating_operations().await;
    assert!(calls.is_empty(), "no AWS writes: {calls:?}");
    assert_eq!(
        inventory(&emu.check_clients().await, &fx.output_bucket).await,
        before
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custom_model_named_by_its_arn_is_a_base_the_check_finds() {
    let emu = Emulator::start();
    let fx = Fixture::create(&emu).await;
    let check = emu.check_clients().await;
    // An earlier customization of the account: its job made the model.
    foreign::job(&check, "earlier-job", "my-earlier-model").await;
    let model = check
        .bedrock
        .get_custom_model()
        .model_identifier("my-earlier-model")
        .send()
        .await
        .expect("the earlier model");
    let arn = model.model_arn().to_string();
    let props = with(fx.full_properties(), "Job.BaseModelIdentifier", json!(arn));
    let out = create_with(&emu, "from-custom", props).await;
    assert_eq!(out.status, Status::Success, "{}", out.reason);
    assert!(!out.reason.contains("not checked"), "{}", out.reason);
    let operations: Vec<String> = emu.operations().await;
    assert!(
        operations.iter().any(|op| op == "GetCustomModel"),
        "the base was looked up as a custom model: {operations:?}"
    );
    assert!(
        !operations.iter().any(|op| op == "GetFoundationModel"),
        "a custom model is not a foundation model: {operations:?}"
    );
    // The job went in (moto records any base as a foundation-model ARN, so
    // its baseModelArn says nothing about what the handler sent).
    check
        .bedrock
        .get_model_customization_job()
        .job_identifier(out.data["JobName"].as_str())
        .send()
        .await
        .expect("the job");
}
