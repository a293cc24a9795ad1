//! The resource's properties as CloudFormation delivers them (every scalar a
//! string), parsed into typed values and validated in one pass that reports
//! every problem at once.

use std::collections::BTreeMap;

use serde_json::Value;

pub use super::checks::{is_job_name, is_model_name, role_path_within, service_timeout};
use super::error::{ValidationErrors, quote};
use super::identity::StackIdentity;
use super::reader::{Reader, json_kind};
use super::s3uri::S3Uri;
use super::sections;

pub const DEFAULT_ROLE_PATH: &str = "/bedrock-customization/";
pub const MAX_VALIDATION_URIS: usize = 10;
pub const MAX_KMS_KEYS: usize = 10;
pub const MAX_SUBNETS: usize = 16;
pub const MAX_SECURITY_GROUPS: usize = 5;
pub const MAX_ROUTE_TABLES: usize = 16;
/// IAM allows 50 tags on a role; two are ours (owner and fingerprint).
pub const MAX_USER_TAGS: usize = 48;
pub const MAX_HYPER_PARAMETERS: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupProperties {
    pub training_data: S3Uri,
    pub validation_data: Vec<S3Uri>,
    pub output_data: S3Uri,
    pub role_name: Option<String>,
    pub role_path: String,
    pub permissions_boundary_arn: Option<String>,
    pub kms_key_arns: Vec<String>,
    pub vpc: Option<VpcConfig>,
    pub s3_endpoint: S3EndpointConfig,
    pub restrict_output_bucket_to_vpc: bool,
    pub job: Option<JobConfig>,
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VpcConfig {
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3EndpointConfig {
    /// Only meaningful with a VpcConfig.
    pub create: bool,
    /// Empty: the route tables of the subnets.
    pub route_table_ids: Vec<String>,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointPolicyKind {
    Restricted,
    FullAccess,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomizationType {
    FineTuning,
    ContinuedPreTraining,
    Distillation,
}

impl CustomizationType {
    pub const ALLOWED: &'static str = "FINE_TUNING, CONTINUED_PRE_TRAINING, DISTILLATION";

    pub fn as_str(self) -> &'static str {
        match self {
            CustomizationType::FineTuning => "FINE_TUNING",
            CustomizationType::ContinuedPreTraining => "CONTINUED_PRE_TRAINING",
            CustomizationType::Distillation => "DISTILLATION",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "FINE_TUNING" => Some(CustomizationType::FineTuning),
            "CONTINUED_PRE_TRAINING" => Some(CustomizationType::ContinuedPreTraining),
            "DISTILLATION" => Some(CustomizationType::Distillation),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobConfig {
    pub base_model_identifier: String,
    pub custom_model_name: Option<String>,
    pub job_name: Option<String>,
    pub customization_type: CustomizationType,
    pub hyper_parameters: BTreeMap<String, String>,
    pub custom_model_kms_key_arn: Option<String>,
    /// With `DISTILLATION` only (and always there).
    pub distillation: Option<Distillation>,
    pub stop_job_on_delete: bool,
    pub delete_custom_model_on_delete: bool,
}

/// What a `DISTILLATION` job carries: Bedrock's
/// `customizationConfig.distillationConfig.teacherModelConfig`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Distillation {
    pub teacher_model_identifier: String,
    /// Bedrock's default when absent.
    pub max_response_length_for_inference: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// Every property name, by level: what the parser accepts.
pub const TOP_LEVEL: &[&str] = &[
    "ServiceToken",
    "ServiceTimeout",
    "TrainingDataUri",
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
];
pub const VPC_KEYS: &[&str] = &["SubnetIds", "SecurityGroupIds"];
pub const ENDPOINT_KEYS: &[&str] = &["Create", "RouteTableIds", "Policy"];
pub const JOB_KEYS: &[&str] = &[
    "BaseModelIdentifier",
    "CustomModelName",
    "JobName",
    "CustomizationType",
    "HyperParameters",
    "CustomModelKmsKeyArn",
    "TeacherModelIdentifier",
    "MaxResponseLengthForInference",
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
            }),
            _ => Err(errs),
        }
    }

    /// `RolePath` must lie within the path the handler's template grants
    /// (SPEC section 7): outside it every IAM write would be denied mid-way.
    pub fn check_role_path_within(&self, managed: &str) -> Result<(), ValidationErrors> {
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
    pub fn wants_endpoint(&self) -> bool {
        self.vpc.is_some() && self.s3_endpoint.create
    }

    /// Every KMS key the role may use for data (not the custom model key).
    pub fn data_kms_keys(&self) -> &[String] {
        &self.kms_key_arns
    }

    /// The custom model's key, when the job has one.
    pub fn custom_model_kms_key(&self) -> Option<&str> {
        self.job
            .as_ref()
            .and_then(|j| j.custom_model_kms_key_arn.as_deref())
    }
}
