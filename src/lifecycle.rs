//! The orchestrator: runs what `plan::decide` chose against the parts and
//! turns the result into the answer for CloudFormation.

use std::collections::BTreeMap;

use aws_sdk_iam::types::Role;
use tracing::{info, warn};

use crate::cfn::{Outcome, Request};
use crate::model::identity::{bucket_statement_sid, client_token};
use crate::model::{SetupProperties, StackIdentity};
use crate::parts::endpoint::DesiredEndpoint;
use crate::parts::job::{AssumeRoleRetry, DesiredJob};
use crate::parts::role::DesiredRole;
use crate::parts::{
    Clients, PartError, bucket_policy, endpoint, job, network, owned_tags, preflight, role,
};
use crate::plan::{Decision, Ensure, EnsureKind, EventFacts, RequestKind, decide};
use crate::policy::{self, bucket::output_bucket_statement};

#[derive(Debug, Clone)]
pub struct Settings {
    pub assume_role_retry: AssumeRoleRetry,
    /// The IAM path the handler's template grants (its `RolePath`
    /// parameter): roles are made and changed only below it.
    pub managed_role_path: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            assume_role_retry: AssumeRoleRetry::default(),
            managed_role_path: crate::model::properties::DEFAULT_ROLE_PATH.to_string(),
        }
    }
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
    let deployed_role = match req.kind {
        RequestKind::Update => deployed_role(clients, &stack, req).await,
        _ => None,
    };
    let deployed = deployed_role
        .as_ref()
        .and_then(|(_, found)| found.as_ref())
        .zip(req.physical_resource_id.as_deref())
        .and_then(|(r, pid)| role::deployed_fingerprint(r, pid));
    let facts = EventFacts {
        kind: req.kind,
        stack: &stack,
        logical_id: &req.logical_resource_id,
        request_id: &req.request_id,
        physical_id: req.physical_resource_id.as_deref(),
        properties: &req.properties,
        old_properties: req.old_properties.as_ref(),
        deployed_fingerprint: deployed,
        managed_role_path: &settings.managed_role_path,
    };
    match decide(&facts) {
        Decision::Nothing { physical_id, why } => Outcome::success(physical_id, why),
        Decision::Refuse {
            physical_id,
            reason,
        } => Outcome::failed(physical_id, reason),
        Decision::Teardown { physical_id, props } => {
            match Box::pin(teardown(clients, settings, &physical_id, &props, false)).await {
                Ok(summary) => Outcome::success(physical_id, summary),
                Err(e) => Outcome::failed(physical_id, format!("Delete failed: {e}")),
            }
        }
        Decision::Ensure(plan) => {
            run_ensure(clients, settings, &stack, req, &plan, deployed_role).await
        }
        Decision::Unchanged { physical_id, props } => {
            match read_back(clients, &physical_id, &props).await {
                Ok(Some(data)) => {
                    let mut outcome = Outcome::success(
                        physical_id.clone(),
                        format!("setup {physical_id} is unchanged: nothing it depends on changed"),
                    );
                    outcome.data = data;
                    outcome
                }
                // Something of ours is missing: bring the setup back in place.
                Ok(None) => {
                    let plan = Ensure {
                        physical_id,
                        props,
                        how: EnsureKind::InPlace {
                            changed: Vec::new(),
                        },
                    };
                    run_ensure(clients, settings, &stack, req, &plan, deployed_role).await
                }
                Err(e) => Outcome::failed(physical_id, format!("{e}; nothing was changed")),
            }
        }
    }
}

/// The answer's Data for a setup that is whole, read without changing
/// anything; `None` when a part of ours is missing.
async fn read_back(
    clients: &Clients,
    pid: &str,
    props: &SetupProperties,
) -> Result<Option<BTreeMap<String, String>>, PartError> {
    let names = props.names(pid);
    let vpc = async {
        match &props.vpc {
            Some(v) => network::lookup(&clients.ec2, v).await.map(Some),
            None => Ok(None),
        }
    };
    let endpoints = async {
        if props.wants_endpoint() {
            endpoint::find_ours(&clients.ec2, pid).await.map(Some)
        } else {
            Ok(None)
        }
    };
    let job = async {
        match names.job_name.as_deref().zip(names.model_name.as_deref()) {
            Some((j, m)) => job::observe(&clients.bedrock, j, m).await.map(Some),
            None => Ok(None),
        }
    };
    let (role, vpc, endpoints, job) = tokio::try_join!(
        role::find(&clients.iam, &names.role_name),
        vpc,
        endpoints,
        job
    )?;
    let Some(role) = role.filter(|r| role::is_ours(r, pid)) else {
        return Ok(None);
    };
    let endpoint_id = match endpoints {
        Some(found) => match found.first().and_then(|e| e.vpc_endpoint_id()) {
            Some(id) => Some(id.to_string()),
            None => return Ok(None),
        },
        None => None,
    };
    let job = match (job, names.job_name, names.model_name) {
        (Some(obs), Some(job_name), Some(model_name)) => match obs.our_job_arn(pid) {
            Some(arn) => Some((arn.to_string(), job_name, model_name)),
            None => return Ok(None),
        },
        _ => None,
    };
    Ok(Some(answer_data(
        role.arn(),
        role.role_name(),
        vpc.map(|f| f.vpc_id),
        endpoint_id,
        job,
    )))
}

/// The answer's Data (`!GetAtt`), the same whichever way it was found.
fn answer_data(
    role_arn: &str,
    role_name: &str,
    vpc_id: Option<String>,
    endpoint_id: Option<String>,
    job: Option<(String, String, String)>,
) -> BTreeMap<String, String> {
    let mut data = BTreeMap::new();
    data.insert("RoleArn".to_string(), role_arn.to_string());
    data.insert("RoleName".to_string(), role_name.to_string());
    if let Some(v) = vpc_id {
        data.insert("VpcId".to_string(), v);
    }
    if let Some(e) = endpoint_id {
        data.insert("S3EndpointId".to_string(), e);
    }
    if let Some((arn, job_name, model_name)) = job {
        data.insert("JobArn".to_string(), arn);
        data.insert("JobName".to_string(), job_name);
        data.insert("CustomModelName".to_string(), model_name);
    }
    data
}

/// A role lookup this request already made: the name, and what was found.
type KnownRole = Option<(String, Option<Role>)>;

/// The deployed setup's role, read before deciding an Update for its
/// replacement fingerprint (see `plan::EventFacts::deployed_fingerprint`)
/// and handed on, so that an in-place update does not read it again.
async fn deployed_role(clients: &Clients, stack: &StackIdentity, req: &Request) -> KnownRole {
    let pid = req.physical_resource_id.as_deref()?;
    let props = SetupProperties::parse(&req.properties, stack).ok()?;
    let name = props.names(pid).role_name;
    match role::find(&clients.iam, &name).await {
        Ok(found) => Some((name, found)),
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
    known_role: KnownRole,
) -> Outcome {
    let pid = &plan.physical_id;
    // Boxed: these futures are large, and `run` must not need a big stack
    // from whoever calls it.
    match Box::pin(ensure(clients, settings, stack, req, plan, known_role)).await {
        Ok((data, warnings)) => {
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
            let reason = if warnings.is_empty() {
                reason
            } else {
                warn!(?warnings, "pre-flight checks that could not be made");
                format!("{reason}; not checked: {}", warnings.join("; "))
            };
            let mut outcome = Outcome::success(pid.clone(), reason);
            outcome.data = data;
            outcome
        }
        Err(EnsureFailure { error, changed }) => {
            warn!(%error, changed, "ensure failed");
            let answer_id = match &plan.how {
                // A failed Update keeps the physical id it had.
                EnsureKind::Replace {
                    old_physical_id, ..
                } => old_physical_id.clone(),
                _ => pid.clone(),
            };
            if !changed {
                return Outcome::failed(answer_id, format!("{error}; nothing was changed"));
            }
            if !plan.is_new_setup() {
                // The setup existed before; CloudFormation's rollback Update
                // brings it back to the old properties.
                return Outcome::failed(answer_id, error.to_string());
            }
            let cleanup = undo_new_setup(clients, settings, stack, req, plan).await;
            Outcome::failed(answer_id, format!("{error}; {cleanup}"))
        }
    }
}

/// Removes what a failed Create or replacement made, handing a taken-over
/// endpoint back to the setup it came from.
async fn undo_new_setup(
    clients: &Clients,
    settings: &Settings,
    stack: &StackIdentity,
    req: &Request,
    plan: &Ensure,
) -> String {
    let pid = &plan.physical_id;
    let replaced = plan.replaced();
    if let Some((old_pid, old)) = replaced
        && let Err(e) = hand_back_endpoint(clients, stack, req, old_pid, old, pid).await
    {
        warn!(error = %e, "could not hand the endpoint back");
    }
    match Box::pin(teardown(clients, settings, pid, &plan.props, true)).await {
        Ok(_) => {
            if let Some((old_pid, old)) = replaced {
                // Nothing is left of the replacement: the mark made when it
                // started has nothing to point at any more.
                let old_role = old.names(old_pid).role_name;
                if let Err(m) = role::mark_orphan(&clients.iam, &old_role, old_pid, None).await {
                    warn!(error = %m, "could not clear the replacement mark; the rollback update finds nothing to remove");
                }
            }
            "what this request made was removed again".to_string()
        }
        // CloudFormation sends no Delete for a replacement whose Update
        // failed; the mark the replacement set on the old setup's role before
        // any change (an undo runs only after one) leads its rollback Update
        // to the leftovers.
        Err(e) if replaced.is_some() => format!(
            "removing what this request made also failed ({e}); the rollback update removes the rest"
        ),
        Err(e) => format!(
            "removing what this request made also failed ({e}); CloudFormation's rollback Delete retries it"
        ),
    }
}

/// Removes the leftovers of a failed replacement marked on this setup's
/// role. The rollback Update that follows every failed Update carries the
/// failed properties as its old properties, and with them the leftovers'
/// names. Runs after apply, which has taken back an endpoint the leftovers
/// had taken over (see `take_over_from`), so the teardown leaves it.
async fn remove_orphan(
    clients: &Clients,
    settings: &Settings,
    stack: &StackIdentity,
    req: &Request,
    plan: &Ensure,
    orphan: &str,
    role_name: &str,
) -> Result<(), PartError> {
    let orphan_props = req
        .old_properties
        .as_ref()
        .and_then(|o| SetupProperties::parse(o, stack).ok());
    let props = orphan_props.as_ref().unwrap_or(&plan.props);
    info!(orphan, "removing what a failed replacement left behind");
    Box::pin(teardown(clients, settings, orphan, props, true)).await?;
    role::mark_orphan(&clients.iam, role_name, &plan.physical_id, None).await
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
    let (facts, gateways) = tokio::try_join!(
        network::lookup(&clients.ec2, vpc),
        endpoint::s3_gateways(&clients.ec2)
    )?;
    let want = desired_endpoint(
        stack,
        req,
        old_pid,
        old,
        (&facts, &gateways.service_name),
        Some(new_pid.to_string()),
    );
    let resolved = endpoint::resolve(&gateways.endpoints, &want)?;
    endpoint::apply(&clients.ec2, &want, resolved)
        .await
        .map(|_| ())
}

fn desired_endpoint(
    stack: &StackIdentity,
    req: &Request,
    pid: &str,
    props: &SetupProperties,
    (facts, service_name): (&network::VpcFacts, &str),
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
        service_name: service_name.to_string(),
        route_table_ids,
        policy: policy::endpoint::endpoint_policy(props, &stack.partition).to_string(),
        tags: owned_tags(&props.tags, pid),
        take_over_from,
        client_token: client_token(&format!("{pid}/{}", req.request_id)),
    }
}

/// An `ensure` that failed, and whether it had changed anything yet.
#[derive(Debug)]
struct EnsureFailure {
    error: PartError,
    changed: bool,
}

/// Everything `ensure` reads before it changes anything.
struct Observed {
    role: Option<aws_sdk_iam::types::Role>,
    vpc: Option<network::VpcFacts>,
    gateways: endpoint::S3Gateways,
    bucket_policy: Option<Option<String>>,
    job: Option<job::JobObservation>,
}

/// Makes or adopts every part of the setup in three steps: observe (every
/// lookup at once), check (a foreign part or a bad VPC fails here, before
/// any change), apply (the role then the job, the endpoint, the bucket
/// statement, at once).
async fn ensure(
    clients: &Clients,
    settings: &Settings,
    stack: &StackIdentity,
    req: &Request,
    plan: &Ensure,
    known_role: KnownRole,
) -> Result<(BTreeMap<String, String>, Vec<String>), EnsureFailure> {
    let before_any_change = |error| EnsureFailure {
        error,
        changed: false,
    };
    let after_a_change = |error| EnsureFailure {
        error,
        changed: true,
    };
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
    let replaced_setup = plan
        .replaced()
        .map(|(old_pid, old)| (old_pid, old.names(old_pid).role_name));
    let sid = bucket_statement_sid(pid);
    let output_bucket = props.output_data.bucket.as_str();
    let want_role = desired_role(stack, pid, props, &names.role_name);
    let job_names = names.job_name.clone().zip(names.model_name.clone());

    let warnings;
    // 1. Observe.
    let observed = {
        // A new setup (Create, replacement) is checked before anything is
        // made; an existing one is not, whose data may be gone by design.
        let preflight = async {
            if plan.is_new_setup() {
                preflight::check(clients, stack, props).await.map(Some)
            } else {
                Ok(None)
            }
        };
        let role = async {
            match known_role {
                Some((name, found)) if name == names.role_name => Ok(found),
                _ => role::find(&clients.iam, &names.role_name).await,
            }
        };
        let vpc = async {
            match &props.vpc {
                Some(v) => network::lookup(&clients.ec2, v).await.map(Some),
                None => Ok(None),
            }
        };
        let gateways = async {
            if props.wants_endpoint() {
                endpoint::s3_gateways(&clients.ec2).await
            } else {
                Ok(endpoint::S3Gateways::default())
            }
        };
        let bucket = async {
            if props.restrict_output_bucket_to_vpc {
                bucket_policy::read(&clients.s3, output_bucket)
                    .await
                    .map(Some)
            } else {
                Ok(None)
            }
        };
        let job = async {
            match &job_names {
                Some((j, m)) => job::observe(&clients.bedrock, j, m).await.map(Some),
                None => Ok(None),
            }
        };
        // A replacement marks itself on the setup it replaces before it
        // makes anything: should it be cut off (the deadline) or fail to
        // clean up, the rollback Update of the old setup removes it.
        let mark = async {
            match &replaced_setup {
                Some((old_pid, old_role)) => {
                    role::mark_orphan(&clients.iam, old_role, old_pid, Some(pid)).await
                }
                None => Ok(()),
            }
        };
        // The pre-flight verdict comes first whatever the other lookups
        // found: it names the input to fix.
        // Boxed: together these futures are too large for a debug build's
        // stack.
        let (preflight, lookups) = tokio::join!(
            Box::pin(preflight),
            Box::pin(async { tokio::try_join!(role, vpc, gateways, bucket, job, mark) })
        );
        warnings = match preflight.map_err(before_any_change)? {
            Some(findings) => findings.into_result().map_err(before_any_change)?,
            None => Vec::new(),
        };
        let (role, vpc, gateways, bucket_policy, job, ()) = lookups.map_err(before_any_change)?;
        Observed {
            role,
            vpc,
            gateways,
            bucket_policy,
            job,
        }
    };

    // 2. Check.
    role::check_owner(observed.role.as_ref(), &want_role).map_err(before_any_change)?;
    // The setup this one replaces, or a failed replacement of this one left
    // behind: an endpoint of theirs on our route tables is ours to take.
    let orphan = observed
        .role
        .as_ref()
        .and_then(role::orphan_of)
        .map(str::to_string);
    let take_over_from = take_over_from.or_else(|| orphan.clone());
    let want_endpoint = match (&observed.vpc, props.wants_endpoint()) {
        (Some(facts), true) => Some(desired_endpoint(
            stack,
            req,
            pid,
            props,
            (facts, &observed.gateways.service_name),
            take_over_from,
        )),
        _ => None,
    };
    let endpoint_plan = want_endpoint
        .as_ref()
        .map(|w| endpoint::resolve(&observed.gateways.endpoints, w))
        .transpose()
        .map_err(before_any_change)?;
    let want_job = match (&props.job, &job_names) {
        (Some(j), Some((job_name, model_name))) => {
            Some(desired_job(props, j, pid, job_name, model_name))
        }
        _ => None,
    };
    if let (Some(w), Some(obs)) = (&want_job, &observed.job) {
        job::check(obs, w).map_err(before_any_change)?;
    }

    // 3. Apply: the role and then the job (which needs only the role), the
    // endpoint, and the bucket statement, all at once.
    let role_and_job = async {
        let role = role::apply(&clients.iam, &want_role, observed.role).await?;
        info!(role = %role.name, created = role.created, "role ready");
        let job = match (want_job, observed.job) {
            (Some(mut want), Some(obs)) => {
                want.role_arn = role.arn.clone();
                let submitted =
                    job::apply(&clients.bedrock, &want, obs, settings.assume_role_retry).await?;
                Some((submitted, want))
            }
            _ => None,
        };
        Ok::<_, PartError>((role, job))
    };
    let endpoint_part = async {
        match (&want_endpoint, endpoint_plan) {
            (Some(w), Some(resolved)) => endpoint::apply(&clients.ec2, w, resolved).await.map(Some),
            _ => {
                if in_place {
                    endpoint::teardown(&clients.ec2, pid).await?;
                }
                Ok(None)
            }
        }
    };
    let bucket_part = async {
        match (&observed.vpc, props.restrict_output_bucket_to_vpc) {
            (Some(facts), true) => {
                let statement =
                    output_bucket_statement(&sid, &stack.partition, output_bucket, &facts.vpc_id);
                bucket_policy::ensure_statement(
                    &clients.s3,
                    output_bucket,
                    &statement,
                    observed.bucket_policy.clone(),
                )
                .await
            }
            _ if in_place => {
                bucket_policy::remove_statement_by_sid(&clients.s3, output_bucket, &sid)
                    .await
                    .map(|_| ())
            }
            _ => Ok(()),
        }
    };
    let ((role, job), endpoint, ()) =
        tokio::try_join!(role_and_job, endpoint_part, bucket_part).map_err(after_a_change)?;
    if let Some(orphan) = &orphan {
        remove_orphan(
            clients,
            settings,
            stack,
            req,
            plan,
            orphan,
            &names.role_name,
        )
        .await
        .map_err(after_a_change)?;
    }

    let data = answer_data(
        &role.arn,
        &role.name,
        observed.vpc.map(|f| f.vpc_id),
        endpoint.map(|e| e.id),
        job.map(|(submitted, want)| (submitted.arn, want.job_name, want.model_name)),
    );
    // The replacement is whole: the old setup no longer points at it. If
    // that fails, so does the replacement, and its rollback removes it.
    if let Some((old_pid, old_role)) = &replaced_setup {
        role::mark_orphan(&clients.iam, old_role, old_pid, None)
            .await
            .map_err(after_a_change)?;
    }
    Ok((data, warnings))
}

fn desired_role(
    stack: &StackIdentity,
    pid: &str,
    props: &SetupProperties,
    name: &str,
) -> DesiredRole {
    DesiredRole {
        name: name.to_string(),
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
    }
}

/// The job as it will be submitted; the role ARN is filled in once the
/// role exists.
fn desired_job(
    props: &SetupProperties,
    j: &crate::model::JobConfig,
    pid: &str,
    job_name: &str,
    model_name: &str,
) -> DesiredJob {
    DesiredJob {
        physical_id: pid.to_string(),
        job_name: job_name.to_string(),
        model_name: model_name.to_string(),
        role_arn: String::new(),
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
        distillation: j.distillation.clone(),
        vpc: props
            .vpc
            .as_ref()
            .map(|v| (v.subnet_ids.clone(), v.security_group_ids.clone())),
        tags: owned_tags(&props.tags, pid),
        client_token: client_token(pid),
    }
}

/// Removes every part carrying `pid`. Every part is attempted even when
/// another fails, so that one broken service leaves as little as possible;
/// the first error is returned. `after_failure` is the undo of a request
/// that failed, whatever the flags say: its job, submitted minutes ago at
/// most, is stopped, and a model of ours under its name goes too, since
/// such a job cannot have trained one worth keeping.
async fn teardown(
    clients: &Clients,
    settings: &Settings,
    pid: &str,
    props: &SetupProperties,
    after_failure: bool,
) -> Result<String, PartError> {
    let names = props.names(pid);
    let mut notes = Vec::new();
    let mut errors = Vec::new();
    let job_part = async {
        match (&props.job, &names.job_name, &names.model_name) {
            (Some(j), Some(job_name), Some(model_name)) => job::teardown(
                &clients.bedrock,
                pid,
                job_name,
                model_name,
                j.stop_job_on_delete || after_failure,
                j.delete_custom_model_on_delete || after_failure,
            )
            .await
            .map(Some),
            _ => Ok(None),
        }
    };
    let sid = bucket_statement_sid(pid);
    let bucket = props.output_data.bucket.as_str();
    let bucket_part = async {
        match bucket_policy::remove_statement_by_sid(&clients.s3, bucket, &sid).await {
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
    let role_part = role::teardown(
        &clients.iam,
        &names.role_name,
        pid,
        &settings.managed_role_path,
    );
    // Every part at once: stopping the job needs neither the role nor the
    // network, and none of them needs the job.
    let (job_done, bucket_note, endpoints, role_removed) =
        tokio::join!(job_part, bucket_part, endpoint_part, role_part);
    if let (Ok(Some(done)), Some(job_name), Some(model_name)) =
        (&job_done, &names.job_name, &names.model_name)
    {
        if done.stopped {
            notes.push(format!("job {job_name} stopped"));
        }
        if done.model_deleted {
            notes.push(format!("custom model {model_name} deleted"));
        } else if !after_failure {
            notes.push(format!("custom model {model_name} kept"));
        }
        for f in &done.skipped_foreign {
            notes.push(format!("{f} is not ours and was left alone"));
        }
    }
    if let Err(e) = job_done {
        errors.push(e);
    }
    match bucket_note {
        Ok(note) => notes.extend(note),
        Err(e) => errors.push(e),
    }
    match endpoints {
        Ok(ids) if !ids.is_empty() => notes.push(format!("endpoint {} deleted", ids.join(", "))),
        Ok(_) => {}
        Err(e) => errors.push(e),
    }
    match role_removed {
        Ok(role::Removed::Deleted) => notes.push(format!("role {} deleted", names.role_name)),
        Ok(role::Removed::NotFound) => {
            notes.push(format!("role {} was already gone", names.role_name))
        }
        Ok(role::Removed::NotOurs) => notes.push(format!(
            "role {} is not ours and was left alone",
            names.role_name
        )),
        Err(e) => errors.push(e),
    }
    match errors.into_iter().next() {
        Some(e) => Err(e),
        None => Ok(format!("setup {pid} deleted: {}", notes.join("; "))),
    }
}
