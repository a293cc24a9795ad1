//! The bad-input corpus: properties each wrong in one way, with the property
//! the answer must name. The hostile suite runs it through the handler
//! against the emulator (nothing may change); the core suite runs it through
//! the parser and the resource's JSON Schema (the same verdict wherever a
//! schema can judge).

use serde_json::{Value, json};

use super::json_paths::{with, without};

/// What a corpus is written against: an emulator fixture's names, or
/// made-up ones where nothing is looked up.
pub(crate) struct CorpusNames {
    /// Properties using every part of the setup.
    pub(crate) full: Value,
    pub(crate) subnets: Vec<String>,
    /// A subnet of another VPC.
    pub(crate) other_vpc_subnet: String,
}

/// (what the Reason must name, the malformed properties)
pub(crate) fn corpus(n: &CorpusNames) -> Vec<(&'static str, Value)> {
    let full = n.full.clone();
    let no_vpc = without(
        without(without(full.clone(), "VpcConfig"), "S3Endpoint"),
        "RestrictOutputBucketToVpc",
    );
    let many = |n: usize, f: &dyn Fn(usize) -> Value| Value::Array((0..n).map(f).collect());
    let big_hp: serde_json::Map<String, Value> =
        (0..51).map(|i| (format!("p{i}"), json!("1"))).collect();
    vec![
        ("ResourceProperties", json!("TrainingDataUri=s3://a/b")),
        ("ResourceProperties", json!([full.clone()])),
        ("ResourceProperties", Value::Null),
        ("TrainingDataUri", without(full.clone(), "TrainingDataUri")),
        (
            "TrainingDataUri",
            with(
                full.clone(),
                "TrainingDataUri",
                json!(["s3://training-bucket/a"]),
            ),
        ),
        (
            "TrainingDataUri",
            with(full.clone(), "TrainingDataUri", json!("")),
        ),
        (
            "TrainingDataUri",
            with(
                full.clone(),
                "TrainingDataUri",
                json!("https://training-bucket/a"),
            ),
        ),
        (
            "TrainingDataUri",
            with(
                full.clone(),
                "TrainingDataUri",
                json!("s3://Training_Bucket/a"),
            ),
        ),
        (
            "OutputDataUri",
            with(full.clone(), "OutputDataUri", json!(5)),
        ),
        (
            "OutputDataUri",
            with(
                full.clone(),
                "OutputDataUri",
                json!("s3://output-bucket/out/*"),
            ),
        ),
        (
            "OutputDataUri",
            with(
                full.clone(),
                "OutputDataUri",
                json!({ "Bucket": "output-bucket" }),
            ),
        ),
        (
            "ValidationDataUris",
            with(
                full.clone(),
                "ValidationDataUris",
                json!("s3://training-bucket/v"),
            ),
        ),
        (
            "ValidationDataUris",
            with(
                full.clone(),
                "ValidationDataUris",
                many(11, &|i| json!(format!("s3://training-bucket/v{i}"))),
            ),
        ),
        (
            "ValidationDataUris[0]",
            with(full.clone(), "ValidationDataUris", json!([123])),
        ),
        (
            "RoleName",
            with(full.clone(), "RoleName", json!("r".repeat(65))),
        ),
        (
            "RoleName",
            with(full.clone(), "RoleName", json!(["a-role"])),
        ),
        (
            "RoleName",
            with(full.clone(), "RoleName", json!("bad name!")),
        ),
        (
            "RolePath",
            with(full.clone(), "RolePath", json!("no-slashes")),
        ),
        (
            "PermissionsBoundaryArn",
            with(
                full.clone(),
                "PermissionsBoundaryArn",
                json!("arn:aws-cn:iam::123456789012:policy/b"),
            ),
        ),
        (
            "PermissionsBoundaryArn",
            with(
                full.clone(),
                "PermissionsBoundaryArn",
                json!("arn:aws:s3:::bucket"),
            ),
        ),
        (
            "KmsKeyArns",
            with(
                full.clone(),
                "KmsKeyArns",
                json!(
                    "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
                ),
            ),
        ),
        (
            "KmsKeyArns[0]",
            with(
                full.clone(),
                "KmsKeyArns",
                json!(["arn:aws:kms:us-east-1:123456789012:alias/my-key"]),
            ),
        ),
        (
            "KmsKeyArns[0]",
            with(
                full.clone(),
                "KmsKeyArns",
                json!([
                    "arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
                ]),
            ),
        ),
        (
            "KmsKeyArns",
            with(
                full.clone(),
                "KmsKeyArns",
                json!([
                    "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                    "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
                ]),
            ),
        ),
        (
            "VpcConfig",
            with(full.clone(), "VpcConfig", json!(n.subnets[0].clone())),
        ),
        (
            "VpcConfig.SubnetIds",
            with(full.clone(), "VpcConfig.SubnetIds", json!([])),
        ),
        (
            "VpcConfig.SubnetIds",
            with(
                full.clone(),
                "VpcConfig.SubnetIds",
                many(17, &|i| json!(format!("subnet-{i:08x}"))),
            ),
        ),
        (
            "VpcConfig.SubnetIds",
            with(
                full.clone(),
                "VpcConfig.SubnetIds",
                json!([n.subnets[0], n.subnets[0]]),
            ),
        ),
        (
            "VpcConfig.SubnetIds[0]",
            with(full.clone(), "VpcConfig.SubnetIds", json!(["subnet-xyz"])),
        ),
        (
            "VpcConfig.SecurityGroupIds",
            with(
                full.clone(),
                "VpcConfig.SecurityGroupIds",
                many(6, &|i| json!(format!("sg-{i:08x}"))),
            ),
        ),
        (
            "VpcConfig.Subnets",
            with(
                full.clone(),
                "VpcConfig.Subnets",
                json!(["subnet-0123abcd"]),
            ),
        ),
        (
            "VpcConfig",
            with(
                full.clone(),
                "VpcConfig.SubnetIds",
                json!([n.subnets[0], n.other_vpc_subnet]),
            ),
        ),
        (
            "VpcConfig.SubnetIds",
            with(
                full.clone(),
                "VpcConfig.SubnetIds",
                json!(["subnet-0123456789abcdef9"]),
            ),
        ),
        (
            "S3Endpoint.Create",
            with(full.clone(), "S3Endpoint.Create", json!("yes")),
        ),
        (
            "S3Endpoint.Policy",
            with(full.clone(), "S3Endpoint.Policy", json!("Open")),
        ),
        (
            "S3Endpoint.RouteTableIds[0]",
            with(full.clone(), "S3Endpoint.RouteTableIds", json!(["rtb-1"])),
        ),
        (
            "S3Endpoint",
            with(no_vpc.clone(), "S3Endpoint", json!({ "Create": "true" })),
        ),
        (
            "RestrictOutputBucketToVpc",
            with(full.clone(), "RestrictOutputBucketToVpc", json!("1")),
        ),
        (
            "RestrictOutputBucketToVpc",
            with(no_vpc.clone(), "RestrictOutputBucketToVpc", json!("true")),
        ),
        (
            "Job",
            with(full.clone(), "Job", json!("amazon.titan-text-express-v1")),
        ),
        (
            "Job.BaseModelIdentifier",
            without(full.clone(), "Job.BaseModelIdentifier"),
        ),
        (
            "Job.BaseModelIdentifier",
            with(
                full.clone(),
                "Job.BaseModelIdentifier",
                json!("amazon titan"),
            ),
        ),
        (
            "Job.JobName",
            with(full.clone(), "Job.JobName", json!("j".repeat(64))),
        ),
        (
            "Job.JobName",
            with(full.clone(), "Job.JobName", json!("-starts-with-dash")),
        ),
        (
            "Job.CustomModelName",
            with(full.clone(), "Job.CustomModelName", json!("double--dash")),
        ),
        (
            "Job.CustomizationType",
            with(full.clone(), "Job.CustomizationType", json!("RLHF")),
        ),
        (
            "Job.HyperParameters",
            with(full.clone(), "Job.HyperParameters", Value::Object(big_hp)),
        ),
        (
            "Job.HyperParameters.epochCount",
            with(
                full.clone(),
                "Job.HyperParameters.epochCount",
                json!("9".repeat(300)),
            ),
        ),
        (
            "Job.HyperParameters.epochCount",
            with(full.clone(), "Job.HyperParameters.epochCount", json!([2])),
        ),
        (
            "Job.CustomModelKmsKeyArn",
            with(
                full.clone(),
                "Job.CustomModelKmsKeyArn",
                json!(
                    "arn:aws-cn:kms:cn-north-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
                ),
            ),
        ),
        (
            "Job.StopJobOnDelete",
            with(full.clone(), "Job.StopJobOnDelete", json!("maybe")),
        ),
        (
            "Job.DeleteCustomModelOnDelete",
            with(full.clone(), "Job.DeleteCustomModelOnDelete", json!(0)),
        ),
        ("Job.Epochs", with(full.clone(), "Job.Epochs", json!("2"))),
        ("Tags", with(full.clone(), "Tags", json!("team=ml"))),
        (
            "Tags",
            with(
                full.clone(),
                "Tags",
                json!([{ "Key": "a", "Value": "1" }, { "Key": "a", "Value": "2" }]),
            ),
        ),
        (
            "Tags[0].Key",
            with(
                full.clone(),
                "Tags",
                json!([{ "Key": "aws:owner", "Value": "me" }]),
            ),
        ),
        (
            "Tags",
            with(
                full.clone(),
                "Tags",
                many(49, &|i| json!({ "Key": format!("k{i}"), "Value": "v" })),
            ),
        ),
        ("Colour", with(full.clone(), "Colour", json!("blue"))),
        (
            "trainingDataUri",
            with(
                full.clone(),
                "trainingDataUri",
                json!("s3://training-bucket/a"),
            ),
        ),
        ("ServiceToken", without(full.clone(), "ServiceToken")),
        (
            "OutputDataUri",
            with(
                full.clone(),
                "OutputDataUri",
                json!("s3://no-such-bucket-here/out/"),
            ),
        ),
        (
            "RoleName",
            with(full.clone(), "RoleName", json!("someone-elses-role")),
        ),
        (
            "S3Endpoint",
            with(full.clone(), "VpcConfig.SubnetIds", json!([n.subnets[1]])),
        ),
        (
            "Job.JobName",
            with(
                with(full, "Job.JobName", json!("someone-elses-job")),
                "S3Endpoint.Create",
                json!("false"),
            ),
        ),
    ]
}
