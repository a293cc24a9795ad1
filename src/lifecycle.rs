//! The orchestrator: runs what `plan::decide` chose against the parts and
//! turns the result into the answer for CloudFormation.

use std::collections::BTreeMap;

use tracing::{info, warn};

use crate::cfn::{Outcome, Request};
use crate::model::identity::{bucket_statement_sid, job_client_token};
use crate::model::{SetupProperties, StackIdentity};
use crate::parts::endpoint::{DesiredEndpoint, EnsuredEndpoint};
use crate::parts::job::{AssumeRoleRetry, DesiredJob};
use crate::parts::role::DesiredRole;
use crate::parts::{Clients, PartError, bucket_policy, endpoint, job, network, owned_tags, role};
use crate::plan::{Decision, Ensure, EnsureKind, EventFacts, RequestKind, decide};
use crate::policy::{self, bucket::output_bucket_statement};

#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub assume_role_retry: AssumeRoleRetry,
}

/// Runs one request to its outcome. Never panics on AWS or input errors;
/// every path ends in an `Outcome` to send.
pub async fn run(clients: &Clients, settings: &Settings, req: &Request) -> Outcome {
    let current_id = req.physical_resource_id.clone().unwrap_or_default();
    let stack = match StackIdentity::from_stack_id(&req.stack_id) {
        Ok(s) => s,
        Err(reason) => {
            return match req.kind {
                // Nothing can have been made for a stack we cannot read.
                RequestKind::Delete => Outcome::success(current_id, reason),
                _ => Outcome::failed(current_id, reason),
            };
        }
    };
    let deployed = match req.kind {
        RequestKind::Update => deployed_fingerprint(clients, &stack, req).await,
        _ => None,
    };
    let facts = EventFacts {
        kind: req.kind,
        stack: &stack,
        logical_id: &req.logical_resource_id,
        request_id: &req.request_id,
        physical_id: req.physical_resource_id.as_deref(),
        properties: &req.properties,
        old_properties: req.old_properties.as_ref(),
        deployed_fingerprint: deployed.as_deref(),
    };
    match decide(&facts) {
        Decision::Nothing { physical_id, why } => Outcome::success(physical_id, why),
        Decision::Refuse {
            physical_id,
            reason,
        } => Outcome::failed(physical_id, reason),
        Decision::Teardown { physical_id, props } => {
            match teardown(clients, &physical_id, &props, false).await {
                Ok(summary) => Outcome::success(physical_id, summary),
                Err(e) => Outcome::failed(physical_id, format!("Delete failed: {e}")),
            }
        }
        Decision::Ensure(plan) => run_ensure(clients, settings, &stack, req, &plan).await,
    }
}

/// The replacement fingerprint on the deployed role, read before deciding
/// an Update (see `plan::EventFacts::deployed_fingerprint`).
async fn deployed_fingerprint(
    clients: &Clients,
    stack: &StackIdentity,
    req: &Request,
) -> Option<String> {
    let pid = req.physical_resource_id.as_deref()?;
    let props = SetupProperties::parse(&req.properties, stack).ok()?;
    let name = props.names(pid).role_name;
    match role::deployed_fingerprint(&clients.iam, &name, pid).await {
        Ok(f) => f,
        Err(e) => {
            warn!(error = %e, "could not read the deployed fingerprint; deciding from the old properties");
            None
        }
    }
}

async fn run_ensure(
    clients: &Clients,
    settings: &Settings,
    stack: &StackIdentity,
    req: &Request,
    plan: &Ensure,
) -> Outcome {
    let pid = &plan.physical_id;
    match ensure(clients, settings, stack, req, plan).await {
        Ok(data) => {
            let reason = match &plan.how {
                EnsureKind::Create => format!("setup {pid} created"),
                EnsureKind::InPlace { changed } if changed.is_empty() => {
                    format!("setup {pid} is up to date")
                }
                EnsureKind::InPlace { changed } => {
                    format!("setup {pid} updated in place ({})", changed.join(", "))
                }
                EnsureKind::Replace {
                    old_physical_id, ..
                } => {
                    format!(
                        "setup {pid} replaces {old_physical_id}, which CloudFormation deletes next"
                    )
                }
            };
            let mut outcome = Outcome::success(pid.clone(), reason);
            outcome.data = data;
            outcome
        }
        Err(err) => {
            warn!(error = %err, "ensure failed");
            if !plan.is_new_setup() {
                // The setup existed before; CloudFormation's rollback Update
                // brings it back to the old properties.
                return Outcome::failed(pid.clone(), err.to_string());
            }
            let cleanup = undo_new_setup(clients, stack, req, plan).await;
            let answer_id = match &plan.how {
                // A failed Update keeps the physical id it had.
                EnsureKind::Replace {
                    old_physical_id, ..
                } => old_physical_id.clone(),
                _ => pid.clone(),
            };
            Outcome::failed(answer_id, format!("{err}; {cleanup}"))
        }
    }
}

/// Removes what a failed Create or replacement made, handing a taken-over
/// endpoint back to the setup it came from.
async fn undo_new_setup(
    clients: &Clients,
    stack: &StackIdentity,
    req: &Request,
    plan: &Ensure,
) -> String {
    let pid = &plan.physical_id;
    if let EnsureKind::Replace {
        old_physical_id,
        old_props: Some(old),
    } = &plan.how
        && let Err(e) = hand_back_endpoint(clients, stack, req, old_physical_id, old, pid).await
    {
        warn!(error = %e, "could not hand the endpoint back");
    }
    match teardown(clients, pid, &plan.props, true).await {
        Ok(_) => "what this request made was removed again".to_string(),
        Err(e) => format!(
            "removing what this request made also failed ({e}); CloudFormation's rollback Delete retries it"
        ),
    }
}

async fn hand_back_endpoint(
    clients: &Clients,
    stack: &StackIdentity,
    req: &Request,
    old_pid: &str,
    old: &SetupProperties,
    new_pid: &str,
) -> Result<(), PartError> {
    if endpoint::find_ours(&clients.ec2, new_pid).await?.is_empty() || !old.wants_endpoint() {
        return Ok(());
    }
    let Some(vpc) = &old.vpc else { return Ok(()) };
    let facts = network::lookup(&clients.ec2, vpc).await?;
    let want = desired_endpoint(stack, req, old_pid, old, &facts, Some(new_pid.to_string()));
    endpoint::ensure(&clients.ec2, &want).await.map(|_| ())
}

fn desired_endpoint(
    stack: &StackIdentity,
    req: &Request,
    pid: &str,
    props: &SetupProperties,
    facts: &network::VpcFacts,
    take_over_from: Option<String>,
) -> DesiredEndpoint {
    let route_table_ids = if props.s3_endpoint.route_table_ids.is_empty() {
        facts.subnet_route_tables.clone()
    } else {
        props.s3_endpoint.route_table_ids.clone()
    };
    DesiredEndpoint {
        physical_id: pid.to_string(),
        vpc_id: facts.vpc_id.clone(),
        service_name: stack.s3_service_name(),
        route_table_ids,
        policy: policy::endpoint::endpoint_policy(props, &stack.partition).to_string(),
        tags: owned_tags(&props.tags, pid),
        take_over_from,
        client_token: job_client_token(&format!("{pid}/{}", req.request_id)),
    }
}

/// What the network side made.
#[derive(Debug, Default)]
struct NetworkOutcome {
    vpc_id: Option<String>,
    endpoint: Option<EnsuredEndpoint>,
}

async fn ensure(
    clients: &Clients,
    settings: &Settings,
    stack: &StackIdentity,
    req: &Request,
    plan: &Ensure,
) -> Result<BTreeMap<String, String>, PartError> {
    let pid = plan.physical_id.as_str();
    let props = &*plan.props;
    let names = props.names(pid);
    let in_place = matches!(plan.how, EnsureKind::InPlace { .. });
    let take_over_from = match &plan.how {
        EnsureKind::Replace {
            old_physical_id, ..
        } => Some(old_physical_id.clone()),
        _ => None,
    };

    let want_role = DesiredRole {
        name: names.role_name.clone(),
        path: props.role_path.clone(),
        physical_id: pid.to_string(),
        trust_policy: policy::trust::trust_policy(stack).to_string(),
        permissions_boundary: props.permissions_boundary_arn.clone(),
        tags: DesiredRole::tags_with_fingerprint(
            &props.tags,
            pid,
            &props.replacement_fingerprint(),
        ),
        inline_policies: vec![
            (
                policy::S3_ACCESS_POLICY,
                Some(policy::s3_access::s3_access_policy(props, &stack.partition).to_string()),
            ),
            (
                policy::KMS_POLICY,
                policy::kms::kms_policy(props).map(|d| d.to_string()),
            ),
            (
                policy::VPC_POLICY,
                props
                    .vpc
                    .as_ref()
                    .map(|v| policy::vpc_access::vpc_access_policy(stack, v).to_string()),
            ),
        ],
    };
    let role_part = role::ensure(&clients.iam, &want_role);

    let sid = bucket_statement_sid(pid);
    let output_bucket = props.output_data.bucket.as_str();
    let network_part = async {
        let Some(vpc) = &props.vpc else {
            return Ok::<_, PartError>(NetworkOutcome::default());
        };
        let facts = network::lookup(&clients.ec2, vpc).await?;
        let endpoint_part = async {
            if props.wants_endpoint() {
                let want = desired_endpoint(stack, req, pid, props, &facts, take_over_from.clone());
                endpoint::ensure(&clients.ec2, &want).await.map(Some)
            } else {
                if in_place {
                    endpoint::teardown(&clients.ec2, pid).await?;
                }
                Ok(None)
            }
        };
        let bucket_part = async {
            if props.restrict_output_bucket_to_vpc {
                let statement =
                    output_bucket_statement(&sid, &stack.partition, output_bucket, &facts.vpc_id);
                bucket_policy::ensure_statement(&clients.s3, output_bucket, &statement).await
            } else if in_place {
                bucket_policy::remove_statement_by_sid(&clients.s3, output_bucket, &sid)
                    .await
                    .map(|_| ())
            } else {
                Ok(())
            }
        };
        let (endpoint, ()) = tokio::try_join!(endpoint_part, bucket_part)?;
        Ok(NetworkOutcome {
            vpc_id: Some(facts.vpc_id),
            endpoint,
        })
    };

    let (role, network) = tokio::try_join!(role_part, network_part)?;
    info!(role = %role.name, created = role.created, "role ready");

    let mut data = BTreeMap::new();
    data.insert("RoleArn".to_string(), role.arn.clone());
    data.insert("RoleName".to_string(), role.name.clone());
    if let Some(v) = network.vpc_id {
        data.insert("VpcId".to_string(), v);
    }
    if let Some(e) = network.endpoint {
        data.insert("S3EndpointId".to_string(), e.id);
    }
    if let (Some(j), Some(job_name), Some(model_name)) =
        (&props.job, names.job_name, names.model_name)
    {
        let want_job = DesiredJob {
            physical_id: pid.to_string(),
            job_name: job_name.clone(),
            model_name: model_name.clone(),
            role_arn: role.arn.clone(),
            base_model: j.base_model_identifier.clone(),
            customization_type: j.customization_type.as_str(),
            hyper_parameters: j.hyper_parameters.clone(),
            training_uri: props.training_data.to_string(),
            validation_uris: props
                .validation_data
                .iter()
                .map(ToString::to_string)
                .collect(),
            output_uri: props.output_data.to_string(),
            model_kms_key: j.custom_model_kms_key_arn.clone(),
            vpc: props
                .vpc
                .as_ref()
                .map(|v| (v.subnet_ids.clone(), v.security_group_ids.clone())),
            tags: owned_tags(&props.tags, pid),
            client_token: job_client_token(pid),
        };
        let submitted =
            job::ensure(&clients.bedrock, &want_job, settings.assume_role_retry).await?;
        data.insert("JobArn".to_string(), submitted.arn);
        data.insert("JobName".to_string(), job_name);
        data.insert("CustomModelName".to_string(), model_name);
    }
    Ok(data)
}

/// Removes every part carrying `pid`. `after_failure` is the undo of a
/// request that failed: the model is kept whatever the flags say, because
/// it is never made by a failed request.
async fn teardown(
    clients: &Clients,
    pid: &str,
    props: &SetupProperties,
    after_failure: bool,
) -> Result<String, PartError> {
    let names = props.names(pid);
    let mut notes = Vec::new();
    if let (Some(j), Some(job_name), Some(model_name)) =
        (&props.job, &names.job_name, &names.model_name)
    {
        let done = job::teardown(
            &clients.bedrock,
            pid,
            job_name,
            model_name,
            j.stop_job_on_delete || after_failure,
            j.delete_custom_model_on_delete && !after_failure,
        )
        .await?;
        if done.stopped {
            notes.push(format!("job {job_name} stopped"));
        }
        if done.model_deleted {
            notes.push(format!("custom model {model_name} deleted"));
        } else if !after_failure {
            notes.push(format!("custom model {model_name} kept"));
        }
        for f in done.skipped_foreign {
            notes.push(format!("{f} is not ours and was left alone"));
        }
    }
    let sid = bucket_statement_sid(pid);
    let bucket = props.output_data.bucket.as_str();
    let bucket_part = async {
        let r = bucket_policy::remove_statement_by_sid(&clients.s3, bucket, &sid).await;
        match r {
            Ok(true) => Ok(Some(format!(
                "statement removed from the policy of {bucket}"
            ))),
            Ok(false) => Ok(None),
            // Without the restriction there is nothing of ours to find, and
            // a bucket we cannot read must not block the Delete.
            Err(e) if !props.restrict_output_bucket_to_vpc => {
                warn!(error = %e, "could not check the output bucket policy");
                Ok(None)
            }
            Err(e) => Err(e),
        }
    };
    let endpoint_part = endpoint::teardown(&clients.ec2, pid);
    let role_part = role::teardown(&clients.iam, &names.role_name, pid);
    let (bucket_note, endpoints, role_removed) =
        tokio::try_join!(bucket_part, endpoint_part, role_part)?;
    notes.extend(bucket_note);
    if !endpoints.is_empty() {
        notes.push(format!("endpoint {} deleted", endpoints.join(", ")));
    }
    notes.push(match role_removed {
        role::Removed::Deleted => format!("role {} deleted", names.role_name),
        role::Removed::NotFound => format!("role {} was already gone", names.role_name),
        role::Removed::NotOurs => {
            format!("role {} is not ours and was left alone", names.role_name)
        }
    });
    Ok(format!("setup {pid} deleted: {}", notes.join("; ")))
}
