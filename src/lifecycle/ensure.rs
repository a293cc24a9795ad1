//! Making or adopting every part of a setup, in named steps: `observe`
//! (every lookup at once, the pre-flight checks among them), `check` (a
//! foreign part or a bad VPC fails here, before any change, and what must be
//! made is decided), `apply` (the role then the job, the endpoint, the bucket
//! statement, all at once), then `finish` (a failed replacement's leftovers,
//! the replacement mark) and the answer's Data.

use std::collections::BTreeMap;

use aws_sdk_iam::types::Role;
use serde_json::Value;
use tracing::info;

use super::context::{Context, KnownRole};
use super::data::answer_data;
use super::desired::{desired_endpoint, desired_job, desired_role};
use super::observe;
use super::teardown::teardown;
use crate::completion::JobEnd;
use crate::completion::pending::{self, PendingCompletion};
use crate::model::deployment::{DeploymentChange, FoundDeployment, change_for};
use crate::model::identity::bucket_statement_sid;
use crate::model::properties::SetupNames;
use crate::model::{SetupProperties, TagSet};
use crate::parts::bucket_policy::ReadPolicy;
use crate::parts::endpoint::{DesiredEndpoint, EnsuredEndpoint, Resolved, S3Gateways};
use crate::parts::job::{DesiredJob, EnsuredJob, JobObservation};
use crate::parts::network::VpcFacts;
use crate::parts::role::{DesiredRole, EnsuredRole};
use crate::parts::teacher::{self, TeacherLookup};
use crate::parts::{PartError, bucket_policy, deployment, endpoint, job, preflight, role};
use crate::plan::{Ensure, EnsureKind};
use crate::policy::bucket::output_bucket_statement;

/// An `ensure` that failed, and whether it had changed anything yet.
#[derive(Debug)]
pub(super) struct EnsureFailure {
    pub(super) error: PartError,
    pub(super) changed: bool,
}

fn before_any_change(error: PartError) -> EnsureFailure {
    EnsureFailure {
        error,
        changed: false,
    }
}

fn after_a_change(error: PartError) -> EnsureFailure {
    EnsureFailure {
        error,
        changed: true,
    }
}

/// What every step reads: the request, its plan and the names it implies.
struct Setup<'a> {
    ctx: &'a Context<'a>,
    plan: &'a Ensure,
    names: SetupNames,
}

impl Setup<'_> {
    fn pid(&self) -> &str {
        &self.plan.physical_id
    }

    fn props(&self) -> &SetupProperties {
        &self.plan.props
    }

    fn in_place(&self) -> bool {
        matches!(self.plan.how, EnsureKind::InPlace { .. })
    }

    /// The replaced setup's id and role name, on a replacement.
    fn replaced_role(&self) -> Option<(&str, String)> {
        self.plan
            .replaced()
            .map(|(old_pid, old)| (old_pid, old.names(old_pid).role_name))
    }
}

/// Everything read before anything changes.
struct Observed {
    warnings: Vec<String>,
    role: Option<Role>,
    vpc: Option<VpcFacts>,
    gateways: S3Gateways,
    bucket_policy: Option<ReadPolicy>,
    job: Option<JobObservation>,
    /// What holds the deployment's name now.
    deployment: Option<FoundDeployment>,
    teacher: TeacherLookup,
}

/// What must be made or brought up to date, decided from what was observed.
struct ToMake {
    role: DesiredRole,
    existing_role: Option<Role>,
    endpoint: Option<(DesiredEndpoint, Resolved)>,
    job: Option<(DesiredJob, JobObservation)>,
    /// Our statement, with the policy as observed, when the bucket is to be
    /// restricted.
    bucket_statement: Option<(Value, Option<ReadPolicy>)>,
    vpc_id: Option<String>,
    /// A failed replacement's leftovers marked on our role.
    orphan: Option<String>,
}

/// What was made.
struct Made {
    role: EnsuredRole,
    endpoint: Option<EnsuredEndpoint>,
    job: Option<(EnsuredJob, DesiredJob)>,
}

/// Makes or adopts every part; the answer's Data and the pre-flight checks
/// that could not be made.
pub(super) async fn ensure(
    ctx: &Context<'_>,
    plan: &Ensure,
    known_role: KnownRole,
) -> Result<(BTreeMap<String, String>, Vec<String>), EnsureFailure> {
    let setup = Setup {
        ctx,
        plan,
        names: plan.props.names(&plan.physical_id),
    };
    // Each step boxed: nested inline, these futures outgrow a debug build's
    // stack.
    let observed = Box::pin(observe(&setup, known_role)).await?;
    let warnings = observed.warnings.clone();
    let to_make = check(&setup, observed).map_err(before_any_change)?;
    let vpc_id = to_make.vpc_id.clone();
    let orphan = to_make.orphan.clone();
    let made = Box::pin(apply(&setup, to_make))
        .await
        .map_err(after_a_change)?;
    Box::pin(finish(&setup, orphan.as_deref()))
        .await
        .map_err(after_a_change)?;
    let data = answer_data(
        &made.role.arn,
        &made.role.name,
        vpc_id,
        made.endpoint.map(|e| e.id),
        made.job
            .map(|(submitted, want)| (submitted.arn, want.job_name, want.model_name)),
        setup.names.deployment.as_ref().map(|d| d.name.as_str()),
    );
    Ok((data, warnings))
}

/// Step 1: every lookup at once, and the pre-flight verdict, which comes
/// first whatever the lookups found (it names the input to fix). A
/// replacement also marks itself on the setup it replaces before it makes
/// anything: should it be cut off (the deadline) or fail to clean up, the
/// rollback Update of the old setup removes it.
async fn observe(setup: &Setup<'_>, known_role: KnownRole) -> Result<Observed, EnsureFailure> {
    // A new setup (Create, replacement) is checked before anything is made;
    // an existing one is not, whose data may be gone by design.
    let preflight = async {
        if setup.plan.is_new_setup() {
            preflight::check(setup.ctx.clients, setup.ctx.stack, setup.props())
                .await
                .map(Some)
        } else {
            Ok(None)
        }
    };
    // Boxed: together these futures are too large for a debug build's stack.
    let (preflight, lookups) =
        tokio::join!(Box::pin(preflight), Box::pin(lookups(setup, known_role)));
    let preflight = preflight.map_err(before_any_change)?;
    let mut observed = lookups.map_err(before_any_change)?;
    // A teacher profile that does not exist dooms the setup: on a new one it
    // is a pre-flight failure beside the others; on an existing one the role
    // cannot be granted its models.
    let missing_teacher = match std::mem::take(&mut observed.teacher) {
        TeacherLookup::Missing(e) => Some(e),
        found => {
            observed.teacher = found;
            None
        }
    };
    observed.warnings = match (preflight, missing_teacher) {
        (Some(mut findings), missing) => {
            findings.failures.extend(missing);
            findings.into_result().map_err(before_any_change)?
        }
        (None, Some(missing)) => return Err(before_any_change(PartError::Input(missing))),
        (None, None) => Vec::new(),
    };
    Ok(observed)
}

/// Every lookup at once (and the replacement's mark on the setup it
/// replaces).
async fn lookups(setup: &Setup<'_>, known_role: KnownRole) -> Result<Observed, PartError> {
    let (clients, props) = (setup.ctx.clients, setup.props());
    // Boxed: inline beside the others, it outgrows a debug build's stack.
    let deployment = Box::pin(setup.deployment_holding_the_name());
    let (role, vpc, gateways, bucket_policy, job, deployment, (), teacher) = tokio::try_join!(
        setup.role(known_role),
        observe::vpc(clients, props),
        setup.s3_gateways(),
        setup.output_bucket_policy(),
        observe::job(clients, &setup.names),
        deployment,
        setup.mark_replaced_role(),
        teacher::look_up(&clients.bedrock, setup.ctx.stack, props)
    )?;
    Ok(Observed {
        warnings: Vec::new(),
        role,
        vpc,
        gateways,
        bucket_policy,
        job,
        deployment,
        teacher,
    })
}

/// The lookups of step 1, each skipped when the setup has no such part.
impl Setup<'_> {
    /// The role of our name (already read when the orchestrator looked for
    /// the deployed one under the same name).
    async fn role(&self, known_role: KnownRole) -> Result<Option<Role>, PartError> {
        match known_role {
            Some((name, found)) if name == self.names.role_name => Ok(found),
            _ => role::find(&self.ctx.clients.iam, &self.names.role_name).await,
        }
    }

    async fn s3_gateways(&self) -> Result<S3Gateways, PartError> {
        if self.props().wants_endpoint() {
            endpoint::s3_gateways(&self.ctx.clients.ec2).await
        } else {
            Ok(S3Gateways::default())
        }
    }

    async fn output_bucket_policy(&self) -> Result<Option<ReadPolicy>, PartError> {
        let props = self.props();
        if !props.restrict_output_bucket_to_vpc {
            return Ok(None);
        }
        bucket_policy::read(&self.ctx.clients.s3, &props.output_data.bucket)
            .await
            .map(|p| Some(ReadPolicy(p)))
    }

    async fn deployment_holding_the_name(&self) -> Result<Option<FoundDeployment>, PartError> {
        match &self.names.deployment {
            Some(spec) => deployment::find(&self.ctx.clients.bedrock, spec).await,
            None => Ok(None),
        }
    }

    /// A replacement marks its own id on the role of the setup it replaces
    /// (the one that stays if it fails), so that its leftovers are found.
    async fn mark_replaced_role(&self) -> Result<(), PartError> {
        match self.replaced_role() {
            Some((old_pid, old_role)) => {
                role::mark_orphan(&self.ctx.clients.iam, &old_role, old_pid, Some(self.pid())).await
            }
            None => Ok(()),
        }
    }
}

/// Step 2: a part of our name that is not ours, or a route table another
/// endpoint serves, fails here; otherwise what must be made.
fn check(setup: &Setup<'_>, observed: Observed) -> Result<ToMake, PartError> {
    let (stack, pid, props) = (setup.ctx.stack, setup.pid(), setup.props());
    let teacher = match &observed.teacher {
        TeacherLookup::Profile(p) => Some(p),
        _ => None,
    };
    let want_role = desired_role(stack, pid, props, &setup.names.role_name, teacher);
    role::check_owner(observed.role.as_ref(), &want_role)?;
    // Found now, a deployment name someone else holds fails before anything
    // changes rather than when the deployment is asked for.
    if let Some(spec) = &setup.names.deployment {
        deployment::check_owner(observed.deployment.as_ref(), spec, pid)?;
    }
    let orphan = observed
        .role
        .as_ref()
        .and_then(role::orphan_of)
        .map(str::to_string);
    let endpoint = endpoint_to_make(setup, &observed, orphan.as_deref())?;
    let bucket_statement = bucket_statement_to_make(setup, &observed);
    let Observed { role, vpc, job, .. } = observed;
    Ok(ToMake {
        role: want_role,
        existing_role: role,
        endpoint,
        job: job_to_make(setup, job)?,
        bucket_statement,
        vpc_id: vpc.map(|f| f.vpc_id),
        orphan,
    })
}

/// The endpoint on the VPC's route tables. The setup this one replaces, or
/// a failed replacement of this one left behind (`orphan`): an endpoint of
/// theirs on our route tables is ours to take.
fn endpoint_to_make(
    setup: &Setup<'_>,
    observed: &Observed,
    orphan: Option<&str>,
) -> Result<Option<(DesiredEndpoint, Resolved)>, PartError> {
    let (Some(facts), true) = (&observed.vpc, setup.props().wants_endpoint()) else {
        return Ok(None);
    };
    let take_over_from = match &setup.plan.how {
        EnsureKind::Replace {
            old_physical_id, ..
        } => Some(old_physical_id.clone()),
        _ => orphan.map(str::to_string),
    };
    let want = desired_endpoint(
        setup.ctx.stack,
        setup.ctx.req,
        setup.pid(),
        setup.props(),
        (facts, &observed.gateways.service_name),
        take_over_from,
    );
    let resolved = endpoint::resolve(&observed.gateways.endpoints, &want)?;
    Ok(Some((want, resolved)))
}

/// The job to submit or adopt; one under our name that is not ours fails.
fn job_to_make(
    setup: &Setup<'_>,
    observed: Option<JobObservation>,
) -> Result<Option<(DesiredJob, JobObservation)>, PartError> {
    let props = setup.props();
    let (Some(j), Some((job_name, model_name)), Some(obs)) =
        (&props.job, setup.names.job(), observed)
    else {
        return Ok(None);
    };
    let want = desired_job(props, j, setup.pid(), job_name, model_name);
    job::check(&obs, &want)?;
    Ok(Some((want, obs)))
}

/// Our statement for the output bucket, with its policy as observed, when
/// the bucket is to be restricted to the VPC.
fn bucket_statement_to_make(
    setup: &Setup<'_>,
    observed: &Observed,
) -> Option<(Value, Option<ReadPolicy>)> {
    let props = setup.props();
    let (Some(facts), true) = (&observed.vpc, props.restrict_output_bucket_to_vpc) else {
        return None;
    };
    let statement = output_bucket_statement(
        &bucket_statement_sid(setup.pid()),
        &setup.ctx.stack.partition,
        &props.output_data.bucket,
        &facts.vpc_id,
    );
    Some((statement, observed.bucket_policy.clone()))
}

/// Step 3: the role and then the job (which needs only the role), the
/// endpoint, and the bucket statement, all at once. In place, a part the
/// properties no longer want is removed.
async fn apply(setup: &Setup<'_>, to_make: ToMake) -> Result<Made, PartError> {
    let clients = setup.ctx.clients;
    let pid = setup.pid();
    let bucket = setup.props().output_data.bucket.as_str();
    let role_and_job = Box::pin(async {
        let role = role::apply(&clients.iam, &to_make.role, to_make.existing_role).await?;
        info!(role = %role.name, created = role.created, "role ready");
        let job = match to_make.job {
            Some((want, obs)) => {
                let retry = setup.ctx.settings.assume_role_retry;
                let submitted = job::apply(&clients.bedrock, &want, &role.arn, obs, retry).await?;
                Some((submitted, want))
            }
            None => None,
        };
        Ok::<_, PartError>((role, job))
    });
    let endpoint_part = async {
        match &to_make.endpoint {
            Some((want, resolved)) => endpoint::apply(&clients.ec2, want, resolved.clone())
                .await
                .map(Some),
            None => {
                if setup.in_place() {
                    endpoint::teardown(&clients.ec2, pid).await?;
                }
                Ok(None)
            }
        }
    };
    let bucket_part = async {
        match to_make.bucket_statement {
            Some((statement, observed)) => {
                bucket_policy::ensure_statement(&clients.s3, bucket, &statement, observed).await
            }
            None if setup.in_place() => bucket_policy::remove_statement_by_sid(
                &clients.s3,
                bucket,
                &bucket_statement_sid(pid),
            )
            .await
            .map(|_| ()),
            None => Ok(()),
        }
    };
    let ((role, job), endpoint, (), ()) = tokio::try_join!(
        role_and_job,
        endpoint_part,
        bucket_part,
        register_pending(setup)
    )?;
    Ok(Made {
        role,
        endpoint,
        job,
    })
}

/// What the completion path owes the setup (its signal, its deployment),
/// registered beside the job (it names the job, so neither waits for the
/// other); removed in place when the properties no longer ask for either.
async fn register_pending(setup: &Setup<'_>) -> Result<(), PartError> {
    let ssm = &setup.ctx.clients.ssm;
    match setup.names.job_name.as_deref() {
        Some(job_name) if setup.props().owes_completion() => {
            let record = PendingCompletion {
                job_name: job_name.to_string(),
                url: setup.props().completion_signal_url().cloned(),
                deployment: setup.names.deployment.clone(),
            };
            let key = setup.ctx.settings.signal_key_id.as_deref();
            pending::register(ssm, key, setup.pid(), &record).await
        }
        _ if setup.in_place() && setup.ctx.old.is_some_and(SetupProperties::owes_completion) => {
            pending::remove(ssm, setup.pid()).await.map(|_| ())
        }
        _ => Ok(()),
    }
}

/// In place, a changed `Deployment` acts at once when the model exists: the
/// old one goes (waited for until gone when the new one takes its name),
/// then the new one is asked for. Before the model exists, the pending
/// record says what the completion path will make.
async fn deployment_change(setup: &Setup<'_>) -> Result<(), PartError> {
    if !setup.in_place() {
        return Ok(());
    }
    let (bedrock, pid) = (&setup.ctx.clients.bedrock, setup.pid());
    let old = setup.ctx.old.and_then(|o| o.names(pid).deployment);
    let new = setup.names.deployment.as_ref();
    let DeploymentChange::Change { remove, make } = change_for(old.as_ref(), new) else {
        return Ok(());
    };
    let until = setup.ctx.settings.assume_role_retry.until;
    if let Some(old) = &remove {
        let reused = make
            .as_ref()
            .is_some_and(|m| m.name == old.name && m.kind.type_name() == old.kind.type_name());
        let removed = Box::pin(deployment::remove(bedrock, pid, old, reused, until)).await?;
        info!(deployment = %old.name, ?removed, "old deployment removed");
    }
    let (Some(want), Some(job_name)) = (&make, setup.names.job_name.as_deref()) else {
        return Ok(());
    };
    // The model exists once our job has Completed (a model under the name
    // before that is not one this setup trained).
    let model_arn = match job::state(bedrock, job_name).await? {
        Some(job::JobState {
            owner: Some(owner),
            end: Some(JobEnd::Completed { model_arn }),
        }) if owner == pid => model_arn,
        _ => return Ok(()),
    };
    // Looked up again: the completion path may have made it since `observe`.
    match deployment::find(bedrock, want).await? {
        None => {
            let tags = TagSet::owned(&setup.props().tags, pid);
            let token = want.client_token(pid, &model_arn);
            deployment::create(bedrock, want, &model_arn, &tags, &token)
                .await
                .map(|_| ())
        }
        found => deployment::check_owner(found.as_ref(), want, pid),
    }
}

/// Step 4: the leftovers of a failed replacement go, and a replacement that
/// is whole clears its mark on the setup it replaces (if that fails, so does
/// the replacement, and its rollback removes it).
async fn finish(setup: &Setup<'_>, orphan: Option<&str>) -> Result<(), PartError> {
    let clients = setup.ctx.clients;
    if let Some(orphan) = orphan {
        // The rollback Update that follows every failed Update carries the
        // failed properties as its old properties, and with them the
        // leftovers' names.
        let orphan_props = setup.ctx.old.unwrap_or(setup.props());
        remove_orphan(
            setup.ctx,
            setup.plan,
            (orphan, orphan_props),
            &setup.names.role_name,
        )
        .await?;
    }
    if let Some((old_pid, old_role)) = setup.replaced_role() {
        role::mark_orphan(&clients.iam, &old_role, old_pid, None).await?;
    }
    deployment_change(setup).await
}

/// Removes the leftovers of a failed replacement marked on this setup's
/// role. Runs after apply, which has taken back an endpoint the leftovers
/// had taken over (see `take_over_from`), so the teardown leaves it.
async fn remove_orphan(
    ctx: &Context<'_>,
    plan: &Ensure,
    (orphan, orphan_props): (&str, &SetupProperties),
    role_name: &str,
) -> Result<(), PartError> {
    info!(orphan, "removing what a failed replacement left behind");
    Box::pin(teardown(
        ctx.clients,
        ctx.settings,
        orphan,
        orphan_props,
        true,
    ))
    .await?;
    role::mark_orphan(&ctx.clients.iam, role_name, &plan.physical_id, None).await
}
