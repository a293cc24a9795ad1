//! The model customization job and the custom model it produces. Jobs and
//! models are addressed by name: real job ARNs end in an id, not the name.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_bedrock::Client;
use aws_sdk_bedrock::error::{BuildError, ProvideErrorMetadata, SdkError};
use aws_sdk_bedrock::operation::create_model_customization_job::CreateModelCustomizationJobError;
use aws_sdk_bedrock::operation::create_model_customization_job::builders::CreateModelCustomizationJobFluentBuilder;
use aws_sdk_bedrock::operation::get_model_customization_job::GetModelCustomizationJobOutput;
use aws_sdk_bedrock::types::{
    CustomizationConfig, CustomizationType as SdkCustomizationType, DistillationConfig,
    GraderConfig, InvocationLogSource, InvocationLogsConfig, LambdaGraderConfig, OutputDataConfig,
    ReasoningEffort as SdkReasoningEffort, RequestMetadataBaseFilters, RequestMetadataFilters,
    RftConfig, RftHyperParameters as SdkRftHyperParameters, Tag as BedrockTag, TeacherModelConfig,
    TrainingDataConfig, ValidationDataConfig, Validator, VpcConfig as SdkVpcConfig,
};
use tokio::time::Instant;
use tracing::{info, warn};

use super::{PartError, Removal, aws_error, tag_scoped_removal, unless_not_found};
use crate::completion::JobEnd;
use crate::model::backoff::{self, Backoff};
use crate::model::customization::{BaseMetadataFilter, MetadataFilters, RftHyperParameters};
use crate::model::{
    CustomizationType, Distillation, ReinforcementFineTuning, TagSet, TrainingData, VpcConfig,
};

/// The job as it will be submitted (the role it runs as is given to
/// `apply`, once the role exists).
#[derive(Debug, Clone)]
pub(crate) struct DesiredJob {
    pub physical_id: String,
    pub job_name: String,
    pub model_name: String,
    pub base_model: String,
    pub customization_type: CustomizationType,
    pub hyper_parameters: BTreeMap<String, String>,
    pub training: TrainingData,
    pub validation_uris: Vec<String>,
    pub output_uri: String,
    pub model_kms_key: Option<String>,
    pub distillation: Option<Distillation>,
    pub reinforcement: Option<ReinforcementFineTuning>,
    pub vpc: Option<VpcConfig>,
    pub tags: TagSet,
    pub client_token: String,
}

/// The job once submitted or adopted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EnsuredJob {
    pub arn: String,
}

/// How to wait for IAM's eventual consistency: a role that was just created
/// (or changed) cannot be assumed by Bedrock everywhere at once.
#[derive(Debug, Clone, Copy)]
pub struct AssumeRoleRetry {
    /// How long to keep retrying at most: a role not assumable after this
    /// is taken as broken (its trust policy), not as slow to propagate.
    pub total: Duration,
    /// The waits between attempts (src/model/backoff.rs).
    pub backoff: Backoff,
    /// When the waiting must end: the request's working budget (Lambda's
    /// deadline or the resource's ServiceTimeout) less what the failure path
    /// needs, set by the handler per request. No attempt is started that
    /// could not be answered before it.
    pub until: Option<Instant>,
}

/// Bedrock's request-rate quota for CreateModelCustomizationJob is not in
/// the documentation this project could consult (the user guide's quota
/// pages list inference quotas; the General Reference table was not
/// available offline): the handler assumes at most two requests per second
/// of its own and keeps to it (an assumption, to be checked against the
/// account's Service Quotas). At the slowest propagation in the bench's
/// model (15 s) that is about 17 attempts (README, Performance).
const SUBMISSIONS_MIN_SPACING: Duration = Duration::from_millis(500);

impl Default for AssumeRoleRetry {
    fn default() -> Self {
        AssumeRoleRetry {
            total: Duration::from_secs(120),
            // Most roles propagate within seconds: short first waits, then
            // steps of at most a second, so a role that became assumable
            // just after an attempt is used within about a second.
            backoff: Backoff {
                first: Duration::from_millis(250),
                ceiling: Duration::from_secs(1),
                min_spacing: SUBMISSIONS_MIN_SPACING,
            },
            until: None,
        }
    }
}

#[derive(Debug, Clone)]
struct FoundJob {
    arn: String,
    status: Option<String>,
}

/// The job under `name` as Bedrock describes it, if there is one.
async fn get_job(
    bedrock: &Client,
    name: &str,
) -> Result<Option<GetModelCustomizationJobOutput>, PartError> {
    unless_not_found(
        "bedrock:GetModelCustomizationJob",
        bedrock
            .get_model_customization_job()
            .job_identifier(name)
            .send(),
        |e| e.is_resource_not_found_exception(),
    )
    .await
}

async fn find_job(bedrock: &Client, name: &str) -> Result<Option<FoundJob>, PartError> {
    let found = get_job(bedrock, name).await?;
    Ok(found.map(|out| FoundJob {
        arn: out.job_arn().to_string(),
        status: out.status().map(|s| s.as_str().to_string()),
    }))
}

async fn find_model_arn(bedrock: &Client, name: &str) -> Result<Option<String>, PartError> {
    let found = unless_not_found(
        "bedrock:GetCustomModel",
        bedrock.get_custom_model().model_identifier(name).send(),
        |e| e.is_resource_not_found_exception(),
    )
    .await?;
    Ok(found.map(|out| out.model_arn().to_string()))
}

pub(crate) async fn tags_of(bedrock: &Client, arn: &str) -> Result<TagSet, PartError> {
    let out = bedrock
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|e| aws_error("bedrock:ListTagsForResource", e))?;
    Ok(TagSet::from_pairs(
        out.tags().iter().map(|t| (t.key(), t.value())),
    ))
}

pub(crate) fn bedrock_tags(tags: &TagSet) -> Result<Vec<BedrockTag>, BuildError> {
    tags.iter()
        .map(|(k, v)| BedrockTag::builder().key(k).value(v).build())
        .collect()
}

/// Brings an existing resource's tags to the desired set.
async fn retag(
    bedrock: &Client,
    arn: &str,
    current: &TagSet,
    want: &TagSet,
) -> Result<(), PartError> {
    if current == want {
        return Ok(());
    }
    bedrock
        .tag_resource()
        .resource_arn(arn)
        .set_tags(Some(
            bedrock_tags(want).map_err(|e| PartError::unbuildable("bedrock:TagResource", e))?,
        ))
        .send()
        .await
        .map_err(|e| aws_error("bedrock:TagResource", e))?;
    let stale = want.stale_keys(current.iter().map(|(k, _)| k));
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

/// A job as Bedrock reports it now: its owner, and how it ended if it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JobState {
    /// The setup that owns it, by our owner tag.
    pub(crate) owner: Option<String>,
    /// `None` while it runs (InProgress, Stopping).
    pub(crate) end: Option<JobEnd>,
}

/// The job's owner and end, read from Bedrock (the truth behind any event).
pub(crate) async fn state(bedrock: &Client, job_name: &str) -> Result<Option<JobState>, PartError> {
    let Some(job) = get_job(bedrock, job_name).await? else {
        return Ok(None);
    };
    let tags = tags_of(bedrock, job.job_arn()).await?;
    let message = || job.failure_message().unwrap_or_default().to_string();
    let status = job.status().map(|s| s.as_str()).unwrap_or_default();
    let end = if status.eq_ignore_ascii_case("Completed") {
        Some(JobEnd::Completed {
            model_arn: job.output_model_arn().unwrap_or_default().to_string(),
        })
    } else if status.eq_ignore_ascii_case("Failed") {
        Some(JobEnd::Failed { message: message() })
    } else if status.eq_ignore_ascii_case("Stopped") {
        Some(JobEnd::Stopped { message: message() })
    } else {
        None
    };
    Ok(Some(JobState {
        owner: tags.owner().map(str::to_string),
        end,
    }))
}

/// What exists under the job's and the model's names, with their tags.
#[derive(Debug, Clone, Default)]
pub(crate) struct JobObservation {
    job: Option<(FoundJob, TagSet)>,
    model: Option<(String, TagSet)>,
}

impl JobObservation {
    /// The job's ARN, when a job of ours exists under the name.
    pub(crate) fn our_job_arn(&self, physical_id: &str) -> Option<&str> {
        self.job
            .as_ref()
            .filter(|(_, tags)| tags.owner() == Some(physical_id))
            .map(|(found, _)| found.arn.as_str())
    }
}

/// Reads the job and the model by name. Changes nothing.
pub(crate) async fn observe(
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
pub(crate) fn check(obs: &JobObservation, want: &DesiredJob) -> Result<(), PartError> {
    match (&obs.job, &obs.model) {
        (Some((_, tags)), _) if tags.owner() != Some(want.physical_id.as_str()) => {
            Err(PartError::not_ours(
                format!("model customization job '{}'", want.job_name),
                tags.owner(),
                "choose another Job.JobName or leave it unset",
            ))
        }
        // A model without our job: made by someone else's training.
        (None, Some((_, tags))) => Err(PartError::not_ours(
            format!("custom model '{}'", want.model_name),
            tags.owner(),
            "choose another Job.CustomModelName or leave it unset",
        )),
        _ => Ok(()),
    }
}

/// Submits the job to run as `role_arn`, or brings ours (already
/// submitted: a repeated Create or an in-place update) and its model to the
/// desired tags.
pub(crate) async fn apply(
    bedrock: &Client,
    want: &DesiredJob,
    role_arn: &str,
    obs: JobObservation,
    retry: AssumeRoleRetry,
) -> Result<EnsuredJob, PartError> {
    if let Some((found, tags)) = obs.job {
        return adopt(bedrock, want, found, &tags, obs.model).await;
    }
    let started = Instant::now();
    let longest = started + retry.total;
    let give_up = retry.until.map_or(longest, |budget| budget.min(longest));
    let mut attempts = 0u32;
    loop {
        let attempt_started = Instant::now();
        attempts += 1;
        let e = match submit(bedrock, want, role_arn).await {
            Ok(arn) => {
                info!(job = %want.job_name, attempts, "model customization job submitted");
                return Ok(EnsuredJob { arn });
            }
            Err(e) => e,
        };
        if already_submitted(&e) {
            // Another delivery of the same request got there first.
            let now = observe(bedrock, &want.job_name, &want.model_name).await?;
            check(&now, want)?;
            if let Some((found, tags)) = now.job {
                return adopt(bedrock, want, found, &tags, now.model).await;
            }
        }
        if role_not_assumable_yet(&e) {
            let now = Instant::now();
            let wait = retry.backoff.wait(
                attempts,
                now - attempt_started,
                give_up.saturating_duration_since(now),
                backoff::jitter(&want.job_name, attempts),
            );
            if let Ok(wait) = wait {
                warn!(job = %want.job_name, attempts, wait_ms = wait.as_millis(), "role not assumable yet (IAM propagation), retrying");
                tokio::time::sleep(wait).await;
                continue;
            }
            return Err(
                aws_error("bedrock:CreateModelCustomizationJob", e).explained(&format!(
                    "Bedrock could not assume the new service role in {attempts} attempts over \
                     {:.1} s: IAM had not propagated it within the time this request may take",
                    started.elapsed().as_secs_f64()
                )),
            );
        }
        return Err(aws_error("bedrock:CreateModelCustomizationJob", e));
    }
}

/// Bedrock's answer while IAM has not yet propagated a new role: a
/// ValidationException whose message says it could not assume the role.
/// Bedrock gives this case no code of its own, so the message is the only
/// thing to read.
fn role_not_assumable_yet(e: &SdkError<CreateModelCustomizationJobError>) -> bool {
    e.as_service_error().is_some_and(|s| {
        matches!(s, CreateModelCustomizationJobError::ValidationException(_))
            && s.message()
                .is_some_and(|m| m.to_ascii_lowercase().contains("assume"))
    })
}

fn already_submitted(e: &SdkError<CreateModelCustomizationJobError>) -> bool {
    e.as_service_error().is_some_and(|s| {
        matches!(s, CreateModelCustomizationJobError::ConflictException(_))
            || s.code() == Some("ResourceInUseException")
    })
}

async fn adopt(
    bedrock: &Client,
    want: &DesiredJob,
    found: FoundJob,
    tags: &TagSet,
    model: Option<(String, TagSet)>,
) -> Result<EnsuredJob, PartError> {
    let job = retag(bedrock, &found.arn, tags, &want.tags);
    // The model exists only once training has produced it.
    let model = async {
        match &model {
            Some((arn, model_tags)) if model_tags.owner() == Some(want.physical_id.as_str()) => {
                retag(bedrock, arn, model_tags, &want.tags).await
            }
            _ => Ok(()),
        }
    };
    tokio::try_join!(job, model)?;
    Ok(EnsuredJob { arn: found.arn })
}

async fn submit(
    bedrock: &Client,
    want: &DesiredJob,
    role_arn: &str,
) -> Result<String, SdkError<CreateModelCustomizationJobError>> {
    let built = |e: BuildError| SdkError::construction_failure(e);
    let tags = bedrock_tags(&want.tags).map_err(built)?;
    let req = bedrock
        .create_model_customization_job()
        .job_name(&want.job_name)
        .custom_model_name(&want.model_name)
        .role_arn(role_arn)
        .client_request_token(&want.client_token)
        .base_model_identifier(&want.base_model)
        .customization_type(SdkCustomizationType::from(want.customization_type.as_str()))
        .training_data_config(training_data_config(&want.training))
        .output_data_config(
            OutputDataConfig::builder()
                .s3_uri(&want.output_uri)
                .build()
                .map_err(built)?,
        )
        .set_job_tags(Some(tags.clone()))
        .set_custom_model_tags(Some(tags));
    let req = with_options(req, want).map_err(built)?;
    let out = req.send().await?;
    Ok(out.job_arn().to_string())
}

/// The request's optional parts: validation data, the model key, the
/// distillation teacher and the VPC.
fn with_options(
    mut req: CreateModelCustomizationJobFluentBuilder,
    want: &DesiredJob,
) -> Result<CreateModelCustomizationJobFluentBuilder, BuildError> {
    // Reinforcement fine-tuning takes its hyperparameters typed, in its
    // rftConfig; every other type takes the string map (empty or not, as
    // it always was sent).
    match &want.reinforcement {
        Some(rft) => {
            req = req.customization_config(CustomizationConfig::RftConfig(rft_config(rft)?));
        }
        None => {
            req =
                req.set_hyper_parameters(Some(want.hyper_parameters.clone().into_iter().collect()));
        }
    }
    if !want.validation_uris.is_empty() {
        let validators = want
            .validation_uris
            .iter()
            .map(|u| Validator::builder().s3_uri(u).build())
            .collect::<Result<Vec<_>, _>>()?;
        req = req.validation_data_config(
            ValidationDataConfig::builder()
                .set_validators(Some(validators))
                .build()?,
        );
    }
    if let Some(k) = &want.model_kms_key {
        req = req.custom_model_kms_key_id(k);
    }
    if let Some(d) = &want.distillation {
        let teacher = TeacherModelConfig::builder()
            .teacher_model_identifier(&d.teacher_model_identifier)
            .set_max_response_length_for_inference(d.max_response_length_for_inference)
            .build()?;
        req = req.customization_config(CustomizationConfig::DistillationConfig(
            DistillationConfig::builder()
                .teacher_model_config(teacher)
                .build(),
        ));
    }
    if let Some(v) = &want.vpc {
        req = req.vpc_config(
            SdkVpcConfig::builder()
                .set_subnet_ids(Some(v.subnet_ids.clone()))
                .set_security_group_ids(Some(v.security_group_ids.clone()))
                .build()?,
        );
    }
    Ok(req)
}

/// `trainingDataConfig`: the S3 location, or the invocation logs with their
/// filters.
fn training_data_config(training: &TrainingData) -> TrainingDataConfig {
    match training {
        TrainingData::Uri(uri) => TrainingDataConfig::builder()
            .s3_uri(uri.to_string())
            .build(),
        TrainingData::InvocationLogs(logs) => {
            let config = InvocationLogsConfig::builder()
                .use_prompt_response(logs.use_prompt_response)
                .invocation_log_source(InvocationLogSource::S3Uri(logs.source.to_string()))
                .set_request_metadata_filters(logs.filters.as_ref().map(metadata_filters))
                .build();
            TrainingDataConfig::builder()
                .invocation_logs_config(config)
                .build()
        }
    }
}

fn metadata_filters(filters: &MetadataFilters) -> RequestMetadataFilters {
    let map = |m: &std::collections::BTreeMap<String, String>| m.clone().into_iter().collect();
    let base = |items: &[BaseMetadataFilter]| {
        items
            .iter()
            .map(|f| {
                RequestMetadataBaseFilters::builder()
                    .set_equals(f.equals.as_ref().map(map))
                    .set_not_equals(f.not_equals.as_ref().map(map))
                    .build()
            })
            .collect()
    };
    match filters {
        MetadataFilters::Equals(m) => RequestMetadataFilters::Equals(map(m)),
        MetadataFilters::NotEquals(m) => RequestMetadataFilters::NotEquals(map(m)),
        MetadataFilters::AndAll(items) => RequestMetadataFilters::AndAll(base(items)),
        MetadataFilters::OrAll(items) => RequestMetadataFilters::OrAll(base(items)),
    }
}

/// `customizationConfig.rftConfig`: the grader and the typed hyperparameters.
fn rft_config(rft: &ReinforcementFineTuning) -> Result<RftConfig, BuildError> {
    let grader = LambdaGraderConfig::builder()
        .lambda_arn(&rft.grader_lambda_arn)
        .build()?;
    let hp: &RftHyperParameters = &rft.hyper_parameters;
    let typed = SdkRftHyperParameters::builder()
        .set_epoch_count(hp.epoch_count)
        .set_batch_size(hp.batch_size)
        .set_learning_rate(hp.learning_rate.map(|l| l.0))
        .set_max_prompt_length(hp.max_prompt_length)
        .set_training_sample_per_prompt(hp.training_sample_per_prompt)
        .set_inference_max_tokens(hp.inference_max_tokens)
        .set_reasoning_effort(
            hp.reasoning_effort
                .map(|e| SdkReasoningEffort::from(e.as_str())),
        )
        .set_eval_interval(hp.eval_interval)
        .build();
    let given = *hp != RftHyperParameters::default();
    Ok(RftConfig::builder()
        .grader_config(GraderConfig::LambdaGrader(grader))
        .set_hyper_parameters(given.then_some(typed))
        .build())
}

/// What a teardown did to the job and to the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct JobTeardown {
    /// `Done`: stopped; `Kept`: finished already, or left running.
    pub job: Removal,
    /// `Done`: deleted; `Kept`: the flags keep it.
    pub model: Removal,
}

/// Stops our job if it runs and `stop_job`, and deletes our model if
/// `delete_model`; what is not ours is left alone.
pub(crate) async fn teardown(
    bedrock: &Client,
    physical_id: &str,
    (job_name, model_name): (&str, &str),
    stop_job: bool,
    delete_model: bool,
) -> Result<JobTeardown, PartError> {
    // The model exists only once training has produced it; stopping the
    // job and deleting an earlier model do not wait for each other.
    let (job, model) = tokio::try_join!(
        stop(bedrock, physical_id, job_name, stop_job),
        delete(bedrock, physical_id, model_name, delete_model)
    )?;
    Ok(JobTeardown { job, model })
}

async fn stop(
    bedrock: &Client,
    physical_id: &str,
    job_name: &str,
    stop_job: bool,
) -> Result<Removal, PartError> {
    let Some(job) = find_job(bedrock, job_name).await? else {
        return Ok(Removal::NotFound);
    };
    if tags_of(bedrock, &job.arn).await?.owner() != Some(physical_id) {
        return Ok(Removal::NotOurs);
    }
    let running = job
        .status
        .as_deref()
        .is_some_and(|s| s.eq_ignore_ascii_case("InProgress"));
    if !(stop_job && running) {
        return Ok(Removal::Kept);
    }
    // A job that ended meanwhile is not an error.
    let stopped = unless_not_found(
        "bedrock:StopModelCustomizationJob",
        bedrock
            .stop_model_customization_job()
            .job_identifier(job_name)
            .send(),
        |e| e.is_resource_not_found_exception() || e.is_conflict_exception(),
    )
    .await?;
    Ok(if stopped.is_some() {
        Removal::Done
    } else {
        Removal::Kept
    })
}

async fn delete(
    bedrock: &Client,
    physical_id: &str,
    model_name: &str,
    delete_model: bool,
) -> Result<Removal, PartError> {
    if !delete_model {
        return Ok(Removal::Kept);
    }
    let Some(arn) = find_model_arn(bedrock, model_name).await? else {
        return Ok(Removal::NotFound);
    };
    if tags_of(bedrock, &arn).await?.owner() != Some(physical_id) {
        return Ok(Removal::NotOurs);
    }
    tag_scoped_removal(
        "bedrock:DeleteCustomModel",
        bedrock
            .delete_custom_model()
            .model_identifier(model_name)
            .send(),
        |e| e.is_resource_not_found_exception(),
        async { Ok(find_model_arn(bedrock, model_name).await?.is_some()) },
    )
    .await
}
