//! One parse function per nested object of the properties: `VpcConfig`,
//! `S3Endpoint` and `Job`. Each reads its object with the reader that
//! collects every problem, and returns the typed value.

use std::collections::BTreeMap;

use super::checks::{
    check_base_model, check_boundary_arn, check_kms_key_arn, check_model_name, check_role_name,
    check_role_path, distillation, is_job_name, service_timeout_value,
};
use super::customization::{
    ReinforcementFineTuning, TrainingData, check_grader_arn, invocation_logs, rft_hyper_parameters,
};
use super::error::quote;
use super::identity::StackIdentity;
use super::job::{CustomizationType, JOB_KEYS, JobConfig};
use super::network::{
    ENDPOINT_KEYS, EndpointPolicyKind, MAX_ROUTE_TABLES, MAX_SECURITY_GROUPS, MAX_SUBNETS,
    S3EndpointConfig, VPC_KEYS, VpcConfig,
};
use super::reader::Reader;
use super::s3uri::S3Uri;
use super::signal_url::SignalUrl;

/// The IAM path of the service role when `RolePath` is not given.
pub const DEFAULT_ROLE_PATH: &str = "/bedrock-customization/";
const MAX_VALIDATION_URIS: usize = 10;
const MAX_KMS_KEYS: usize = 10;

/// What CloudFormation itself puts in the properties: `ServiceToken` and
/// `ServiceTimeout`, checked but not part of the setup (they change nothing
/// in AWS). The valid `ServiceTimeout`, in seconds, for the handler's budget.
pub(crate) fn cloudformation_own(r: &mut Reader) -> Option<u32> {
    if let Some(t) = r.string("ServiceToken", true)
        && t.trim().is_empty()
    {
        r.err("ServiceToken", "is empty", "the handler's ARN");
    }
    match service_timeout_value(r.map.get("ServiceTimeout")?) {
        Ok(secs) => Some(secs),
        Err(problem) => {
            r.err(
                "ServiceTimeout",
                problem,
                "a whole number of seconds from 1 to 3600",
            );
            None
        }
    }
}

/// `TrainingDataUri`, `ValidationDataUris` and `OutputDataUri`.
pub(crate) fn data_locations(r: &mut Reader) -> (Option<S3Uri>, Vec<S3Uri>, Option<S3Uri>) {
    // Required unless InvocationLogs is given: `training_source` decides.
    let training = r.s3_uri("TrainingDataUri", false);
    let validation = r.list("ValidationDataUris", 0, MAX_VALIDATION_URIS, |r, p, v| {
        r.s3_uri_value(p, v)
    });
    let output = r.s3_uri("OutputDataUri", true);
    (training, validation, output)
}

/// Where the training data comes from: exactly one of `TrainingDataUri`
/// and `InvocationLogs`, the latter only for a `DISTILLATION` job (Bedrock
/// takes invocation logs for distillation alone).
pub(crate) fn training_source(
    r: &mut Reader,
    uri: Option<S3Uri>,
    job: Option<&JobConfig>,
) -> Option<TrainingData> {
    let uri_given = r.map.contains_key("TrainingDataUri");
    let logs_given = r.map.contains_key("InvocationLogs");
    let logs = r
        .object("InvocationLogs")
        .and_then(|o| invocation_logs(&mut r.nested("InvocationLogs", o)));
    if logs_given {
        let kind = job.map(|j| j.customization_type);
        if kind != Some(CustomizationType::Distillation) {
            let problem = match kind {
                Some(k) => format!("is given for a {} job", k.as_str()),
                None => "is given without a Job".to_string(),
            };
            r.err(
                "InvocationLogs",
                problem,
                "only with a Job of CustomizationType DISTILLATION",
            );
        }
    }
    match (uri_given, logs_given) {
        (true, true) => {
            r.err(
                "TrainingDataUri",
                "is given together with InvocationLogs",
                "exactly one of TrainingDataUri and InvocationLogs",
            );
            None
        }
        (false, false) => {
            r.err(
                "TrainingDataUri",
                "is missing",
                "an s3://bucket/key-or-prefix URI (required), or InvocationLogs for a DISTILLATION job",
            );
            None
        }
        (true, false) => uri.map(TrainingData::Uri),
        (false, true) => logs.map(TrainingData::InvocationLogs),
    }
}

/// `RoleName`, `RolePath` (with its default) and `PermissionsBoundaryArn`.
pub(crate) fn role(
    r: &mut Reader,
    stack: &StackIdentity,
) -> (Option<String>, String, Option<String>) {
    let role_name = r.string("RoleName", false);
    if let Some(n) = &role_name {
        check_role_name(r.errs, n);
    }
    let role_path = r
        .string("RolePath", false)
        .unwrap_or_else(|| DEFAULT_ROLE_PATH.to_string());
    check_role_path(r.errs, &role_path);
    let boundary = r.string("PermissionsBoundaryArn", false);
    if let Some(b) = &boundary {
        check_boundary_arn(r.errs, &stack.partition, b);
    }
    (role_name, role_path, boundary)
}

/// `KmsKeyArns`: key ARNs of the stack's partition, each once.
pub(crate) fn kms_keys(r: &mut Reader, stack: &StackIdentity) -> Vec<String> {
    let kms = r.list("KmsKeyArns", 0, MAX_KMS_KEYS, |r, p, v| {
        let s = r.string_value(p, v)?;
        check_kms_key_arn(r.errs, p, &stack.partition, &s).then_some(s)
    });
    r.no_duplicates("KmsKeyArns", &kms);
    kms
}

/// `VpcConfig`, `S3Endpoint` and `RestrictOutputBucketToVpc`, the last two
/// only together with the first.
pub(crate) fn network(r: &mut Reader) -> (Option<VpcConfig>, S3EndpointConfig, bool) {
    let vpc = r
        .object("VpcConfig")
        .map(|o| vpc_config(&mut r.nested("VpcConfig", o)));
    let endpoint_given = r.map.contains_key("S3Endpoint");
    let s3_endpoint = r
        .object("S3Endpoint")
        .map(|o| s3_endpoint(&mut r.nested("S3Endpoint", o)))
        .unwrap_or_default();
    let restrict = r.boolean("RestrictOutputBucketToVpc", false);
    // A malformed VpcConfig is already reported.
    if vpc.is_none() && !r.map.contains_key("VpcConfig") {
        if endpoint_given {
            r.err(
                "S3Endpoint",
                "is given without VpcConfig",
                "S3Endpoint only together with VpcConfig",
            );
        }
        if restrict {
            r.err(
                "RestrictOutputBucketToVpc",
                "is true without VpcConfig, so there is no VPC to restrict the bucket to",
                "true only together with VpcConfig",
            );
        }
    }
    (vpc, s3_endpoint, restrict)
}

/// `VpcConfig`: 1-16 subnets and 1-5 security groups, each once.
pub(crate) fn vpc_config(r: &mut Reader) -> VpcConfig {
    r.reject_unknown(VPC_KEYS);
    let subnets = r.required_list("SubnetIds", 1, MAX_SUBNETS, |r, p, v| {
        r.ec2_id(p, v, "subnet", "subnet-<8 or 17 hex digits>")
    });
    let groups = r.required_list("SecurityGroupIds", 1, MAX_SECURITY_GROUPS, |r, p, v| {
        r.ec2_id(p, v, "sg", "sg-<8 or 17 hex digits>")
    });
    r.no_duplicates("SubnetIds", &subnets);
    r.no_duplicates("SecurityGroupIds", &groups);
    VpcConfig {
        subnet_ids: subnets,
        security_group_ids: groups,
    }
}

/// `S3Endpoint`: whether to create it, on which route tables, with which policy.
pub(crate) fn s3_endpoint(r: &mut Reader) -> S3EndpointConfig {
    r.reject_unknown(ENDPOINT_KEYS);
    let create = r.boolean("Create", true);
    let route_table_ids = r.list("RouteTableIds", 0, MAX_ROUTE_TABLES, |r, p, v| {
        r.ec2_id(p, v, "rtb", "rtb-<8 or 17 hex digits>")
    });
    r.no_duplicates("RouteTableIds", &route_table_ids);
    let policy = match r.string("Policy", false).as_deref() {
        None | Some("Restricted") => EndpointPolicyKind::Restricted,
        Some("FullAccess") => EndpointPolicyKind::FullAccess,
        Some(other) => {
            r.err(
                "Policy",
                format!("{} is not a known endpoint policy", quote(other)),
                "Restricted or FullAccess",
            );
            EndpointPolicyKind::Restricted
        }
    };
    S3EndpointConfig {
        create,
        route_table_ids,
        policy,
    }
}

/// `Job`: the customization job and what happens to it on Delete.
pub(crate) fn job(r: &mut Reader, stack: &StackIdentity) -> JobConfig {
    r.reject_unknown(JOB_KEYS);
    let base = r.string("BaseModelIdentifier", true).unwrap_or_default();
    if r.map.contains_key("BaseModelIdentifier") {
        check_base_model(r, &base);
    }
    let custom_model_name = r.string("CustomModelName", false);
    if let Some(n) = &custom_model_name {
        check_model_name(r, "CustomModelName", n, "custom model");
    }
    let job_name = r.string("JobName", false);
    if let Some(n) = &job_name
        && !is_job_name(n)
    {
        r.err(
            "JobName",
            format!("{} does not match the job name pattern", quote(n)),
            "1-63 characters matching ^[a-zA-Z0-9](-*[a-zA-Z0-9+\\-.])*$",
        );
    }
    let customization_type = match r.string("CustomizationType", false) {
        None => CustomizationType::FineTuning,
        Some(s) => CustomizationType::parse(&s).unwrap_or_else(|| {
            r.err(
                "CustomizationType",
                format!("{} is not a customization type", quote(&s)),
                CustomizationType::ALLOWED,
            );
            CustomizationType::FineTuning
        }),
    };
    let (hyper_parameters, reinforcement) =
        if customization_type == CustomizationType::ReinforcementFineTuning {
            (BTreeMap::new(), reinforcement(r, stack))
        } else {
            refuse_grader(r, customization_type);
            (r.hyper_parameters("HyperParameters"), None)
        };
    let custom_model_kms_key_arn = r.string("CustomModelKmsKeyArn", false);
    if let Some(k) = &custom_model_kms_key_arn {
        let p = r.path_of("CustomModelKmsKeyArn");
        check_kms_key_arn(r.errs, &p, &stack.partition, k);
    }
    let distillation = distillation(r, customization_type);
    JobConfig {
        base_model_identifier: base,
        custom_model_name,
        job_name,
        customization_type,
        hyper_parameters,
        custom_model_kms_key_arn,
        distillation,
        reinforcement,
        completion_signal_url: completion_signal_url(r),
        stop_job_on_delete: r.boolean("StopJobOnDelete", true),
        delete_custom_model_on_delete: r.boolean("DeleteCustomModelOnDelete", false),
    }
}

/// A `REINFORCEMENT_FINE_TUNING` job's grader (required) and its typed
/// hyperparameters.
fn reinforcement(r: &mut Reader, stack: &StackIdentity) -> Option<ReinforcementFineTuning> {
    let hyper_parameters = rft_hyper_parameters(r);
    let Some(arn) = r.string("GraderLambdaArn", false) else {
        if !r.map.contains_key("GraderLambdaArn") {
            r.err(
                "GraderLambdaArn",
                "is missing",
                "the reward function's Lambda ARN (required with CustomizationType REINFORCEMENT_FINE_TUNING)",
            );
        }
        return None;
    };
    check_grader_arn(r, &stack.partition, &stack.region, &arn).then_some(ReinforcementFineTuning {
        grader_lambda_arn: arn,
        hyper_parameters,
    })
}

/// A grader belongs to reinforcement fine-tuning alone: Bedrock refuses an
/// `rftConfig` on any other type.
fn refuse_grader(r: &mut Reader, kind: CustomizationType) {
    if r.map.contains_key("GraderLambdaArn") {
        r.err(
            "GraderLambdaArn",
            format!("is given for a {} job", kind.as_str()),
            "only with CustomizationType REINFORCEMENT_FINE_TUNING",
        );
    }
}

/// `Job.CompletionSignalUrl`: a WaitConditionHandle's pre-signed URL. A
/// credential: the error says what is wrong without quoting it.
fn completion_signal_url(r: &mut Reader) -> Option<SignalUrl> {
    let url = r.string("CompletionSignalUrl", false)?;
    match SignalUrl::parse(&url) {
        Ok(u) => Some(u),
        Err(problem) => {
            r.err(
                "CompletionSignalUrl",
                problem,
                "the Ref of an AWS::CloudFormation::WaitConditionHandle (a pre-signed https URL)",
            );
            None
        }
    }
}
