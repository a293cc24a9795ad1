use bedrock_setup::model::{CustomizationType, EndpointPolicyKind, StackIdentity};
use bedrock_setup::model::{DEFAULT_ROLE_PATH, is_job_name, is_model_name};
use serde_json::{Value, json};

use crate::common::*;

#[test]
fn minimal_properties_get_the_spec_defaults() {
    let p = parse_ok(&minimal());
    assert_eq!(p.role_path, DEFAULT_ROLE_PATH);
    assert_eq!(p.role_name, None);
    assert!(p.validation_data.is_empty() && p.kms_key_arns.is_empty() && p.tags.is_empty());
    assert!(p.vpc.is_none() && p.job.is_none());
    assert!(p.s3_endpoint.create);
    assert_eq!(p.s3_endpoint.policy, EndpointPolicyKind::Restricted);
    assert!(!p.restrict_output_bucket_to_vpc);
    assert_eq!(p.training_data.location().bucket, "training-bucket");
    assert_eq!(p.training_data.location().key, "train.jsonl");
}

#[test]
fn job_defaults() {
    let p = parse_ok(&with(
        minimal(),
        "Job",
        json!({ "BaseModelIdentifier": "amazon.titan-text-express-v1" }),
    ));
    let j = p.job.expect("job");
    assert_eq!(j.customization_type, CustomizationType::FineTuning);
    assert!(j.stop_job_on_delete, "StopJobOnDelete defaults to true");
    assert!(
        !j.delete_custom_model_on_delete,
        "a trained model survives unless asked"
    );
    assert!(j.hyper_parameters.is_empty() && j.job_name.is_none() && j.custom_model_name.is_none());
}

#[test]
fn full_properties_parse() {
    let p = parse_ok(&full());
    assert_eq!(p.vpc.as_ref().map(|v| v.subnet_ids.len()), Some(2));
    assert_eq!(p.s3_endpoint.route_table_ids, ["rtb-0123456789abcdef0"]);
    assert!(p.restrict_output_bucket_to_vpc);
    assert_eq!(p.tags.len(), 1);
    assert_eq!(
        p.job.as_ref().and_then(|j| j.job_name.clone()).as_deref(),
        Some("my-job")
    );
}

#[test]
fn string_booleans_in_any_case_and_nothing_else() {
    for (given, want) in [
        ("true", true),
        ("TRUE", true),
        ("True", true),
        ("false", false),
        ("FALSE", false),
        ("fAlSe", false),
    ] {
        let p = parse_ok(&with(full(), "RestrictOutputBucketToVpc", json!(given)));
        assert_eq!(p.restrict_output_bucket_to_vpc, want, "{given}");
    }
    assert!(
        parse_ok(&with(full(), "RestrictOutputBucketToVpc", json!(true)))
            .restrict_output_bucket_to_vpc
    );
    for bad in [
        json!("yes"),
        json!("1"),
        json!(""),
        json!(1),
        json!(["true"]),
        json!({}),
        json!(" true"),
    ] {
        let e = parse_err(&with(full(), "RestrictOutputBucketToVpc", bad.clone()));
        assert!(e.mentions("RestrictOutputBucketToVpc"), "{bad}: {e}");
        assert!(e.to_string().contains("true or false"), "{e}");
    }
    let e = parse_err(&with(full(), "Job.StopJobOnDelete", json!("nope")));
    assert!(e.mentions("Job.StopJobOnDelete"), "{e}");
    let e = parse_err(&with(full(), "S3Endpoint.Create", json!("maybe")));
    assert!(e.mentions("S3Endpoint.Create"), "{e}");
}

#[test]
fn unknown_properties_are_errors_at_every_level() {
    let e = parse_err(&with(
        minimal(),
        "TrainingDataURI",
        json!("s3://a-bucket/x"),
    ));
    assert!(e.mentions("TrainingDataURI"), "{e}");
    assert!(
        e.to_string().contains("did you mean TrainingDataUri"),
        "{e}"
    );
    for path in ["VpcConfig.Subnets", "Job.Epochs", "S3Endpoint.Routes"] {
        let e = parse_err(&with(full(), path, json!("x")));
        assert!(e.mentions(path), "{path}: {e}");
    }
    let e = parse_err(&with(
        full(),
        "Tags",
        json!([{ "Key": "a", "Value": "b", "Extra": "c" }]),
    ));
    assert!(e.mentions("Tags[0].Extra"), "{e}");
}

#[test]
fn required_properties() {
    for path in ["TrainingDataUri", "OutputDataUri", "ServiceToken"] {
        let e = parse_err(&without(minimal(), path));
        assert!(e.mentions(path), "{path}: {e}");
        assert!(e.to_string().contains("missing"), "{e}");
    }
    let e = parse_err(&without(full(), "Job.BaseModelIdentifier"));
    assert!(e.mentions("Job.BaseModelIdentifier"), "{e}");
    let e = parse_err(&without(full(), "VpcConfig.SubnetIds"));
    assert!(e.mentions("VpcConfig.SubnetIds"), "{e}");
    let e = parse_err(&without(full(), "VpcConfig.SecurityGroupIds"));
    assert!(e.mentions("VpcConfig.SecurityGroupIds"), "{e}");
}

#[test]
fn s3_uris() {
    let good = [
        "s3://abc/x",
        "s3://my.bucket-1/a/b/c.jsonl",
        "s3://abc",
        "s3://abc/prefix/",
    ];
    for g in good {
        parse_ok(&with(minimal(), "TrainingDataUri", json!(g)));
    }
    let long_key = format!("s3://abc/{}", "k".repeat(1020));
    let bad = [
        "https://abc/x",
        "abc/x",
        "s3://",
        "s3://ab/x",
        "s3://Upper/x",
        "s3://-abc/x",
        "s3://abc-/x",
        "s3://a..b/x",
        "s3://abc/x/*",
        "s3://abc/x?",
        "s3://abc//x",
        "s3://under_score/x",
        long_key.as_str(),
    ];
    for b in bad {
        let e = parse_err(&with(minimal(), "OutputDataUri", json!(b)));
        assert!(e.mentions("OutputDataUri"), "{b}: {e}");
        assert!(e.to_string().contains("s3://bucket/key-or-prefix"), "{e}");
    }
    let e = parse_err(&with(
        minimal(),
        "ValidationDataUris",
        json!(["s3://abc/x", "nope"]),
    ));
    assert!(e.mentions("ValidationDataUris[1]"), "{e}");
}

#[test]
fn validation_uri_count() {
    let ten: Vec<String> = (0..10).map(|i| format!("s3://abc/v{i}")).collect();
    assert_eq!(
        parse_ok(&with(minimal(), "ValidationDataUris", json!(ten)))
            .validation_data
            .len(),
        10
    );
    let eleven: Vec<String> = (0..11).map(|i| format!("s3://abc/v{i}")).collect();
    let e = parse_err(&with(minimal(), "ValidationDataUris", json!(eleven)));
    assert!(e.to_string().contains("0-10 items"), "{e}");
    let e = parse_err(&with(minimal(), "ValidationDataUris", json!("s3://abc/v")));
    assert!(e.to_string().contains("rather than a list"), "{e}");
}

#[test]
fn arns_must_be_of_the_stack_partition() {
    let cn_key = "arn:aws-cn:kms:cn-north-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let e = parse_err(&with(full(), "KmsKeyArns", json!([cn_key])));
    assert!(
        e.mentions("KmsKeyArns[0]") && e.to_string().contains("partition aws"),
        "{e}"
    );
    let e = parse_err(&with(full(), "Job.CustomModelKmsKeyArn", json!(cn_key)));
    assert!(e.mentions("Job.CustomModelKmsKeyArn"), "{e}");
    let e = parse_err(&with(
        full(),
        "PermissionsBoundaryArn",
        json!("arn:aws-us-gov:iam::123456789012:policy/b"),
    ));
    assert!(e.mentions("PermissionsBoundaryArn"), "{e}");
    for bad in [
        "arn:aws:kms:us-east-1:123456789012:alias/my-key",
        "arn:aws:kms:us-east-1:12345:key/abc",
        "arn:aws:s3:::bucket",
        "1234abcd-12ab-34cd-56ef-1234567890ab",
    ] {
        let e = parse_err(&with(full(), "KmsKeyArns", json!([bad])));
        assert!(e.mentions("KmsKeyArns[0]"), "{bad}: {e}");
    }
    parse_ok(&with(
        full(),
        "PermissionsBoundaryArn",
        json!("arn:aws:iam::aws:policy/PowerUserAccess"),
    ));
    let e = parse_err(&with(
        full(),
        "KmsKeyArns",
        json!([
            "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        ]),
    ));
    assert!(e.to_string().contains("more than once"), "{e}");

    // In GovCloud, GovCloud ARNs are the right ones.
    let gov = StackIdentity::from_stack_id(
        "arn:aws-us-gov:cloudformation:us-gov-west-1:123456789012:stack/s/x",
    )
    .expect("gov");
    let props = with(
        minimal(),
        "KmsKeyArns",
        json!([
            "arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        ]),
    );
    assert!(bedrock_setup::model::SetupProperties::parse(&props, &gov).is_ok());
    assert!(
        bedrock_setup::model::SetupProperties::parse(
            &with(
                minimal(),
                "KmsKeyArns",
                json!([
                    "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
                ])
            ),
            &gov
        )
        .is_err()
    );
}

#[test]
fn vpc_ids_shapes_counts_and_duplicates() {
    let ok_subnets = ["subnet-0123abcd", "subnet-0123456789abcdef0"];
    parse_ok(&with(full(), "VpcConfig.SubnetIds", json!(ok_subnets)));
    for bad in [
        "subnet-xyz",
        "subnet-0123ABCD",
        "sg-0123abcd",
        "subnet-0123abc",
        "",
        "subnet-0123456789abcdef",
    ] {
        let e = parse_err(&with(full(), "VpcConfig.SubnetIds", json!([bad])));
        assert!(
            e.mentions("VpcConfig.SubnetIds[0]") || e.mentions("VpcConfig.SubnetIds"),
            "{bad}: {e}"
        );
    }
    let e = parse_err(&with(full(), "VpcConfig.SubnetIds", json!([])));
    assert!(e.to_string().contains("1-16 items"), "{e}");
    let seventeen: Vec<String> = (0..17).map(|i| format!("subnet-{:08x}", i)).collect();
    let e = parse_err(&with(full(), "VpcConfig.SubnetIds", json!(seventeen)));
    assert!(e.to_string().contains("has 17 items"), "{e}");
    let six: Vec<String> = (0..6).map(|i| format!("sg-{:08x}", i)).collect();
    let e = parse_err(&with(full(), "VpcConfig.SecurityGroupIds", json!(six)));
    assert!(e.mentions("VpcConfig.SecurityGroupIds"), "{e}");
    let e = parse_err(&with(
        full(),
        "VpcConfig.SubnetIds",
        json!(["subnet-0123abcd", "subnet-0123abcd"]),
    ));
    assert!(e.to_string().contains("more than once"), "{e}");
    let e = parse_err(&with(
        full(),
        "S3Endpoint.RouteTableIds",
        json!(["rtb-nothex00"]),
    ));
    assert!(e.mentions("S3Endpoint.RouteTableIds[0]"), "{e}");
    let e = parse_err(&with(full(), "VpcConfig", json!("subnet-0123abcd")));
    assert!(e.to_string().contains("rather than an object"), "{e}");
    let e = parse_err(&with(
        full(),
        "VpcConfig.SubnetIds",
        json!("subnet-0123abcd,subnet-0123abce"),
    ));
    assert!(e.to_string().contains("rather than a list"), "{e}");
}

#[test]
fn endpoint_and_bucket_restriction_need_a_vpc() {
    let e = parse_err(&with(minimal(), "S3Endpoint", json!({ "Create": "true" })));
    assert!(
        e.mentions("S3Endpoint") && e.to_string().contains("without VpcConfig"),
        "{e}"
    );
    let e = parse_err(&with(minimal(), "RestrictOutputBucketToVpc", json!("true")));
    assert!(e.mentions("RestrictOutputBucketToVpc"), "{e}");
    parse_ok(&with(
        minimal(),
        "RestrictOutputBucketToVpc",
        json!("false"),
    ));
    let e = parse_err(&with(full(), "S3Endpoint.Policy", json!("Open")));
    assert!(e.to_string().contains("Restricted or FullAccess"), "{e}");
    assert_eq!(
        parse_ok(&with(full(), "S3Endpoint.Policy", json!("FullAccess")))
            .s3_endpoint
            .policy,
        EndpointPolicyKind::FullAccess
    );
}

#[test]
fn job_and_model_names() {
    for good in ["a", "job-1", "Job.v2", "a+b", "a--b", &"j".repeat(63)] {
        assert!(is_job_name(good), "{good}");
    }
    for bad in ["", "-a", ".a", "a b", "a_b", &"j".repeat(64)] {
        assert!(!is_job_name(bad), "{bad}");
        if !bad.is_empty() {
            let e = parse_err(&with(full(), "Job.JobName", json!(bad)));
            assert!(e.mentions("Job.JobName"), "{bad}: {e}");
        }
    }
    for good in [
        "m",
        "my-model",
        "my_model",
        "a-b-c",
        "a1_b2-",
        &"ab".repeat(31),
        &"a".repeat(63),
    ] {
        assert!(is_model_name(good), "{good}");
    }
    for bad in [
        "",
        "-a",
        "a--b",
        "a__b",
        "a.b",
        "a b",
        &"a".repeat(64),
        // 32 groups, but 64 characters: over the API's length limit.
        &"a_".repeat(32),
    ] {
        assert!(!is_model_name(bad), "{bad}");
    }
    let e = parse_err(&with(full(), "Job.CustomModelName", json!("bad..name")));
    assert!(e.mentions("Job.CustomModelName"), "{e}");
    let e = parse_err(&with(full(), "Job.CustomModelName", json!("a_".repeat(32))));
    assert!(e.mentions("Job.CustomModelName"), "{e}");
}

#[test]
fn role_names_and_paths() {
    parse_ok(&with(full(), "RoleName", json!("r".repeat(64))));
    let e = parse_err(&with(full(), "RoleName", json!("r".repeat(65))));
    assert!(
        e.mentions("RoleName") && e.to_string().contains("1-64"),
        "{e}"
    );
    let e = parse_err(&with(full(), "RoleName", json!("has space")));
    assert!(e.mentions("RoleName"), "{e}");
    for good in ["/", "/a/", "/a/b-c/"] {
        parse_ok(&with(full(), "RolePath", json!(good)));
    }
    for bad in ["a", "/a", "a/", "//", "/a//b/", "/a b/"] {
        let e = parse_err(&with(full(), "RolePath", json!(bad)));
        assert!(e.mentions("RolePath"), "{bad}: {e}");
    }
}

#[test]
fn customization_types() {
    for (s, t) in [
        ("FINE_TUNING", CustomizationType::FineTuning),
        (
            "CONTINUED_PRE_TRAINING",
            CustomizationType::ContinuedPreTraining,
        ),
        ("DISTILLATION", CustomizationType::Distillation),
    ] {
        let mut props = with(full(), "Job.CustomizationType", json!(s));
        if t == CustomizationType::Distillation {
            props = with(
                props,
                "Job.TeacherModelIdentifier",
                json!("amazon.nova-pro-v1:0"),
            );
        }
        assert_eq!(parse_ok(&props).job.expect("job").customization_type, t);
    }
    let e = parse_err(&with(full(), "Job.CustomizationType", json!("fine_tuning")));
    assert!(
        e.to_string()
            .contains("FINE_TUNING, CONTINUED_PRE_TRAINING, DISTILLATION"),
        "{e}"
    );
}

#[test]
fn hyper_parameters() {
    let p = parse_ok(&with(
        full(),
        "Job.HyperParameters",
        json!({ "epochCount": 2, "learningRate": "0.0001", "early": true }),
    ));
    let hp = p.job.expect("job").hyper_parameters;
    assert_eq!(hp["epochCount"], "2");
    assert_eq!(hp["early"], "true");
    let e = parse_err(&with(
        full(),
        "Job.HyperParameters",
        json!({ "epochCount": ["2"] }),
    ));
    assert!(e.mentions("Job.HyperParameters.epochCount"), "{e}");
    let many: serde_json::Map<String, Value> =
        (0..51).map(|i| (format!("k{i}"), json!("v"))).collect();
    let e = parse_err(&with(full(), "Job.HyperParameters", Value::Object(many)));
    assert!(e.to_string().contains("at most 50"), "{e}");
    let e = parse_err(&with(
        full(),
        "Job.HyperParameters",
        json!({ "k": "v".repeat(257) }),
    ));
    assert!(e.mentions("Job.HyperParameters.k"), "{e}");
    let e = parse_err(&with(full(), "Job.HyperParameters", json!("epochCount=2")));
    assert!(e.mentions("Job.HyperParameters"), "{e}");
}

#[test]
fn tags() {
    let e = parse_err(&with(
        full(),
        "Tags",
        json!([{ "Key": "aws:cloudformation:x", "Value": "v" }]),
    ));
    assert!(e.to_string().contains("reserved"), "{e}");
    let e = parse_err(&with(
        full(),
        "Tags",
        json!([{ "Key": "bedrock-customization-setup:id", "Value": "v" }]),
    ));
    assert!(e.to_string().contains("reserved"), "{e}");
    let e = parse_err(&with(
        full(),
        "Tags",
        json!([{ "Key": "a", "Value": "1" }, { "Key": "a", "Value": "2" }]),
    ));
    assert!(e.to_string().contains("more than once"), "{e}");
    let e = parse_err(&with(
        full(),
        "Tags",
        json!([{ "Key": "k".repeat(129), "Value": "v" }]),
    ));
    assert!(e.mentions("Tags[0].Key"), "{e}");
    let e = parse_err(&with(
        full(),
        "Tags",
        json!([{ "Key": "k", "Value": "v".repeat(257) }]),
    ));
    assert!(e.mentions("Tags[0].Value"), "{e}");
    let e = parse_err(&with(full(), "Tags", json!([{ "Key": "k" }])));
    assert!(e.mentions("Tags[0].Value"), "{e}");
    let e = parse_err(&with(full(), "Tags", json!(["k=v"])));
    assert!(e.mentions("Tags[0]"), "{e}");
    let fifty: Vec<Value> = (0..49)
        .map(|i| json!({ "Key": format!("k{i}"), "Value": "v" }))
        .collect();
    let e = parse_err(&with(full(), "Tags", json!(fifty)));
    assert!(e.to_string().contains("0-48 items"), "{e}");
    parse_ok(&with(
        full(),
        "Tags",
        json!([{ "Key": "empty-ok", "Value": "" }]),
    ));
}

#[test]
fn several_errors_are_reported_together() {
    let mut v = full();
    v["TrainingDataUri"] = json!("nope");
    v["RestrictOutputBucketToVpc"] = json!("si");
    v["Job"]["JobName"] = json!("-bad");
    v["Colour"] = json!("blue");
    let e = parse_err(&v);
    assert_eq!(e.0.len(), 4, "{e}");
    for p in [
        "TrainingDataUri",
        "RestrictOutputBucketToVpc",
        "Job.JobName",
        "Colour",
    ] {
        assert!(e.mentions(p), "{p}: {e}");
    }
    assert!(
        e.to_string().starts_with("invalid properties (4 problems)"),
        "{e}"
    );
}

#[test]
fn not_an_object_and_wrong_json_types() {
    for v in [json!(null), json!("props"), json!([1, 2]), json!(3)] {
        let e = parse_err(&v);
        assert!(e.mentions("ResourceProperties"), "{e}");
    }
    let e = parse_err(&with(minimal(), "TrainingDataUri", json!(["s3://abc/x"])));
    assert!(e.to_string().contains("rather than a string"), "{e}");
    let e = parse_err(&with(minimal(), "RoleName", json!("")));
    assert!(e.to_string().contains("empty"), "{e}");
    let e = parse_err(&with(minimal(), "Job", json!("amazon.titan")));
    assert!(e.mentions("Job"), "{e}");
}

#[test]
fn long_values_are_shortened_in_messages() {
    let e = parse_err(&with(full(), "Job.JobName", json!("-".repeat(5000))));
    assert!(e.to_string().len() < 600, "{}", e.to_string().len());
}

#[test]
fn distillation_carries_its_teacher_and_only_distillation_does() {
    let distil = with(full(), "Job.CustomizationType", json!("DISTILLATION"));
    let job = parse_ok(&with(
        with(
            distil.clone(),
            "Job.TeacherModelIdentifier",
            json!("amazon.nova-pro-v1:0"),
        ),
        "Job.MaxResponseLengthForInference",
        json!("1000"),
    ))
    .job
    .expect("job");
    let d = job.distillation.expect("distillation");
    assert_eq!(d.teacher_model_identifier, "amazon.nova-pro-v1:0");
    assert_eq!(d.max_response_length_for_inference, Some(1000));
    // A number is taken as CloudFormation would deliver it, as a string.
    let n = parse_ok(&with(
        with(distil.clone(), "Job.TeacherModelIdentifier", json!("t.m")),
        "Job.MaxResponseLengthForInference",
        json!(512),
    ));
    assert_eq!(
        n.job
            .and_then(|j| j.distillation)
            .and_then(|d| d.max_response_length_for_inference),
        Some(512)
    );
    // Without a teacher, DISTILLATION is refused, naming the property.
    let e = parse_err(&distil).to_string();
    assert!(e.contains("Job.TeacherModelIdentifier: is missing"), "{e}");
    // A teacher or length on any other type is refused.
    for (name, value) in [
        ("Job.TeacherModelIdentifier", json!("amazon.nova-pro-v1:0")),
        ("Job.MaxResponseLengthForInference", json!("100")),
    ] {
        let e = parse_err(&with(full(), name, value)).to_string();
        assert!(
            e.contains(name) && e.contains("only with CustomizationType DISTILLATION"),
            "{e}"
        );
    }
    for bad in [
        json!("0"),
        json!("-3"),
        json!("lots"),
        json!("3000000000"),
        json!(1.5),
    ] {
        let e = parse_err(&with(
            with(distil.clone(), "Job.TeacherModelIdentifier", json!("t.m")),
            "Job.MaxResponseLengthForInference",
            bad.clone(),
        ))
        .to_string();
        assert!(
            e.contains("Job.MaxResponseLengthForInference"),
            "{bad}: {e}"
        );
    }
    let e = parse_err(&with(
        distil,
        "Job.TeacherModelIdentifier",
        json!("has space"),
    ))
    .to_string();
    assert!(e.contains("Job.TeacherModelIdentifier"), "{e}");
}

#[test]
fn a_different_teacher_is_a_different_job() {
    let distil = with(
        with(full(), "Job.CustomizationType", json!("DISTILLATION")),
        "Job.TeacherModelIdentifier",
        json!("amazon.nova-pro-v1:0"),
    );
    let a = parse_ok(&distil).replacement_fingerprint();
    let b = parse_ok(&with(
        distil.clone(),
        "Job.TeacherModelIdentifier",
        json!("amazon.nova-premier-v1:0"),
    ))
    .replacement_fingerprint();
    let c = parse_ok(&with(
        distil,
        "Job.MaxResponseLengthForInference",
        json!("99"),
    ))
    .replacement_fingerprint();
    assert_ne!(a, b);
    assert_ne!(a, c);
}

#[test]
fn data_locations_bedrock_would_refuse_are_refused_up_front() {
    // Bedrock's API model allows only letters, digits and - ! _ ' ( ) . in
    // a key segment; anything else fails the job after the setup was made.
    for bad in [
        "s3://training-bucket/train data.jsonl",
        "s3://training-bucket/year=2026/train.jsonl",
        "s3://training-bucket/a+b",
        "s3://training-bucket/a&b",
    ] {
        let e = parse_err(&with(full(), "TrainingDataUri", json!(bad))).to_string();
        assert!(
            e.contains("TrainingDataUri") && e.contains("Bedrock does not accept"),
            "{bad}: {e}"
        );
    }
    for good in [
        "s3://training-bucket/train/data.jsonl",
        "s3://training-bucket/runs/2026-11-26_(v2)/",
        "s3://training-bucket",
    ] {
        parse_ok(&with(full(), "TrainingDataUri", json!(good)));
    }
}

#[test]
fn kms_key_ids_have_the_length_bedrock_demands() {
    let e = parse_err(&with(
        full(),
        "Job.CustomModelKmsKeyArn",
        json!("arn:aws:kms:us-east-1:123456789012:key/short"),
    ))
    .to_string();
    assert!(
        e.contains("Job.CustomModelKmsKeyArn") && e.contains("36-character"),
        "{e}"
    );
    parse_ok(&with(
        full(),
        "KmsKeyArns",
        json!(["arn:aws:kms:us-east-1:123456789012:key/mrk-1234567890abcdef1234567890abcdef"]),
    ));
}

#[test]
fn the_completion_signal_url_is_validated_and_never_shown() {
    let good = "https://cloudformation-waitcondition-us-east-1.s3.amazonaws.com/arn%3Aaws%3Acloudformation/handle?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=0123abcd";
    let job = parse_ok(&with(full(), "Job.CompletionSignalUrl", json!(good)))
        .job
        .expect("job");
    let url = job.completion_signal_url.expect("url");
    assert_eq!(url.expose(), good);
    let shown = format!("{url:?} {url}");
    assert!(
        !shown.contains("Signature") && !shown.contains("handle"),
        "{shown}"
    );
    // SigV2-signed handles, as older stacks have them.
    parse_ok(&with(
        full(),
        "Job.CompletionSignalUrl",
        json!(
            "https://cloudformation-waitcondition-us-east-1.s3.amazonaws.com/h?AWSAccessKeyId=AKIA&Expires=1&Signature=abc"
        ),
    ));
    for bad in [
        "http://example.com/h?X-Amz-Signature=secret1",
        "https://example.com/h?unsigned=secret1",
        "ftp://example.com/h?Signature=secret1",
        "not a url secret1",
    ] {
        let e = parse_err(&with(full(), "Job.CompletionSignalUrl", json!(bad))).to_string();
        assert!(e.contains("Job.CompletionSignalUrl"), "{e}");
        assert!(!e.contains("secret1"), "the URL is a credential: {e}");
    }
}
