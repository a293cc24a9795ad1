//! The resource's properties as CloudFormation delivers them (every scalar a
//! string), parsed into typed values and validated in one pass that reports
//! every problem at once.

use std::collections::BTreeMap;

use serde_json::Value;

pub use super::checks::{is_job_name, is_model_name, role_path_within, service_timeout};
use super::customization::{ReinforcementFineTuning, TrainingData};
use super::deployment::{self, DeploymentConfig};
use super::error::{ValidationErrors, quote};
use super::identity::StackIdentity;
use super::reader::{Reader, json_kind};
use super::s3uri::S3Uri;
use super::sections;
use super::signal::SignalUrl;

/// The IAM path of the service role when `RolePath` is not given.
pub const DEFAULT_ROLE_PATH: &str = "/bedrock-customization/";
pub(crate) const MAX_VALIDATION_URIS: usize = 10;
pub(crate) const MAX_KMS_KEYS: usize = 10;
pub(crate) const MAX_SUBNETS: usize = 16;
pub(crate) const MAX_SECURITY_GROUPS: usize = 5;
pub(crate) const MAX_ROUTE_TABLES: usize = 16;
/// IAM allows 50 tags on a role; two are ours (owner and fingerprint).
pub(crate) const MAX_USER_TAGS: usize = 48;
pub(crate) const MAX_HYPER_PARAMETERS: usize = 50;

/// The resource's properties, parsed and validated (SPEC sections 2 and 7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupProperties {
    /// `TrainingDataUri`, or `InvocationLogs` (exactly one of them).
    pub training_data: TrainingData,
    /// `ValidationDataUris`.
    pub validation_data: Vec<S3Uri>,
    /// `OutputDataUri`.
    pub output_data: S3Uri,
    /// `RoleName`; derived from the physical id when absent.
    pub role_name: Option<String>,
    /// `RolePath`.
    pub role_path: String,
    /// `PermissionsBoundaryArn`.
    pub permissions_boundary_arn: Option<String>,
    /// `KmsKeyArns`: keys of the data.
    pub kms_key_arns: Vec<String>,
    /// `VpcConfig`.
    pub vpc: Option<VpcConfig>,
    /// `S3Endpoint`, with its defaults.
    pub s3_endpoint: S3EndpointConfig,
    /// `RestrictOutputBucketToVpc`.
    pub restrict_output_bucket_to_vpc: bool,
    /// `Job`; without it only the secure setup is made.
    pub job: Option<JobConfig>,
    /// `Tags`: the user's tags for every part.
    pub tags: Vec<Tag>,
    /// `Deployment`: what makes the trained model callable (with `Job`).
    pub deployment: Option<DeploymentConfig>,
}

/// `VpcConfig`: where the job runs, as on the job itself (seed 002).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VpcConfig {
    /// `SubnetIds`.
    pub subnet_ids: Vec<String>,
    /// `SecurityGroupIds`.
    pub security_group_ids: Vec<String>,
}

/// `S3Endpoint`: the S3 gateway endpoint on the VPC's route tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3EndpointConfig {
    /// Only meaningful with a VpcConfig.
    pub create: bool,
    /// Empty: the route tables of the subnets.
    pub route_table_ids: Vec<String>,
    /// `Policy`: which endpoint policy it carries.
    pub policy: EndpointPolicyKind,
}

impl Default for S3EndpointConfig {
    fn default() -> Self {
        S3EndpointConfig {
            create: true,
            route_table_ids: Vec::new(),
            policy: EndpointPolicyKind::Restricted,
        }
    }
}

/// `S3Endpoint.Policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointPolicyKind {
    /// Only the setup's three buckets are reachable through the endpoint.
    Restricted,
    /// Every bucket is reachable through the endpoint.
    FullAccess,
}

/// `Job.CustomizationType`: what Bedrock does with the base model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomizationType {
    /// `FINE_TUNING`.
    FineTuning,
    /// `CONTINUED_PRE_TRAINING`.
    ContinuedPreTraining,
    /// `DISTILLATION` (with a teacher model).
    Distillation,
    /// `REINFORCEMENT_FINE_TUNING` (with a grader function).
    ReinforcementFineTuning,
}

impl CustomizationType {
    pub(crate) const ALLOWED: &'static str =
        "FINE_TUNING, CONTINUED_PRE_TRAINING, DISTILLATION, REINFORCEMENT_FINE_TUNING";

    /// The name Bedrock's API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            CustomizationType::FineTuning => "FINE_TUNING",
            CustomizationType::ContinuedPreTraining => "CONTINUED_PRE_TRAINING",
            CustomizationType::Distillation => "DISTILLATION",
            CustomizationType::ReinforcementFineTuning => "REINFORCEMENT_FINE_TUNING",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "FINE_TUNING" => Some(CustomizationType::FineTuning),
            "CONTINUED_PRE_TRAINING" => Some(CustomizationType::ContinuedPreTraining),
            "DISTILLATION" => Some(CustomizationType::Distillation),
            "REINFORCEMENT_FINE_TUNING" => Some(CustomizationType::ReinforcementFineTuning),
            _ => None,
        }
    }
}

/// `Job`: the model customization job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobConfig {
    /// `BaseModelIdentifier`.
    pub base_model_identifier: String,
    /// `CustomModelName`; derived from the physical id when absent.
    pub custom_model_name: Option<String>,
    /// `JobName`; derived from the physical id when absent.
    pub job_name: Option<String>,
    /// `CustomizationType`.
    pub customization_type: CustomizationType,
    /// `HyperParameters`, as strings (empty for reinforcement fine-tuning,
    /// whose hyperparameters are typed in `reinforcement`).
    pub hyper_parameters: BTreeMap<String, String>,
    /// `CustomModelKmsKeyArn`.
    pub custom_model_kms_key_arn: Option<String>,
    /// With `DISTILLATION` only (and always there).
    pub distillation: Option<Distillation>,
    /// With `REINFORCEMENT_FINE_TUNING` only (and always there).
    pub reinforcement: Option<ReinforcementFineTuning>,
    /// `CompletionSignalUrl`: signalled once when the job ends.
    pub completion_signal_url: Option<SignalUrl>,
    /// `StopJobOnDelete`.
    pub stop_job_on_delete: bool,
    /// `DeleteCustomModelOnDelete`: a trained model is data, kept unless asked.
    pub delete_custom_model_on_delete: bool,
}

/// What a `DISTILLATION` job carries: Bedrock's
/// `customizationConfig.distillationConfig.teacherModelConfig`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Distillation {
    /// `Job.TeacherModelIdentifier`.
    pub teacher_model_identifier: String,
    /// Bedrock's default when absent.
    pub max_response_length_for_inference: Option<i32>,
}

/// One of the user's `Tags`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Tag {
    /// `Key`.
    pub key: String,
    /// `Value`.
    pub value: String,
}

/// Every property name, by level: what the parser accepts.
pub const TOP_LEVEL: &[&str] = &[
    "ServiceToken",
    "ServiceTimeout",
    "TrainingDataUri",
    "InvocationLogs",
    "ValidationDataUris",
    "OutputDataUri",
    "RoleName",
    "RolePath",
    "PermissionsBoundaryArn",
    "KmsKeyArns",
    "VpcConfig",
    "S3Endpoint",
    "RestrictOutputBucketToVpc",
    "Job",
    "Tags",
    "Deployment",
];
/// The properties `VpcConfig` accepts.
pub const VPC_KEYS: &[&str] = &["SubnetIds", "SecurityGroupIds"];
/// The properties `S3Endpoint` accepts.
pub const ENDPOINT_KEYS: &[&str] = &["Create", "RouteTableIds", "Policy"];
/// The properties `Job` accepts.
pub const JOB_KEYS: &[&str] = &[
    "BaseModelIdentifier",
    "CustomModelName",
    "JobName",
    "CustomizationType",
    "HyperParameters",
    "CustomModelKmsKeyArn",
    "TeacherModelIdentifier",
    "MaxResponseLengthForInference",
    "GraderLambdaArn",
    "CompletionSignalUrl",
    "StopJobOnDelete",
    "DeleteCustomModelOnDelete",
];

impl SetupProperties {
    /// Parses and validates `ResourceProperties`. Nothing here calls AWS; on
    /// error every problem found is returned.
    pub fn parse(value: &Value, stack: &StackIdentity) -> Result<Self, ValidationErrors> {
        let mut errs = ValidationErrors::default();
        let Some(map) = value.as_object() else {
            errs.push(
                "ResourceProperties",
                format!("is {} rather than an object", json_kind(value)),
                "an object of the properties in the resource contract",
            );
            return Err(errs);
        };
        let mut r = Reader {
            map,
            path: String::new(),
            errs: &mut errs,
        };
        r.reject_unknown(TOP_LEVEL);
        sections::cloudformation_own(&mut r);
        let (training, validation, output) = sections::data_locations(&mut r);
        let (role_name, role_path, boundary) = sections::role(&mut r, stack);
        let kms = sections::kms_keys(&mut r, stack);
        let (vpc, s3_endpoint, restrict) = sections::network(&mut r);
        let job = r
            .object("Job")
            .map(|o| sections::job(&mut r.nested("Job", o), stack));
        let tags = r.tags("Tags");
        let deployment = r
            .object("Deployment")
            .and_then(|o| deployment::parse(&mut r.nested("Deployment", o)));
        if job.is_none() && r.map.contains_key("Deployment") {
            r.err(
                "Deployment",
                "is given without a Job",
                "only with a Job: a deployment serves the model the job trains",
            );
        }
        let training = sections::training_source(&mut r, training, job.as_ref());

        match (training, output) {
            (Some(training_data), Some(output_data)) if errs.is_empty() => Ok(SetupProperties {
                training_data,
                validation_data: validation,
                output_data,
                role_name,
                role_path,
                permissions_boundary_arn: boundary,
                kms_key_arns: kms,
                vpc,
                s3_endpoint,
                restrict_output_bucket_to_vpc: restrict,
                job,
                tags,
                deployment,
            }),
            _ => Err(errs),
        }
    }

    /// `RolePath` must lie within the path the handler's template grants
    /// (SPEC section 7): outside it every IAM write would be denied mid-way.
    pub(crate) fn check_role_path_within(&self, managed: &str) -> Result<(), ValidationErrors> {
        if role_path_within(&self.role_path, managed) {
            return Ok(());
        }
        let mut errs = ValidationErrors::default();
        errs.push(
            "RolePath",
            format!(
                "{} lies outside the path this handler may manage",
                quote(&self.role_path)
            ),
            format!("'{managed}' or a path below it (the handler stack's RolePath parameter)"),
        );
        Err(errs)
    }

    /// Whether an S3 gateway endpoint is part of this setup.
    pub(crate) fn wants_endpoint(&self) -> bool {
        self.vpc.is_some() && self.s3_endpoint.create
    }

    /// Every KMS key the role may use for data (not the custom model key).
    pub(crate) fn data_kms_keys(&self) -> &[String] {
        &self.kms_key_arns
    }

    /// The custom model's key, when the job has one.
    pub fn custom_model_kms_key(&self) -> Option<&str> {
        self.job
            .as_ref()
            .and_then(|j| j.custom_model_kms_key_arn.as_deref())
    }
}
