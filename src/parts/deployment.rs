//! The trained model's deployment: an on-demand custom model deployment or
//! provisioned throughput, addressed by name (both APIs take a name where an
//! identifier goes) and tagged as ours like every other part. What to do is
//! decided in `model::deployment`; this module only asks and acts.

use std::time::Duration;

use aws_sdk_bedrock::Client;
use aws_sdk_bedrock::error::{ProvideErrorMetadata, SdkError};
use tokio::time::Instant;
use tracing::{info, warn};

use super::job::{bedrock_tags, tags_of};
use super::{PartError, Removal, aws_error, tag_scoped_removal, unless_not_found};
use crate::model::TagSet;
use crate::model::backoff::{self, Backoff};
use crate::model::deployment::{
    DeploymentKind, DeploymentSpec, DeploymentStatus, FoundDeployment, what,
};

/// How a wait on a deployment's state polls: Bedrock takes minutes to
/// create or remove one, so the steps grow to 10 s; Get is a control-plane
/// read, polled at most once a second.
const POLL: Backoff = Backoff {
    first: Duration::from_secs(1),
    ceiling: Duration::from_secs(10),
    min_spacing: Duration::from_secs(1),
};

/// The deployment under the spec's name, if there is one.
pub(crate) async fn find(
    bedrock: &Client,
    spec: &DeploymentSpec,
) -> Result<Option<FoundDeployment>, PartError> {
    let (arn, status) = match spec.kind {
        DeploymentKind::OnDemand => {
            let found = unless_not_found(
                "bedrock:GetCustomModelDeployment",
                bedrock
                    .get_custom_model_deployment()
                    .custom_model_deployment_identifier(&spec.name)
                    .send(),
                |e| e.is_resource_not_found_exception(),
            )
            .await?;
            let Some(out) = found else { return Ok(None) };
            (
                out.custom_model_deployment_arn().to_string(),
                DeploymentStatus::from_bedrock(out.status().as_str(), out.failure_message()),
            )
        }
        DeploymentKind::Provisioned { .. } => {
            let found = unless_not_found(
                "bedrock:GetProvisionedModelThroughput",
                bedrock
                    .get_provisioned_model_throughput()
                    .provisioned_model_id(&spec.name)
                    .send(),
                |e| e.is_resource_not_found_exception(),
            )
            .await?;
            let Some(out) = found else { return Ok(None) };
            (
                out.provisioned_model_arn().to_string(),
                DeploymentStatus::from_bedrock(out.status().as_str(), out.failure_message()),
            )
        }
    };
    let owner = tags_of(bedrock, &arn).await?.owner().map(str::to_string);
    Ok(Some(FoundDeployment { arn, status, owner }))
}

/// A deployment under the spec's name that another setup (or someone else)
/// owns is never adopted: the setup must choose another name.
pub(crate) fn check_owner(
    found: Option<&FoundDeployment>,
    spec: &DeploymentSpec,
    physical_id: &str,
) -> Result<(), PartError> {
    match found {
        Some(f) if f.owner.as_deref() != Some(physical_id) => Err(PartError::not_ours(
            format!("{} '{}'", what(spec.kind), spec.name),
            f.owner.as_deref(),
            "choose another Deployment.Name",
        )),
        _ => Ok(()),
    }
}

/// Creates the deployment of `model_arn`, tagged with `tags` (our owner tag
/// among them) in the same request, so that it is never ours untagged. The
/// token makes a repeat (another Lambda instance, a retried sweep) answer
/// with the first one's ARN.
pub(crate) async fn create(
    bedrock: &Client,
    spec: &DeploymentSpec,
    model_arn: &str,
    tags: &TagSet,
    token: &str,
) -> Result<String, PartError> {
    let arn = match spec.kind {
        DeploymentKind::OnDemand => {
            let tags = bedrock_tags(tags)
                .map_err(|e| PartError::unbuildable("bedrock:CreateCustomModelDeployment", e))?;
            bedrock
                .create_custom_model_deployment()
                .model_deployment_name(&spec.name)
                .model_arn(model_arn)
                .description("Made callable by Custom::BedrockCustomizationSetup")
                .set_tags(Some(tags))
                .client_request_token(token)
                .send()
                .await
                .map_err(|e| aws_error("bedrock:CreateCustomModelDeployment", e))?
                .custom_model_deployment_arn()
                .to_string()
        }
        DeploymentKind::Provisioned { model_units } => {
            let tags = bedrock_tags(tags).map_err(|e| {
                PartError::unbuildable("bedrock:CreateProvisionedModelThroughput", e)
            })?;
            // No commitment term: a committed throughput cannot be removed
            // before its term ends, so a stack delete could not remove it.
            bedrock
                .create_provisioned_model_throughput()
                .provisioned_model_name(&spec.name)
                .model_id(model_arn)
                .model_units(model_units)
                .set_tags(Some(tags))
                .client_request_token(token)
                .send()
                .await
                .map_err(|e| aws_error("bedrock:CreateProvisionedModelThroughput", e))?
                .provisioned_model_arn()
                .to_string()
        }
    };
    info!(deployment = %spec.name, kind = spec.kind.type_name(), "deployment requested");
    Ok(arn)
}

/// Asks Bedrock to delete ours; `false` when Bedrock refused because it is
/// busy (still being created): the caller waits and asks again.
async fn request_delete(bedrock: &Client, spec: &DeploymentSpec) -> Result<bool, PartError> {
    let still_there = async { Ok(find(bedrock, spec).await?.is_some()) };
    match spec.kind {
        DeploymentKind::OnDemand => {
            delete_ours(
                "bedrock:DeleteCustomModelDeployment",
                bedrock
                    .delete_custom_model_deployment()
                    .custom_model_deployment_identifier(&spec.name)
                    .send(),
                |e| e.is_resource_not_found_exception(),
                |e| e.is_conflict_exception(),
                still_there,
            )
            .await
        }
        DeploymentKind::Provisioned { .. } => {
            delete_ours(
                "bedrock:DeleteProvisionedModelThroughput",
                bedrock
                    .delete_provisioned_model_throughput()
                    .provisioned_model_id(&spec.name)
                    .send(),
                |e| e.is_resource_not_found_exception(),
                |e| e.is_conflict_exception(),
                still_there,
            )
            .await
        }
    }
}

/// A tag-scoped delete (`tag_scoped_removal`: a retry after a lost answer
/// is refused, and the resource's absence is the success), whose "busy"
/// answer is `false` rather than an error.
async fn delete_ours<T, E>(
    operation: &'static str,
    sent: impl Future<Output = Result<T, SdkError<E>>>,
    not_found: impl FnOnce(&E) -> bool,
    busy: impl FnOnce(&E) -> bool,
    still_there: impl Future<Output = Result<bool, PartError>>,
) -> Result<bool, PartError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let mut refused_busy = false;
    let sent = async {
        match sent.await {
            Err(e) if e.as_service_error().is_some_and(busy) => {
                refused_busy = true;
                Ok(None)
            }
            answered => answered.map(Some),
        }
    };
    Box::pin(tag_scoped_removal(operation, sent, not_found, still_there)).await?;
    Ok(!refused_busy)
}

/// Removes our deployment under the spec's name, never someone else's. One
/// still being created cannot be deleted yet: it is waited for, and with
/// `until_gone` so is its removal (the custom model cannot be deleted while
/// a deployment serves it), both within `until`.
pub(crate) async fn remove(
    bedrock: &Client,
    physical_id: &str,
    spec: &DeploymentSpec,
    until_gone: bool,
    until: Option<Instant>,
) -> Result<Removal, PartError> {
    let started = Instant::now();
    let give_up = until.unwrap_or(started + Duration::from_secs(600));
    let mut polls = 0u32;
    let mut asked = false;
    loop {
        let poll_started = Instant::now();
        let found = find(bedrock, spec).await?;
        match &found {
            None if asked => return Ok(Removal::Done),
            None => return Ok(Removal::NotFound),
            Some(f) if f.owner.as_deref() != Some(physical_id) => return Ok(Removal::NotOurs),
            Some(f) if f.status == DeploymentStatus::Creating && !asked => {}
            Some(_) if !asked => {
                asked = Box::pin(request_delete(bedrock, spec)).await?;
                if asked && !until_gone {
                    return Ok(Removal::Done);
                }
            }
            Some(_) => {}
        }
        polls += 1;
        let now = Instant::now();
        let wait = POLL.wait(
            polls,
            now - poll_started,
            give_up.saturating_duration_since(now),
            backoff::jitter(&spec.name, polls),
        );
        let Ok(wait) = wait else {
            return Err(still_busy(spec, asked, started.elapsed()));
        };
        warn!(deployment = %spec.name, asked, wait_ms = wait.as_millis(), "waiting for the deployment");
        tokio::time::sleep(wait).await;
    }
}

/// Why `remove` gave up: the deployment was still being created (so could
/// not be deleted yet) or still being deleted when its time ran out.
fn still_busy(spec: &DeploymentSpec, asked: bool, waited: Duration) -> PartError {
    let state = if asked {
        "is still being deleted"
    } else {
        "is still being created and cannot be deleted yet"
    };
    PartError::Aws {
        operation: match spec.kind {
            DeploymentKind::OnDemand => "bedrock:DeleteCustomModelDeployment",
            DeploymentKind::Provisioned { .. } => "bedrock:DeleteProvisionedModelThroughput",
        },
        message: format!(
            "{} {} {state} after {:.0} s, the time this request may take; delete the stack again once Bedrock has finished",
            what(spec.kind),
            spec.name,
            waited.as_secs_f64()
        ),
        code: None,
    }
}
