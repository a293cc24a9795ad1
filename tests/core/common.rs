use bedrock_setup::model::{SetupProperties, StackIdentity, ValidationErrors};
use serde_json::{Value, json};

pub(crate) const STACK_ID: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/demo-stack/1f2e3d4c-aaaa-bbbb-cccc-000000000001";

pub(crate) fn stack() -> StackIdentity {
    StackIdentity::from_stack_id(STACK_ID).expect("stack id")
}

pub(crate) fn minimal() -> Value {
    json!({
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:setup",
        "TrainingDataUri": "s3://training-bucket/train.jsonl",
        "OutputDataUri": "s3://output-bucket/out/"
    })
}

pub(crate) fn full() -> Value {
    json!({
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:setup",
        "TrainingDataUri": "s3://training-bucket/train/data.jsonl",
        "ValidationDataUris": ["s3://validation-bucket/validation/"],
        "OutputDataUri": "s3://output-bucket/output/",
        "RoleName": "my-role",
        "RolePath": "/bedrock-customization/",
        "PermissionsBoundaryArn": "arn:aws:iam::123456789012:policy/boundary",
        "KmsKeyArns": ["arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"],
        "VpcConfig": { "SubnetIds": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"], "SecurityGroupIds": ["sg-0123456789abcdef0"] },
        "S3Endpoint": { "Create": "true", "RouteTableIds": ["rtb-0123456789abcdef0"], "Policy": "Restricted" },
        "RestrictOutputBucketToVpc": "true",
        "Job": {
            "BaseModelIdentifier": "amazon.titan-text-express-v1",
            "CustomModelName": "my-model",
            "JobName": "my-job",
            "CustomizationType": "FINE_TUNING",
            "HyperParameters": { "epochCount": "2" },
            "CustomModelKmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/abcd1234-12ab-34cd-56ef-1234567890ab",
            "StopJobOnDelete": "true",
            "DeleteCustomModelOnDelete": "false"
        },
        "Tags": [{ "Key": "team", "Value": "ml" }]
    })
}

pub(crate) fn parse(v: &Value) -> Result<SetupProperties, ValidationErrors> {
    SetupProperties::parse(v, &stack())
}

pub(crate) fn parse_ok(v: &Value) -> SetupProperties {
    match parse(v) {
        Ok(p) => p,
        Err(e) => panic!("expected valid properties, got: {e}"),
    }
}

/// Parses, expects failure, and returns the errors.
pub(crate) fn parse_err(v: &Value) -> ValidationErrors {
    match parse(v) {
        Ok(p) => panic!("expected a validation error, got {p:?}"),
        Err(e) => e,
    }
}

pub(crate) use crate::json_paths::{with, without};

/// A reinforcement fine-tuning job (SPEC section 8) with a grader and typed
/// hyperparameters, on the full property set.
pub(crate) fn rft() -> Value {
    let v = with(
        full(),
        "Job.CustomizationType",
        json!("REINFORCEMENT_FINE_TUNING"),
    );
    let v = with(
        v,
        "Job.BaseModelIdentifier",
        json!("amazon.nova-2-lite-v1:0"),
    );
    let v = with(
        v,
        "Job.GraderLambdaArn",
        json!("arn:aws:lambda:us-east-1:123456789012:function:reward"),
    );
    with(
        v,
        "Job.HyperParameters",
        json!({"epochCount": "2", "batchSize": "64", "learningRate": "0.00001",
               "reasoningEffort": "medium", "trainingSamplePerPrompt": 4}),
    )
}

/// A distillation job whose teacher is served through a cross-region
/// inference profile.
pub(crate) fn profile_teacher() -> Value {
    let v = with(full(), "Job.CustomizationType", json!("DISTILLATION"));
    let v = with(v, "Job.BaseModelIdentifier", json!("amazon.nova-lite-v1:0"));
    let v = without(v, "Job.HyperParameters");
    with(
        v,
        "Job.TeacherModelIdentifier",
        json!("us.amazon.nova-premier-v1:0"),
    )
}

/// A distillation job trained on the account's model-invocation logs.
pub(crate) fn invocation_logs() -> Value {
    let v = without(profile_teacher(), "TrainingDataUri");
    with(
        v,
        "InvocationLogs",
        json!({"SourceUri": "s3://invocation-logs/AWSLogs/123456789012/BedrockModelInvocationLogs/",
               "UsePromptResponse": "true",
               "RequestMetadataFilters": {"Equals": {"project": "support-bot"}}}),
    )
}
