//! The resource's properties as CloudFormation delivers them (every scalar a
//! string), parsed into typed values and validated in one pass that reports
//! every problem at once.

use std::time::Duration;

use serde_json::Value;

use super::checks::role_path_within;
use super::customization::TrainingData;
use super::deployment::DeploymentSpec;
use super::deployment::{self, DeploymentConfig};
use super::error::{ValidationErrors, quote};
use super::identity::{
    StackIdentity, derived_job_name, derived_model_name, derived_role_name, hex_digest,
};
use super::job::JobConfig;
use super::network::{S3EndpointConfig, VpcConfig};
use super::reader::{Reader, json_kind};
use super::s3uri::S3Uri;
use super::sections;
use super::signal_url::SignalUrl;
use super::tags::Tag;

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

/// The names of one setup's parts: the user's where given, derived from the
/// physical id otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupNames {
    /// The setup's physical id.
    pub physical_id: String,
    /// The role's name.
    pub role_name: String,
    /// The job's name, with a Job.
    pub job_name: Option<String>,
    /// The custom model's name, with a Job.
    pub model_name: Option<String>,
    /// The deployment, named, with a Deployment.
    pub deployment: Option<DeploymentSpec>,
}

impl SetupNames {
    /// The job's and the custom model's names, with a Job.
    pub fn job(&self) -> Option<(&str, &str)> {
        self.job_name.as_deref().zip(self.model_name.as_deref())
    }
}

/// The properties accepted at the top level (each nested object lists its
/// own beside its type).
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
/// `ResourceProperties` read once: the setup they describe, and
/// CloudFormation's own `ServiceTimeout` (SPEC section 7), which bounds the
/// handler's work but changes nothing in AWS, so it is not part of
/// `SetupProperties` (an Update of only it changes nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceProperties {
    /// The setup, or every problem found (an invalid `ServiceTimeout` among them).
    pub setup: Result<SetupProperties, ValidationErrors>,
    /// `ServiceTimeout`, when given and valid.
    pub service_timeout: Option<Duration>,
}

impl ResourceProperties {
    /// Parses and validates `ResourceProperties`. Nothing here calls AWS; on
    /// error every problem found is returned.
    pub fn read(value: &Value, stack: &StackIdentity) -> Self {
        let mut errs = ValidationErrors::default();
        let Some(map) = value.as_object() else {
            errs.push(
                "ResourceProperties",
                format!("is {} rather than an object", json_kind(value)),
                "an object of the properties in the resource contract",
            );
            return ResourceProperties {
                setup: Err(errs),
                service_timeout: None,
            };
        };
        let mut r = Reader {
            map,
            path: String::new(),
            errs: &mut errs,
        };
        r.reject_unknown(TOP_LEVEL);
        let service_timeout = sections::cloudformation_own(&mut r);
        let setup = SetupProperties::from_reader(&mut r, stack);
        ResourceProperties {
            setup,
            service_timeout: service_timeout.map(|secs| Duration::from_secs(u64::from(secs))),
        }
    }
}

impl SetupProperties {
    /// Parses and validates `ResourceProperties`, for the setup alone (see
    /// `ResourceProperties::read`).
    pub fn parse(value: &Value, stack: &StackIdentity) -> Result<Self, ValidationErrors> {
        ResourceProperties::read(value, stack).setup
    }

    /// Everything but CloudFormation's own values, read with `r`.
    fn from_reader(r: &mut Reader, stack: &StackIdentity) -> Result<Self, ValidationErrors> {
        let (training, validation, output) = sections::data_locations(r);
        let (role_name, role_path, boundary) = sections::role(r, stack);
        let kms = sections::kms_keys(r, stack);
        let (vpc, s3_endpoint, restrict) = sections::network(r);
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
        let training = sections::training_source(r, training, job.as_ref());

        match (training, output) {
            (Some(training_data), Some(output_data)) if r.errs.is_empty() => Ok(SetupProperties {
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
            _ => Err(std::mem::take(r.errs)),
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

    /// `Job.CompletionSignalUrl`, when the job has one.
    pub fn completion_signal_url(&self) -> Option<&SignalUrl> {
        self.job
            .as_ref()
            .and_then(|j| j.completion_signal_url.as_ref())
    }

    /// Whether the completion path owes this setup something (a signal, a
    /// deployment), so that it keeps a pending record.
    pub(crate) fn owes_completion(&self) -> bool {
        self.job.is_some() && (self.completion_signal_url().is_some() || self.deployment.is_some())
    }

    /// The custom model's key, when the job has one.
    pub fn custom_model_kms_key(&self) -> Option<&str> {
        self.job
            .as_ref()
            .and_then(|j| j.custom_model_kms_key_arn.as_deref())
    }

    /// The names of the setup's parts under `physical_id`.
    pub fn names(&self, physical_id: &str) -> SetupNames {
        SetupNames {
            physical_id: physical_id.to_string(),
            role_name: self
                .role_name
                .clone()
                .unwrap_or_else(|| derived_role_name(physical_id)),
            job_name: self.job.as_ref().map(|j| {
                j.job_name
                    .clone()
                    .unwrap_or_else(|| derived_job_name(physical_id))
            }),
            model_name: self.job.as_ref().map(|j| {
                j.custom_model_name
                    .clone()
                    .unwrap_or_else(|| derived_model_name(physical_id))
            }),
            deployment: self.deployment.as_ref().map(|d| d.spec(physical_id)),
        }
    }

    /// A digest of everything a submitted job depends on (SPEC §4): two
    /// property sets with the same fingerprint can share one setup; a
    /// different fingerprint means a replacement.
    pub fn replacement_fingerprint(&self) -> String {
        let mut canon = Vec::new();
        // A setup without the section-8 inputs keeps the fingerprint it
        // always had: each adds lines only when given.
        match &self.training_data {
            TrainingData::Uri(uri) => canon.push(format!("training={uri}")),
            TrainingData::InvocationLogs(logs) => {
                canon.push(format!("invocation_logs={}", logs.source));
                canon.push(format!("use_prompt_response={}", logs.use_prompt_response));
                canon.push(format!("metadata_filters={:?}", logs.filters));
            }
        }
        for v in &self.validation_data {
            canon.push(format!("validation={v}"));
        }
        canon.push(format!("output={}", self.output_data));
        if let Some(vpc) = &self.vpc {
            canon.push(format!("subnets={}", vpc.subnet_ids.join(",")));
            canon.push(format!("groups={}", vpc.security_group_ids.join(",")));
        }
        canon.push(format!("role_name={:?}", self.role_name));
        canon.push(format!("role_path={}", self.role_path));
        if let Some(j) = &self.job {
            canon.push(format!("base={}", j.base_model_identifier));
            canon.push(format!("model_name={:?}", j.custom_model_name));
            canon.push(format!("job_name={:?}", j.job_name));
            canon.push(format!("type={}", j.customization_type.as_str()));
            for (k, v) in &j.hyper_parameters {
                canon.push(format!("hp:{k}={v}"));
            }
            canon.push(format!("model_key={:?}", j.custom_model_kms_key_arn));
            if let Some(rft) = &j.reinforcement {
                canon.push(format!("grader={}", rft.grader_lambda_arn));
                canon.push(format!("rft_hp={:?}", rft.hyper_parameters));
            }
            if let Some(d) = &j.distillation {
                canon.push(format!("teacher={}", d.teacher_model_identifier));
                canon.push(format!(
                    "teacher_max_length={:?}",
                    d.max_response_length_for_inference
                ));
            }
        }
        hex_digest(&[canon.join("\n").as_str()], 16)
    }

    /// Which in-place properties differ (for the answer's Reason and logs).
    pub(crate) fn in_place_changes(&self, old: &SetupProperties) -> Vec<&'static str> {
        let mut changed = Vec::new();
        let mut tags_new = self.tags.clone();
        let mut tags_old = old.tags.clone();
        tags_new.sort();
        tags_old.sort();
        if tags_new != tags_old {
            changed.push("Tags");
        }
        if self.kms_key_arns != old.kms_key_arns {
            changed.push("KmsKeyArns");
        }
        if self.restrict_output_bucket_to_vpc != old.restrict_output_bucket_to_vpc {
            changed.push("RestrictOutputBucketToVpc");
        }
        if self.permissions_boundary_arn != old.permissions_boundary_arn {
            changed.push("PermissionsBoundaryArn");
        }
        if self.s3_endpoint != old.s3_endpoint {
            changed.push("S3Endpoint");
        }
        let flags = |p: &SetupProperties| {
            p.job
                .as_ref()
                .map(|j| (j.stop_job_on_delete, j.delete_custom_model_on_delete))
        };
        if flags(self) != flags(old) {
            changed.push("Job.StopJobOnDelete/DeleteCustomModelOnDelete");
        }
        if self.completion_signal_url() != old.completion_signal_url() {
            changed.push("Job.CompletionSignalUrl");
        }
        if self.deployment != old.deployment {
            changed.push("Deployment");
        }
        changed
    }
}
