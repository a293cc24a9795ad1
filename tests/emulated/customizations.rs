//! SPEC section 8's customizations against the emulator, every request
//! judged: reinforcement fine-tuning with a grader, a distillation teacher
//! behind a cross-region inference profile, and training on invocation logs.
//! For each: the exact job request, the service role's grants (judged by the
//! test bed's IAM evaluator: the one function, profile and models allowed,
//! their neighbours denied), a doomed input refused by pre-flight with
//! nothing made, and a Delete that leaves nothing.

use crate::support::json_paths::{with, without};
use crate::support::*;
use aws_sdk_bedrock::types::{
    CustomizationConfig, GraderConfig, InvocationLogSource, ReasoningEffort, RequestMetadataFilters,
};
use bedrock_setup::cfn::{Outcome, Status};
use bedrock_setup::lifecycle::run;
use bedrock_setup::parts::Clients;
use serde_json::{Value, json};

/// An empty ZIP archive: all moto needs of a function's code.
const EMPTY_ZIP: &[u8] = &[
    0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];
const LOG_BUCKET: &str = "invocation-logs";
const LOG_PREFIX: &str = "AWSLogs/123456789012/BedrockModelInvocationLogs/";
const PROFILE: &str = "us.amazon.nova-premier-v1:0";

/// A reward function in the emulator's Lambda; its ARN.
async fn grader_function(c: &Clients, name: &str) -> String {
    let role = format!("{name}-execution");
    c.iam
        .create_role()
        .role_name(&role)
        .assume_role_policy_document(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
            .to_string(),
        )
        .send()
        .await
        .expect("grader role");
    let out = c
        .lambda
        .create_function()
        .function_name(name)
        .runtime(aws_sdk_lambda::types::Runtime::Python312)
        .handler("reward.handler")
        .role(format!("arn:aws:iam::{ACCOUNT}:role/{role}"))
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(aws_sdk_lambda::primitives::Blob::new(EMPTY_ZIP))
                .build(),
        )
        .send()
        .await
        .expect("grader function");
    out.function_arn().expect("function arn").to_string()
}

/// The full setup, made to be torn down whole (the model too).
fn deletable(fx: &Fixture) -> Value {
    with(
        fx.full_properties(),
        "Job.DeleteCustomModelOnDelete",
        json!("true"),
    )
}

fn rft_properties(fx: &Fixture, grader: &str) -> Value {
    let v = with(
        deletable(fx),
        "Job.CustomizationType",
        json!("REINFORCEMENT_FINE_TUNING"),
    );
    let v = with(
        v,
        "Job.BaseModelIdentifier",
        json!("amazon.nova-2-lite-v1:0"),
    );
    let v = with(v, "Job.GraderLambdaArn", json!(grader));
    with(
        v,
        "Job.HyperParameters",
        json!({"epochCount": "3", "batchSize": "64", "learningRate": "0.00001",
               "reasoningEffort": "high", "trainingSamplePerPrompt": "4",
               "maxPromptLength": "4096", "inferenceMaxTokens": "2048", "evalInterval": "10"}),
    )
}

fn teacher_properties(fx: &Fixture, teacher: &str) -> Value {
    let v = with(
        deletable(fx),
        "Job.CustomizationType",
        json!("DISTILLATION"),
    );
    let v = with(v, "Job.BaseModelIdentifier", json!("amazon.nova-lite-v1:0"));
    let v = without(v, "Job.HyperParameters");
    with(v, "Job.TeacherModelIdentifier", json!(teacher))
}

fn logs_properties(fx: &Fixture) -> Value {
    let v = without(teacher_properties(fx, PROFILE), "TrainingDataUri");
    with(
        v,
        "InvocationLogs",
        json!({"SourceUri": format!("s3://{LOG_BUCKET}/{LOG_PREFIX}"),
               "UsePromptResponse": "true",
               "RequestMetadataFilters": {"AndAll": [{"Equals": {"project": "support-bot"}},
                                                     {"NotEquals": {"stage": "test"}}]}}),
    )
}

/// The log bucket with one delivered log under the prefix.
async fn invocation_log_bucket(c: &Clients) {
    c.s3.create_bucket()
        .bucket(LOG_BUCKET)
        .send()
        .await
        .expect("log bucket");
    c.s3.put_object()
        .bucket(LOG_BUCKET)
        .key(format!("{LOG_PREFIX}2026/12/01/00/log.json.gz"))
        .body(aws_sdk_s3::primitives::ByteStream::from_static(b"{}"))
        .send()
        .await
        .expect("log object");
}

async fn delete_leaves_nothing(emu: &Emulator, fx: &Fixture, out: &Outcome, props: Value) {
    let deleted = run(
        &emu.handler_clients().await,
        &fast_settings(),
        &delete("delete-it", &out.physical_id, props),
    )
    .await;
    assert_eq!(deleted.status, Status::Success, "{}", deleted.reason);
    let inv = inventory(&emu.check_clients().await, &fx.output_bucket).await;
    let ours: Vec<&String> = inv
        .roles
        .iter()
        .filter(|r| !r.ends_with("-execution"))
        .collect();
    assert!(ours.is_empty(), "roles left: {ours:?}");
    assert!(inv.endpoints.is_empty(), "{:?}", inv.endpoints);
    assert!(
        inv.bucket_statement_sids.is_empty(),
        "{:?}",
        inv.bucket_statement_sids
    );
    assert!(inv.models.is_empty(), "{:?}", inv.models);
    // Bedrock keeps a job's record; ours is stopped, not running.
    assert!(
        inv.jobs.iter().all(|(_, status)| status == "Stopped"),
        "{:?}",
        inv.jobs
    );
}

async fn job(
    c: &Clients,
    name: &str,
) -> aws_sdk_bedrock::operation::get_model_customization_job::GetModelCustomizationJobOutput {
    c.bedrock
        .get_model_customization_job()
        .job_identifier(name)
        .send()
        .await
        .expect("job")
}

/// Whether the test bed's judge allows `action` on each resource under
/// the role's `policy` inline policy: (allowed, denied) lists checked.
async fn judge_role(
    emu: &Emulator,
    role: &str,
    policy: &str,
    action: &str,
    allowed: &[&str],
    denied: &[&str],
) {
    let doc = inline_policy(&emu.check_clients().await, role, policy)
        .await
        .unwrap_or_else(|| panic!("the role has no {policy}"));
    for r in allowed {
        assert_eq!(
            emu.evaluate(&doc, action, r).await,
            None,
            "{action} on {r}: {doc}"
        );
    }
    for r in denied {
        assert!(
            emu.evaluate(&doc, action, r).await.is_some(),
            "{action} on {r} must be denied: {doc}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reinforcement_fine_tuning_job_is_submitted_with_its_grader_and_typed_values() {
    let emu = Emulator::start();
    let fx = Fixture::create(&emu).await;
    let check = emu.check_clients().await;
    let grader = grader_function(&check, "reward").await;
    let props = rft_properties(&fx, &grader);
    let out = create_with(&emu, "rft", props.clone()).await;
    assert_eq!(out.status, Status::Success, "{}", out.reason);

    let submitted = job(&check, &out.data["JobName"]).await;
    assert_eq!(
        submitted.customization_type().map(|t| t.as_str()),
        Some("REINFORCEMENT_FINE_TUNING")
    );
    // The string map is not sent: the values are typed in rftConfig.
    assert!(
        submitted.hyper_parameters().is_none_or(|h| h.is_empty()),
        "{:?}",
        submitted.hyper_parameters()
    );
    let Some(CustomizationConfig::RftConfig(rft)) = submitted.customization_config() else {
        panic!("no rftConfig: {:?}", submitted.customization_config());
    };
    match rft.grader_config() {
        Some(GraderConfig::LambdaGrader(g)) => assert_eq!(g.lambda_arn(), grader),
        other => panic!("{other:?}"),
    }
    let hp = rft.hyper_parameters().expect("typed hyperparameters");
    assert_eq!(hp.epoch_count(), Some(3));
    assert_eq!(hp.batch_size(), Some(64));
    assert_eq!(hp.learning_rate(), Some(0.00001_f32));
    assert_eq!(hp.reasoning_effort(), Some(&ReasoningEffort::High));
    assert_eq!(hp.training_sample_per_prompt(), Some(4));
    assert_eq!(hp.max_prompt_length(), Some(4096));
    assert_eq!(hp.inference_max_tokens(), Some(2048));
    assert_eq!(hp.eval_interval(), Some(10));

    judge_role(
        &emu,
        &out.data["RoleName"],
        "BedrockCustomizationGraderAccess",
        "lambda:InvokeFunction",
        &[&grader, &format!("{grader}:live"), &format!("{grader}:7")],
        &[
            &format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:reward-other"),
            &format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:other"),
            &format!("arn:aws:lambda:us-west-2:{ACCOUNT}:function:reward"),
        ],
    )
    .await;
    delete_leaves_nothing(&emu, &fx, &out, props).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_teacher_behind_an_inference_profile_is_invokable_through_it_and_nothing_else() {
    let emu = Emulator::start();
    let fx = Fixture::create(&emu).await;
    let check = emu.check_clients().await;
    let props = teacher_properties(&fx, PROFILE);
    let out = create_with(&emu, "teacher", props.clone()).await;
    assert_eq!(out.status, Status::Success, "{}", out.reason);
    let ops = emu.operations().await;
    assert!(ops.contains(&"GetInferenceProfile".to_string()), "{ops:?}");

    let submitted = job(&check, &out.data["JobName"]).await;
    let Some(CustomizationConfig::DistillationConfig(d)) = submitted.customization_config() else {
        panic!(
            "no distillationConfig: {:?}",
            submitted.customization_config()
        );
    };
    assert_eq!(
        d.teacher_model_config()
            .map(|t| t.teacher_model_identifier()),
        Some(PROFILE)
    );
    let profile_arn = format!("arn:aws:bedrock:{REGION}:{ACCOUNT}:inference-profile/{PROFILE}");
    let model = |region: &str, id: &str| format!("arn:aws:bedrock:{region}::foundation-model/{id}");
    judge_role(
        &emu,
        &out.data["RoleName"],
        "BedrockCustomizationTeacherAccess",
        "bedrock:InvokeModel",
        &[
            &profile_arn,
            &model("us-east-1", "amazon.nova-premier-v1:0"),
            &model("us-east-2", "amazon.nova-premier-v1:0"),
            &model("us-west-2", "amazon.nova-premier-v1:0"),
        ],
        &[
            &format!("arn:aws:bedrock:{REGION}:{ACCOUNT}:inference-profile/us.meta.llama3-3-70b-instruct-v1:0"),
            &model("us-east-1", "amazon.nova-pro-v1:0"),
            &model("eu-west-1", "amazon.nova-premier-v1:0"),
        ],
    )
    .await;
    // A teacher that is a foundation model needs no grant of its own.
    assert!(
        inline_policy(
            &check,
            &out.data["RoleName"],
            "BedrockCustomizationGraderAccess"
        )
        .await
        .is_none()
    );
    delete_leaves_nothing(&emu, &fx, &out, props).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_distillation_on_invocation_logs_reads_the_log_location_like_training_data() {
    let emu = Emulator::start();
    let fx = Fixture::create(&emu).await;
    let check = emu.check_clients().await;
    invocation_log_bucket(&check).await;
    let props = logs_properties(&fx);
    let out = create_with(&emu, "logs", props.clone()).await;
    assert_eq!(out.status, Status::Success, "{}", out.reason);

    let submitted = job(&check, &out.data["JobName"]).await;
    let training = submitted.training_data_config().expect("training data");
    assert_eq!(training.s3_uri(), None);
    let logs = training.invocation_logs_config().expect("invocation logs");
    assert!(logs.use_prompt_response());
    assert_eq!(
        logs.invocation_log_source(),
        Some(&InvocationLogSource::S3Uri(format!(
            "s3://{LOG_BUCKET}/{LOG_PREFIX}"
        )))
    );
    match logs.request_metadata_filters() {
        Some(RequestMetadataFilters::AndAll(items)) => {
            assert_eq!(items.len(), 2);
            assert_eq!(
                items[0]
                    .equals()
                    .and_then(|m| m.get("project"))
                    .map(String::as_str),
                Some("support-bot")
            );
            assert_eq!(
                items[1]
                    .not_equals()
                    .and_then(|m| m.get("stage"))
                    .map(String::as_str),
                Some("test")
            );
        }
        other => panic!("{other:?}"),
    }
    judge_role(
        &emu,
        &out.data["RoleName"],
        "BedrockCustomizationS3Access",
        "s3:GetObject",
        &[&format!(
            "arn:aws:s3:::{LOG_BUCKET}/{LOG_PREFIX}2026/12/01/00/log.json.gz"
        )],
        &[
            &format!("arn:aws:s3:::{LOG_BUCKET}/AWSLogs/210987654321/other.json.gz"),
            &format!("arn:aws:s3:::{}/train/data.jsonl", fx.training_bucket),
        ],
    )
    .await;
    let endpoint = live_endpoints(&check)
        .await
        .into_iter()
        .find(|e| {
            e.tags()
                .iter()
                .any(|t| t.value() == Some(out.physical_id.as_str()))
        })
        .expect("our endpoint");
    let policy = endpoint.policy_document().unwrap_or_default();
    assert!(
        policy.contains(&format!("arn:aws:s3:::{LOG_BUCKET}/*")),
        "{policy}"
    );
    delete_leaves_nothing(&emu, &fx, &out, props).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_grader_teacher_or_log_is_refused_by_preflight_with_nothing_made() {
    let emu = Emulator::start();
    let fx = Fixture::create(&emu).await;
    let check = emu.check_clients().await;
    check
        .s3
        .create_bucket()
        .bucket(LOG_BUCKET)
        .send()
        .await
        .expect("empty log bucket");
    let cases: Vec<(&str, &str, Value)> = vec![
        (
            "Job.GraderLambdaArn",
            "does not exist",
            rft_properties(
                &fx,
                &format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:no-such-grader"),
            ),
        ),
        (
            "Job.TeacherModelIdentifier",
            "inference profile 'us.amazon.nothing-v1:0' was not found in us-east-1",
            teacher_properties(&fx, "us.amazon.nothing-v1:0"),
        ),
        (
            "Job.TeacherModelIdentifier",
            "'amazon.nothing-v9' was not found in us-east-1",
            teacher_properties(&fx, "amazon.nothing-v9"),
        ),
        (
            "Job.TeacherModelIdentifier",
            "'my-earlier-teacher' was not found",
            teacher_properties(&fx, "my-earlier-teacher"),
        ),
        (
            "InvocationLogs.SourceUri",
            "nothing was found at s3://invocation-logs/AWSLogs/",
            logs_properties(&fx),
        ),
    ];
    let problems = refused_before_any_change(&emu, cases).await;
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(inventory(&check, &fx.output_bucket).await.jobs.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_section_8_input_is_refused_with_no_call_at_all() {
    let emu = Emulator::start();
    let fx = Fixture::create(&emu).await;
    let grader = format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:reward");
    let cases: Vec<(&str, Value)> = vec![
        (
            "Job.HyperParameters.batchSize",
            with(
                rft_properties(&fx, &grader),
                "Job.HyperParameters.batchSize",
                json!("8"),
            ),
        ),
        (
            "Job.GraderLambdaArn",
            with(
                rft_properties(&fx, &grader),
                "Job.GraderLambdaArn",
                json!("reward"),
            ),
        ),
        (
            "TrainingDataUri",
            with(
                logs_properties(&fx),
                "TrainingDataUri",
                json!("s3://training-bucket/train/data.jsonl"),
            ),
        ),
        (
            "InvocationLogs",
            with(
                logs_properties(&fx),
                "Job.CustomizationType",
                json!("FINE_TUNING"),
            ),
        ),
    ];
    for (property, props) in cases {
        let out = create_with(&emu, "bad", props).await;
        assert_eq!(out.status, Status::Failed, "{property}");
        assert!(
            out.reason.contains(&format!("{property}: ")),
            "{property}: {}",
            out.reason
        );
        let ops = emu.operations().await;
        assert!(ops.is_empty(), "{property}: {ops:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_grader_replaces_the_setup_and_the_old_one_goes_on_delete() {
    let emu = Emulator::start();
    let fx = Fixture::create(&emu).await;
    let check = emu.check_clients().await;
    let first = grader_function(&check, "reward").await;
    let second = grader_function(&check, "reward-v2").await;
    let old_props = rft_properties(&fx, &first);
    let old = create_with(&emu, "rft-1", old_props.clone()).await;
    assert_eq!(old.status, Status::Success, "{}", old.reason);
    let new_props = with(old_props.clone(), "Job.GraderLambdaArn", json!(second));
    let new = run(
        &emu.handler_clients().await,
        &fast_settings(),
        &update(
            "rft-2",
            &old.physical_id,
            new_props.clone(),
            old_props.clone(),
        ),
    )
    .await;
    assert_eq!(new.status, Status::Success, "{}", new.reason);
    assert_ne!(new.physical_id, old.physical_id);
    let submitted = job(&check, &new.data["JobName"]).await;
    match submitted.customization_config() {
        Some(CustomizationConfig::RftConfig(r)) => match r.grader_config() {
            Some(GraderConfig::LambdaGrader(g)) => assert_eq!(g.lambda_arn(), second),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    judge_role(
        &emu,
        &new.data["RoleName"],
        "BedrockCustomizationGraderAccess",
        "lambda:InvokeFunction",
        &[&second],
        &[&first],
    )
    .await;
    // CloudFormation deletes the old setup, then the stack the new one.
    let deleted = run(
        &emu.handler_clients().await,
        &fast_settings(),
        &delete("rft-old-delete", &old.physical_id, old_props),
    )
    .await;
    assert_eq!(deleted.status, Status::Success, "{}", deleted.reason);
    let roles = inventory(&check, &fx.output_bucket).await.roles;
    assert!(!roles.contains(&old.data["RoleName"]), "{roles:?}");
    assert!(roles.contains(&new.data["RoleName"]), "{roles:?}");
    delete_leaves_nothing(&emu, &fx, &new, new_props).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grader_or_teacher_check_the_users_policies_deny_is_a_warning() {
    // The handler may not read functions or foundation models (the grants
    // are not in the template, which IAM judges as a denying policy).
    let text = std::fs::read_to_string(project_dir().join("template.yaml")).expect("template");
    let edited = text
        .replace(
            "Action: lambda:GetFunction\n",
            "Action: lambda:GetFunctionConcurrency\n",
        )
        .replace(
            "Action: bedrock:GetFoundationModel\n",
            "Action: bedrock:ListFoundationModels\n",
        );
    assert_ne!(edited, text);
    let path = std::env::temp_dir().join(format!("bcs-{}-no-reads.yaml", std::process::id()));
    std::fs::write(&path, edited).expect("write");
    let emu = Emulator::start_judged_by(&path);
    let fx = Fixture::create(&emu).await;
    let check = emu.check_clients().await;
    let grader = grader_function(&check, "reward").await;
    let rft = rft_properties(&fx, &grader);
    let out = create_with(&emu, "rft-warned", rft.clone()).await;
    assert_eq!(out.status, Status::Success, "{}", out.reason);
    assert!(
        out.reason.contains(&format!(
            "Job.GraderLambdaArn: could not check function '{grader}' (access denied)"
        )),
        "{}",
        out.reason
    );
    // Gone before the next: its VPC-only statement on the shared output
    // bucket would deny the next job's writes from outside that VPC (the
    // service-role judge finds it).
    let gone = run(
        &emu.handler_clients().await,
        &fast_settings(),
        &delete("rft-warned-delete", &out.physical_id, rft),
    )
    .await;
    assert_eq!(gone.status, Status::Success, "{}", gone.reason);
    // Without a VPC, a setup of another shape.
    let mut outside_the_vpc = teacher_properties(&fx, "amazon.nova-pro-v1:0");
    for p in ["VpcConfig", "S3Endpoint", "RestrictOutputBucketToVpc"] {
        outside_the_vpc = without(outside_the_vpc, p);
    }
    let out = create_with(&emu, "teacher-warned", outside_the_vpc).await;
    assert_eq!(out.status, Status::Success, "{}", out.reason);
    assert!(
        out.reason.contains(
            "Job.TeacherModelIdentifier: could not check 'amazon.nova-pro-v1:0' (access denied)"
        ),
        "{}",
        out.reason
    );
    let v = emu.take_violations().await;
    assert!(
        v.iter()
            .all(|x| x["operation"] == "GetFunction" || x["operation"] == "GetFoundationModel"),
        "{v:?}"
    );
    let _ = std::fs::remove_file(path);
}
