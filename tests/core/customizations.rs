//! SPEC section 8's customizations in the pure core: reinforcement
//! fine-tuning, teachers behind inference profiles, training on invocation
//! logs. Parsing, every wrong combination and range, the role's documents,
//! and what a change to each replaces.

use bedrock_setup::model::customization::{MetadataFilters, ReasoningEffort, TeacherProfile};
use bedrock_setup::model::{CustomizationType, ModelKind, TrainingData};
use bedrock_setup::policy::endpoint::endpoint_policy;
use bedrock_setup::policy::invoke::{grader_policy, teacher_policy};
use bedrock_setup::policy::s3_access::s3_access_policy;
use serde_json::{Value, json};

use crate::common::*;

#[test]
fn a_reinforcement_fine_tuning_job_carries_its_grader_and_typed_hyperparameters() {
    let job = parse_ok(&rft()).job.expect("job");
    assert_eq!(
        job.customization_type,
        CustomizationType::ReinforcementFineTuning
    );
    // The string map is not sent for RFT: its values are typed instead.
    assert!(job.hyper_parameters.is_empty());
    let r = job.reinforcement.expect("rft");
    assert_eq!(
        r.grader_lambda_arn,
        "arn:aws:lambda:us-east-1:123456789012:function:reward"
    );
    let hp = r.hyper_parameters;
    assert_eq!(hp.epoch_count, Some(2));
    assert_eq!(hp.batch_size, Some(64));
    assert_eq!(hp.training_sample_per_prompt, Some(4));
    assert_eq!(hp.reasoning_effort, Some(ReasoningEffort::Medium));
    assert_eq!(hp.learning_rate.map(|l| l.0), Some(0.00001_f32));
    assert_eq!(hp.max_prompt_length, None);
    assert!(job.distillation.is_none());
}

#[test]
fn every_rft_hyperparameter_is_checked_against_the_apis_range() {
    let cases: &[(&str, Value, &str)] = &[
        ("epochCount", json!("0"), "from 1 to 50"),
        ("epochCount", json!("51"), "from 1 to 50"),
        ("epochCount", json!("2.5"), "from 1 to 50"),
        ("batchSize", json!("15"), "from 16 to 512"),
        ("batchSize", json!(513), "from 16 to 512"),
        ("learningRate", json!("0.01"), "1e-7 to 1e-3"),
        ("learningRate", json!("1e-8"), "1e-7 to 1e-3"),
        ("learningRate", json!("fast"), "1e-7 to 1e-3"),
        ("learningRate", json!("NaN"), "1e-7 to 1e-3"),
        ("maxPromptLength", json!("0"), "from 1 to 2147483647"),
        ("trainingSamplePerPrompt", json!("1"), "from 2 to 16"),
        ("trainingSamplePerPrompt", json!("17"), "from 2 to 16"),
        ("inferenceMaxTokens", json!("-3"), "from 1 to 2147483647"),
        ("reasoningEffort", json!("HIGH"), "low, medium or high"),
        ("evalInterval", json!("101"), "from 1 to 100"),
        ("evalInterval", json!(["1"]), "a number"),
        ("learning_rate", json!("0.0001"), "epochCount, batchSize"),
        ("epochcount", json!("2"), "did you mean epochCount?"),
    ];
    for (name, value, allowed) in cases {
        let props = with(rft(), &format!("Job.HyperParameters.{name}"), value.clone());
        let e = parse_err(&props).to_string();
        assert!(
            e.contains(&format!("Job.HyperParameters.{name}")) && e.contains(allowed),
            "{name}={value}: {e}"
        );
    }
    // The bounds themselves are allowed.
    let edges = json!({"epochCount": "50", "batchSize": "16", "learningRate": "1e-7",
                       "trainingSamplePerPrompt": "16", "evalInterval": "1",
                       "maxPromptLength": "2147483647", "inferenceMaxTokens": "1",
                       "reasoningEffort": "low"});
    let hp = parse_ok(&with(rft(), "Job.HyperParameters", edges))
        .job
        .and_then(|j| j.reinforcement)
        .expect("rft")
        .hyper_parameters;
    assert_eq!(
        (hp.epoch_count, hp.batch_size, hp.max_prompt_length),
        (Some(50), Some(16), Some(i32::MAX))
    );
    let top = parse_ok(&with(
        rft(),
        "Job.HyperParameters.learningRate",
        json!("0.001"),
    ));
    assert!(top.job.is_some());
}

#[test]
fn the_grader_belongs_to_reinforcement_fine_tuning_only_and_is_a_lambda_arn_of_the_stack() {
    let e = parse_err(&without(rft(), "Job.GraderLambdaArn")).to_string();
    assert!(e.contains("Job.GraderLambdaArn: is missing"), "{e}");
    let e = parse_err(&with(
        full(),
        "Job.GraderLambdaArn",
        json!("arn:aws:lambda:us-east-1:123456789012:function:reward"),
    ))
    .to_string();
    assert!(
        e.contains("Job.GraderLambdaArn: is given for a FINE_TUNING job")
            && e.contains("only with CustomizationType REINFORCEMENT_FINE_TUNING"),
        "{e}"
    );
    for bad in [
        "reward",
        "arn:aws:lambda:us-west-2:123456789012:function:reward",
        "arn:aws-cn:lambda:us-east-1:123456789012:function:reward",
        "arn:aws:lambda:us-east-1:12345:function:reward",
        "arn:aws:lambda:us-east-1:123456789012:layer:reward",
        "arn:aws:lambda:us-east-1:123456789012:function:re*ward",
        "arn:aws:lambda:us-east-1:123456789012:function:reward:v.1",
        "arn:aws:lambda:us-east-1:123456789012:function:reward:1:2",
    ] {
        let e = parse_err(&with(rft(), "Job.GraderLambdaArn", json!(bad))).to_string();
        assert!(
            e.contains("Job.GraderLambdaArn")
                && e.contains("arn:aws:lambda:us-east-1:<account>:function:<name>"),
            "{bad}: {e}"
        );
    }
    for good in [
        "arn:aws:lambda:us-east-1:210987654321:function:reward",
        "arn:aws:lambda:us-east-1:123456789012:function:reward:$LATEST",
        "arn:aws:lambda:us-east-1:123456789012:function:reward:live",
        "arn:aws:lambda:us-east-1:123456789012:function:reward:7",
    ] {
        parse_ok(&with(rft(), "Job.GraderLambdaArn", json!(good)));
    }
}

#[test]
fn every_problem_of_a_bad_rft_job_is_reported_at_once() {
    let props = with(
        with(rft(), "Job.GraderLambdaArn", json!("nope")),
        "Job.HyperParameters",
        json!({"epochCount": "99", "reasoningEffort": "max", "temperature": "1"}),
    );
    let e = parse_err(&props);
    for p in [
        "Job.GraderLambdaArn",
        "Job.HyperParameters.epochCount",
        "Job.HyperParameters.reasoningEffort",
        "Job.HyperParameters.temperature",
    ] {
        assert!(e.mentions(p), "{p}: {e}");
    }
    assert_eq!(e.0.len(), 4, "{e}");
}

#[test]
fn model_identifiers_are_told_apart_by_their_form() {
    for (id, kind) in [
        ("us.amazon.nova-premier-v1:0", ModelKind::InferenceProfile),
        (
            "eu.meta.llama3-3-70b-instruct-v1:0",
            ModelKind::InferenceProfile,
        ),
        (
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-premier-v1:0",
            ModelKind::InferenceProfile,
        ),
        (
            "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123",
            ModelKind::ApplicationInferenceProfile,
        ),
        ("amazon.nova-premier-v1:0", ModelKind::Foundation),
        (
            "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0",
            ModelKind::Foundation,
        ),
        ("my-custom-model", ModelKind::Custom),
        (
            "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.nova-lite-v1:0:300k/abcdefabcdef",
            ModelKind::Custom,
        ),
    ] {
        assert_eq!(ModelKind::of(id), kind, "{id}");
    }
}

#[test]
fn a_teacher_may_be_a_cross_region_inference_profile_but_not_an_application_profile() {
    let d = parse_ok(&profile_teacher())
        .job
        .and_then(|j| j.distillation)
        .expect("distillation");
    assert_eq!(d.teacher_model_identifier, "us.amazon.nova-premier-v1:0");
    let e = parse_err(&with(
        profile_teacher(),
        "Job.TeacherModelIdentifier",
        json!("arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123"),
    ))
    .to_string();
    assert!(
        e.contains("Job.TeacherModelIdentifier") && e.contains("application inference profile"),
        "{e}"
    );
}

#[test]
fn invocation_logs_replace_the_training_uri_for_distillation() {
    let p = parse_ok(&invocation_logs());
    let TrainingData::InvocationLogs(logs) = &p.training_data else {
        panic!("{:?}", p.training_data);
    };
    assert_eq!(logs.source.bucket, "invocation-logs");
    assert!(logs.use_prompt_response);
    assert_eq!(
        logs.filters,
        Some(MetadataFilters::Equals(
            [("project".to_string(), "support-bot".to_string())].into()
        ))
    );
    assert_eq!(p.training_data.property(), "InvocationLogs.SourceUri");
    assert_eq!(p.training_data.location().bucket, "invocation-logs");
    // Defaults: no filters, UsePromptResponse false.
    let bare = with(
        without(profile_teacher(), "TrainingDataUri"),
        "InvocationLogs",
        json!({"SourceUri": "s3://invocation-logs/logs/"}),
    );
    let p = parse_ok(&bare);
    let logs = p.training_data.invocation_logs().expect("logs");
    assert!(!logs.use_prompt_response && logs.filters.is_none());
    let and_all = with(
        invocation_logs(),
        "InvocationLogs.RequestMetadataFilters",
        json!({"AndAll": [{"Equals": {"project": "a"}}, {"NotEquals": {"stage": "test"}}]}),
    );
    match parse_ok(&and_all)
        .training_data
        .invocation_logs()
        .and_then(|l| l.filters.clone())
    {
        Some(MetadataFilters::AndAll(items)) => assert_eq!(items.len(), 2),
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_wrong_combination_of_training_sources_is_refused_naming_the_property() {
    let both = with(
        invocation_logs(),
        "TrainingDataUri",
        json!("s3://training-bucket/t.jsonl"),
    );
    let e = parse_err(&both).to_string();
    assert!(
        e.contains("TrainingDataUri: is given together with InvocationLogs")
            && e.contains("exactly one of TrainingDataUri and InvocationLogs"),
        "{e}"
    );
    let neither = without(full(), "TrainingDataUri");
    let e = parse_err(&neither).to_string();
    assert!(
        e.contains("TrainingDataUri: is missing") && e.contains("or InvocationLogs"),
        "{e}"
    );
    // Invocation logs are training data for distillation only.
    let fine_tuning = with(
        without(full(), "TrainingDataUri"),
        "InvocationLogs",
        json!({"SourceUri": "s3://invocation-logs/logs/"}),
    );
    let e = parse_err(&fine_tuning).to_string();
    assert!(
        e.contains("InvocationLogs: is given for a FINE_TUNING job")
            && e.contains("only with a Job of CustomizationType DISTILLATION"),
        "{e}"
    );
    let no_job = with(
        without(without(full(), "TrainingDataUri"), "Job"),
        "InvocationLogs",
        json!({"SourceUri": "s3://invocation-logs/logs/"}),
    );
    let e = parse_err(&no_job).to_string();
    assert!(e.contains("InvocationLogs: is given without a Job"), "{e}");
}

#[test]
fn bad_invocation_log_settings_are_refused_each_naming_its_property() {
    let cases: &[(&str, Value, &str, &str)] = &[
        (
            "InvocationLogs.SourceUri",
            json!("logs/"),
            "InvocationLogs.SourceUri",
            "s3://",
        ),
        (
            "InvocationLogs.Source",
            json!("x"),
            "InvocationLogs.Source",
            "SourceUri, UsePromptResponse",
        ),
        (
            "InvocationLogs.UsePromptResponse",
            json!("yes"),
            "InvocationLogs.UsePromptResponse",
            "true or false",
        ),
        (
            "InvocationLogs.RequestMetadataFilters",
            json!({}),
            "InvocationLogs.RequestMetadataFilters",
            "exactly one of Equals, NotEquals, AndAll and OrAll",
        ),
        (
            "InvocationLogs.RequestMetadataFilters",
            json!({"Equals": {"a": "1"}, "NotEquals": {"b": "2"}}),
            "InvocationLogs.RequestMetadataFilters",
            "exactly one of Equals, NotEquals, AndAll and OrAll",
        ),
        (
            "InvocationLogs.RequestMetadataFilters",
            json!({"Equals": {"a": "1", "b": "2"}}),
            "InvocationLogs.RequestMetadataFilters.Equals",
            "exactly one metadata key",
        ),
        (
            "InvocationLogs.RequestMetadataFilters",
            json!({"Equals": {"a": "#1"}}),
            "InvocationLogs.RequestMetadataFilters.Equals.a",
            "0-256 letters",
        ),
        (
            "InvocationLogs.RequestMetadataFilters",
            json!({"OrAll": []}),
            "InvocationLogs.RequestMetadataFilters.OrAll",
            "1-16 items",
        ),
        (
            "InvocationLogs.RequestMetadataFilters",
            json!({"AndAll": [{}]}),
            "InvocationLogs.RequestMetadataFilters.AndAll[0]",
            "Equals, NotEquals or both",
        ),
        (
            "InvocationLogs.RequestMetadataFilters",
            json!({"AndAll": [{"Equals": {"a": "1"}, "Like": {"b": "2"}}]}),
            "InvocationLogs.RequestMetadataFilters.AndAll[0].Like",
            "Equals, NotEquals",
        ),
    ];
    for (path, value, named, allowed) in cases {
        let e = parse_err(&with(invocation_logs(), path, value.clone())).to_string();
        assert!(
            e.contains(named) && e.contains(allowed),
            "{path}={value}: {e}"
        );
    }
    let e = parse_err(&with(
        invocation_logs(),
        "InvocationLogs",
        json!("s3://x/y"),
    ))
    .to_string();
    assert!(
        e.contains("InvocationLogs: is a string rather than an object"),
        "{e}"
    );
}

fn statements(doc: &Value) -> Vec<Value> {
    doc["Statement"].as_array().cloned().unwrap_or_default()
}

#[test]
fn the_role_may_invoke_exactly_the_grader() {
    let doc = grader_policy(&parse_ok(&rft())).expect("grader policy");
    assert_eq!(
        statements(&doc),
        vec![json!({
            "Sid": "InvokeTheGrader",
            "Effect": "Allow",
            "Action": ["lambda:InvokeFunction"],
            "Resource": [
                "arn:aws:lambda:us-east-1:123456789012:function:reward",
                "arn:aws:lambda:us-east-1:123456789012:function:reward:*"
            ]
        })]
    );
    // A qualified ARN: that version or alias alone.
    let pinned = with(
        rft(),
        "Job.GraderLambdaArn",
        json!("arn:aws:lambda:us-east-1:123456789012:function:reward:live"),
    );
    let doc = grader_policy(&parse_ok(&pinned)).expect("grader policy");
    assert_eq!(
        statements(&doc)[0]["Resource"],
        json!(["arn:aws:lambda:us-east-1:123456789012:function:reward:live"])
    );
    assert!(grader_policy(&parse_ok(&full())).is_none());
    assert!(grader_policy(&parse_ok(&profile_teacher())).is_none());
}

#[test]
fn the_role_may_invoke_the_teachers_profile_and_the_models_it_routes_to() {
    let profile = TeacherProfile {
        arn: "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-premier-v1:0"
            .into(),
        model_arns: vec![
            "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-premier-v1:0".into(),
            "arn:aws:bedrock:us-east-2::foundation-model/amazon.nova-premier-v1:0".into(),
        ],
    };
    let doc = teacher_policy(Some(&profile)).expect("teacher policy");
    assert_eq!(
        statements(&doc),
        vec![json!({
            "Sid": "InvokeTheTeacherThroughItsInferenceProfile",
            "Effect": "Allow",
            "Action": ["bedrock:InvokeModel"],
            "Resource": [
                "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-premier-v1:0",
                "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-premier-v1:0",
                "arn:aws:bedrock:us-east-2::foundation-model/amazon.nova-premier-v1:0"
            ]
        })]
    );
    assert!(teacher_policy(None).is_none());
}

#[test]
fn the_log_location_is_read_like_training_data_and_reachable_through_the_endpoint() {
    let p = parse_ok(&invocation_logs());
    let doc = s3_access_policy(&p, "aws");
    let read = &statements(&doc)[0];
    assert_eq!(read["Sid"], "ReadTrainingAndValidationData");
    let resources: Vec<&str> = read["Resource"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        resources.contains(
            &"arn:aws:s3:::invocation-logs/AWSLogs/123456789012/BedrockModelInvocationLogs/*"
        ),
        "{resources:?}"
    );
    assert!(
        !resources.iter().any(|r| r.contains("training-bucket")),
        "{resources:?}"
    );
    let listing = statements(&doc)
        .into_iter()
        .find(|s| s["Resource"] == json!("arn:aws:s3:::invocation-logs"))
        .expect("a listing of the log bucket");
    assert_eq!(listing["Action"], json!(["s3:ListBucket"]));
    assert!(listing["Condition"]["StringLike"]["s3:prefix"].is_array());
    let endpoint = endpoint_policy(&p, "aws").to_string();
    assert!(
        endpoint.contains("arn:aws:s3:::invocation-logs/*"),
        "{endpoint}"
    );
}

#[test]
fn a_setup_without_the_new_inputs_keeps_its_fingerprint() {
    // Pinned to what f163aed (before section 8) computes for the same
    // properties: a changed fingerprint would replace every deployed setup
    // on its next Update.
    assert_eq!(
        parse_ok(&full()).replacement_fingerprint(),
        "dacab4bf4f5b48131e5d1be421baf870"
    );
}

#[test]
fn the_new_job_inputs_change_the_fingerprint() {
    let base = parse_ok(&rft()).replacement_fingerprint();
    for (path, value) in [
        (
            "Job.GraderLambdaArn",
            json!("arn:aws:lambda:us-east-1:123456789012:function:other"),
        ),
        ("Job.HyperParameters.epochCount", json!("3")),
    ] {
        assert_ne!(
            parse_ok(&with(rft(), path, value)).replacement_fingerprint(),
            base,
            "{path}"
        );
    }
    let base = parse_ok(&invocation_logs()).replacement_fingerprint();
    for (path, value) in [
        (
            "Job.TeacherModelIdentifier",
            json!("us.meta.llama3-3-70b-instruct-v1:0"),
        ),
        (
            "InvocationLogs.SourceUri",
            json!("s3://invocation-logs/other/"),
        ),
        ("InvocationLogs.UsePromptResponse", json!("false")),
        (
            "InvocationLogs.RequestMetadataFilters",
            json!({"NotEquals": {"project": "support-bot"}}),
        ),
    ] {
        assert_ne!(
            parse_ok(&with(invocation_logs(), path, value)).replacement_fingerprint(),
            base,
            "{path}"
        );
    }
}
