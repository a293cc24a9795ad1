//! The model customization job and the custom model it produces. Jobs and
//! models are addressed by name: real job ARNs end in an id, not the name.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_bedrock::Client;
use aws_sdk_bedrock::error::ProvideErrorMetadata;
use aws_sdk_bedrock::operation::create_model_customization_job::CreateModelCustomizationJobError;
use aws_sdk_bedrock::types::{
    CustomizationConfig, CustomizationType as SdkCustomizationType, DistillationConfig,
    OutputDataConfig, Tag as BedrockTag, TeacherModelConfig, TrainingDataConfig,
    ValidationDataConfig, Validator, VpcConfig as SdkVpcConfig,
};
use tokio::time::Instant;
use tracing::{info, warn};

use super::{PartError, aws_error, stale_tag_keys};
use crate::model::{Distillation, OWNER_TAG_KEY};

#[derive(Debug, Clone)]
pub struct DesiredJob {
    pub physical_id: String,
    pub job_name: String,
    pub model_name: String,
    pub role_arn: String,
    pub base_model: String,
    pub customization_type: &'static str,
    pub hyper_parameters: BTreeMap<String, String>,
    pub training_uri: String,
    pub validation_uris: Vec<String>,
    pub output_uri: String,
    pub model_kms_key: Option<String>,
    pub distillation: Option<Distillation>,
    pub vpc: Option<(Vec<String>, Vec<String>)>,
    pub tags: Vec<(String, String)>,
    pub client_token: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnsuredJob {
    pub arn: String,
    pub created: bool,
}

/// How long, and how often, to retry IAM's eventual consistency: a role
/// that was just created cannot be assumed everywhere at once.
#[derive(Debug, Clone, Copy)]
pub struct AssumeRoleRetry {
    pub total: Duration,
    pub interval: Duration,
}

impl Default for AssumeRoleRetry {
    fn default() -> Self {
        AssumeRoleRetry {
            total: Duration::from_secs(120),
            interval: Duration::from_secs(5),
        }
    }
}

#[derive(Debug, Clone)]
struct FoundJob {
    arn: String,
    status: Option<String>,
}

async fn find_job(bedrock: &Client, name: &str) -> Result<Option<FoundJob>, PartError> {
    match bedrock
        .get_model_customization_job()
        .job_identifier(name)
        .send()
        .await
    {
        Ok(out) => Ok(Some(FoundJob {
            arn: out.job_arn().to_string(),
            status: out.status().map(|s| s.as_str().to_string()),
        })),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            Ok(None)
        }
        Err(e) => Err(aws_error("bedrock:GetModelCustomizationJob", e)),
    }
}

async fn find_model_arn(bedrock: &Client, name: &str) -> Result<Option<String>, PartError> {
    match bedrock
        .get_custom_model()
        .model_identifier(name)
        .send()
        .await
    {
        Ok(out) => Ok(Some(out.model_arn().to_string())),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            Ok(None)
        }
        Err(e) => Err(aws_error("bedrock:GetCustomModel", e)),
    }
}

async fn tags_of(bedrock: &Client, arn: &str) -> Result<Vec<(String, String)>, PartError> {
    let out = bedrock
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|e| aws_error("bedrock:ListTagsForResource", e))?;
    Ok(out
        .tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect())
}

fn owner_of(tags: &[(String, String)]) -> Option<&str> {
    tags.iter()
        .find(|(k, _)| k == OWNER_TAG_KEY)
        .map(|(_, v)| v.as_str())
}

fn bedrock_tags(tags: &[(String, String)]) -> Result<Vec<BedrockTag>, PartError> {
    tags.iter()
        .map(|(k, v)| {
            BedrockTag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| PartError::Aws {
                    operation: "bedrock:TagResource",
                    message: e.to_string(),
                    code: None,
                })
        })
        .collect()
}

/// Brings an existing resource's tags to the desired set.
async fn retag(
    bedrock: &Client,
    arn: &str,
    current: &[(String, String)],
    want: &[(String, String)],
) -> Result<(), PartError> {
    let mut have = current.to_vec();
    let mut wanted = want.to_vec();
    have.sort();
    wanted.sort();
    if have == wanted {
        return Ok(());
    }
    bedrock
        .tag_resource()
        .resource_arn(arn)
        .set_tags(Some(bedrock_tags(want)?))
        .send()
        .await
        .map_err(|e| aws_error("bedrock:TagResource", e))?;
    let stale = stale_tag_keys(current.iter().map(|(k, _)| k.as_str()), want);
    if !stale.is_empty() {
        bedrock
            .untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(stale))
            .send()
            .await
            .map_err(|e| aws_error("bedrock:UntagResource", e))?;
    }
    Ok(())
}

/// What exists under the job's and the model's names, with their tags.
#[derive(Debug, Clone, Default)]
pub struct JobObservation {
    job: Option<(FoundJob, Vec<(String, String)>)>,
    model: Option<(String, Vec<(String, String)>)>,
}

impl JobObservation {
    /// The job's ARN, when a job of ours exists under the name.
    pub fn our_job_arn(&self, physical_id: &str) -> Option<&str> {
        self.job
            .as_ref()
            .filter(|(_, tags)| owner_of(tags) == Some(physical_id))
            .map(|(found, _)| found.arn.as_str())
    }
}

/// Reads the job and the model by name. Changes nothing.
pub async fn observe(
    bedrock: &Client,
    job_name: &str,
    model_name: &str,
) -> Result<JobObservation, PartError> {
    let (job, model) = tokio::try_join!(
        find_job(bedrock, job_name),
        find_model_arn(bedrock, model_name)
    )?;
    let job_tags = async {
        match &job {
            Some(j) => tags_of(bedrock, &j.arn).await.map(Some),
            None => Ok(None),
        }
    };
    let model_tags = async {
        match &model {
            Some(arn) => tags_of(bedrock, arn).await.map(Some),
            None => Ok(None),
        }
    };
    let (job_tags, model_tags) = tokio::try_join!(job_tags, model_tags)?;
    Ok(JobObservation {
        job: job.zip(job_tags),
        model: model.zip(model_tags),
    })
}

/// Fails, naming it, when the job's or the model's name is taken by one
/// that is not ours.
pub fn check(obs: &JobObservation, want: &DesiredJob) -> Result<(), PartError> {
    match (&obs.job, &obs.model) {
        (Some((_, tags)), _) if owner_of(tags) != Some(want.physical_id.as_str()) => {
            Err(PartError::not_ours(
                format!("model customization job '{}'", want.job_name),
                owner_of(tags),
                "choose another Job.JobName or leave it unset",
            ))
        }
        // A model without our job: made by someone else's training.
        (None, Some((_, tags))) => Err(PartError::not_ours(
            format!("custom model '{}'", want.model_name),
            owner_of(tags),
            "choose another Job.CustomModelName or leave it unset",
        )),
        _ => Ok(()),
    }
}

/// Submits the job, or brings ours (already submitted: a repeated Create or
/// an in-place update) and its model to the desired tags.
pub async fn apply(
    bedrock: &Client,
    want: &DesiredJob,
    obs: JobObservation,
    retry: AssumeRoleRetry,
) -> Result<EnsuredJob, PartError> {
    if let Some((found, tags)) = obs.job {
        return adopt(bedrock, want, found, tags, obs.model).await;
    }
    let started = Instant::now();
    loop {
        match submit(bedrock, want).await {
            Ok(arn) => {
                info!(job = %want.job_name, "model customization job submitted");
                return Ok(EnsuredJob { arn, created: true });
            }
            Err(e) => {
                let svc = e.as_service_error();
                let cannot_assume = svc.is_some_and(|s| {
                    matches!(s, CreateModelCustomizationJobError::ValidationException(_))
                        && s.message()
                            .is_some_and(|m| m.to_ascii_lowercase().contains("assume"))
                });
                let exists = svc.is_some_and(|s| {
                    matches!(s, CreateModelCustomizationJobError::ConflictException(_))
                        || s.code() == Some("ResourceInUseException")
                });
                if exists {
                    // Another delivery of the same request got there first.
                    let now = observe(bedrock, &want.job_name, &want.model_name).await?;
                    check(&now, want)?;
                    if let Some((found, tags)) = now.job {
                        return adopt(bedrock, want, found, tags, now.model).await;
                    }
                }
                if cannot_assume && started.elapsed() + retry.interval < retry.total {
                    warn!(job = %want.job_name, "role not assumable yet (IAM propagation), retrying");
                    tokio::time::sleep(retry.interval).await;
                    continue;
                }
                return Err(aws_error("bedrock:CreateModelCustomizationJob", e));
            }
        }
    }
}

async fn adopt(
    bedrock: &Client,
    want: &DesiredJob,
    found: FoundJob,
    tags: Vec<(String, String)>,
    model: Option<(String, Vec<(String, String)>)>,
) -> Result<EnsuredJob, PartError> {
    let job = retag(bedrock, &found.arn, &tags, &want.tags);
    // The model exists only once training has produced it.
    let model = async {
        match &model {
            Some((arn, model_tags)) if owner_of(model_tags) == Some(want.physical_id.as_str()) => {
                retag(bedrock, arn, model_tags, &want.tags).await
            }
            _ => Ok(()),
        }
    };
    tokio::try_join!(job, model)?;
    Ok(EnsuredJob {
        arn: found.arn,
        created: false,
    })
}

async fn submit(
    bedrock: &Client,
    want: &DesiredJob,
) -> Result<String, aws_sdk_bedrock::error::SdkError<CreateModelCustomizationJobError>> {
    let build_err = |e: aws_sdk_bedrock::error::BuildError| {
        aws_sdk_bedrock::error::SdkError::construction_failure(e)
    };
    let tags = bedrock_tags(&want.tags)
        .map_err(|e| aws_sdk_bedrock::error::SdkError::construction_failure(e.to_string()))?;
    let mut req = bedrock
        .create_model_customization_job()
        .job_name(&want.job_name)
        .custom_model_name(&want.model_name)
        .role_arn(&want.role_arn)
        .client_request_token(&want.client_token)
        .base_model_identifier(&want.base_model)
        .customization_type(SdkCustomizationType::from(want.customization_type))
        .set_hyper_parameters(Some(want.hyper_parameters.clone().into_iter().collect()))
        .training_data_config(
            TrainingDataConfig::builder()
                .s3_uri(&want.training_uri)
                .build(),
        )
        .output_data_config(
            OutputDataConfig::builder()
                .s3_uri(&want.output_uri)
                .build()
                .map_err(build_err)?,
        )
        .set_job_tags(Some(tags.clone()))
        .set_custom_model_tags(Some(tags));
    if !want.validation_uris.is_empty() {
        let validators = want
            .validation_uris
            .iter()
            .map(|u| Validator::builder().s3_uri(u).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(build_err)?;
        req = req.validation_data_config(
            ValidationDataConfig::builder()
                .set_validators(Some(validators))
                .build()
                .map_err(build_err)?,
        );
    }
    if let Some(k) = &want.model_kms_key {
        req = req.custom_model_kms_key_id(k);
    }
    if let Some(d) = &want.distillation {
        let teacher = TeacherModelConfig::builder()
            .teacher_model_identifier(&d.teacher_model_identifier)
            .set_max_response_length_for_inference(d.max_response_length_for_inference)
            .build()
            .map_err(build_err)?;
        req = req.customization_config(CustomizationConfig::DistillationConfig(
            DistillationConfig::builder()
                .teacher_model_config(teacher)
                .build(),
        ));
    }
    if let Some((subnets, groups)) = &want.vpc {
        req = req.vpc_config(
            SdkVpcConfig::builder()
                .set_subnet_ids(Some(subnets.clone()))
                .set_security_group_ids(Some(groups.clone()))
                .build()
                .map_err(build_err)?,
        );
    }
    let out = req.send().await?;
    Ok(out.job_arn().to_string())
}

/// What a teardown did to the job and model.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobTeardown {
    pub stopped: bool,
    pub model_deleted: bool,
    /// A job or model under our name that is not ours, left alone.
    pub skipped_foreign: Vec<String>,
}

pub async fn teardown(
    bedrock: &Client,
    physical_id: &str,
    job_name: &str,
    model_name: &str,
    stop_job: bool,
    delete_model: bool,
) -> Result<JobTeardown, PartError> {
    let stop = async {
        let Some(job) = find_job(bedrock, job_name).await? else {
            return Ok(None);
        };
        let owner = owner_of(&tags_of(bedrock, &job.arn).await?).map(str::to_string);
        if owner.as_deref() != Some(physical_id) {
            return Ok(Some(false));
        }
        let running = job
            .status
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("InProgress"));
        if !(stop_job && running) {
            return Ok(None);
        }
        match bedrock
            .stop_model_customization_job()
            .job_identifier(job_name)
            .send()
            .await
        {
            Ok(_) => Ok(Some(true)),
            Err(e)
                if e.as_service_error().is_some_and(|s| {
                    s.is_resource_not_found_exception() || s.is_conflict_exception()
                }) =>
            {
                Ok(None)
            }
            Err(e) => Err(aws_error("bedrock:StopModelCustomizationJob", e)),
        }
    };
    // The model exists only once training has produced it; stopping the
    // job and deleting an earlier model do not wait for each other.
    let delete = async {
        if !delete_model {
            return Ok(None);
        }
        let Some(arn) = find_model_arn(bedrock, model_name).await? else {
            return Ok(None);
        };
        let owner = owner_of(&tags_of(bedrock, &arn).await?).map(str::to_string);
        if owner.as_deref() != Some(physical_id) {
            return Ok(Some(false));
        }
        match bedrock
            .delete_custom_model()
            .model_identifier(model_name)
            .send()
            .await
        {
            Ok(_) => Ok(Some(true)),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(aws_error("bedrock:DeleteCustomModel", e)),
        }
    };
    // Some(true): done; Some(false): not ours, left alone; None: nothing to do.
    let (stopped, deleted) = tokio::try_join!(stop, delete)?;
    let mut done = JobTeardown {
        stopped: stopped == Some(true),
        model_deleted: deleted == Some(true),
        ..JobTeardown::default()
    };
    if stopped == Some(false) {
        done.skipped_foreign.push(format!("job '{job_name}'"));
    }
    if deleted == Some(false) {
        done.skipped_foreign
            .push(format!("custom model '{model_name}'"));
    }
    Ok(done)
}
