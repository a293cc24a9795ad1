//! The orchestrator: takes the request read once (`plan::Event`), runs what
//! `plan::decide` chose against the parts and turns the result into the
//! answer for CloudFormation.

use tracing::warn;

mod context;
mod data;
mod desired;
mod ensure;
mod observe;
mod teardown;

use crate::cfn::{Outcome, Request};
use crate::model::SetupProperties;
use crate::parts::job::AssumeRoleRetry;
use crate::parts::{Clients, PartError, endpoint, network, role};
use crate::plan::{Decision, Ensure, EnsureKind, Event, EventFacts, RequestKind, decide};
use context::{Context, KnownRole};
use desired::desired_endpoint;
use ensure::{EnsureFailure, ensure};
use observe::read_back;
use teardown::teardown;

/// How the handler runs, fixed per deployment.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long Bedrock's "could not assume the role" is retried.
    pub assume_role_retry: AssumeRoleRetry,
    /// The IAM path the handler's template grants (its `RolePath`
    /// parameter): roles are made and changed only below it.
    pub managed_role_path: String,
    /// The KMS key that encrypts pending completion signals (the handler
    /// stack's own); SSM's default key when absent.
    pub signal_key_id: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            assume_role_retry: AssumeRoleRetry::default(),
            managed_role_path: crate::model::DEFAULT_ROLE_PATH.to_string(),
            signal_key_id: None,
        }
    }
}

/// Runs one request to its outcome. Never panics on AWS or input errors;
/// every path ends in an `Outcome` to send.
pub async fn run(clients: &Clients, settings: &Settings, req: &Request) -> Outcome {
    Box::pin(run_read(clients, settings, req, Event::read(req))).await
}

/// `run` on a request already read (the handler reads it first, for its
/// budget and its fallback answer).
pub async fn run_read(
    clients: &Clients,
    settings: &Settings,
    req: &Request,
    event: Result<Event, String>,
) -> Outcome {
    let event = match event {
        Ok(e) => e,
        Err(reason) => {
            let current_id = req.physical_resource_id.clone().unwrap_or_default();
            return match req.kind {
                // Nothing can have been made for a stack we cannot read.
                RequestKind::Delete => Outcome::success(current_id, reason),
                _ => Outcome::failed(current_id, reason),
            };
        }
    };
    let known_role = match (
        req.kind,
        req.physical_resource_id.as_deref(),
        &event.properties,
    ) {
        (RequestKind::Update, Some(pid), Ok(props)) => deployed_role(clients, pid, props).await,
        _ => None,
    };
    let decision = decide_event(settings, req, &event, &known_role);
    let ctx = Context {
        clients,
        settings,
        stack: &event.stack,
        req,
        old: event.old_properties.as_ref().and_then(|o| o.as_ref().ok()),
    };
    Box::pin(carry_out(&ctx, decision, known_role)).await
}

/// The plan's decision for this event, with the deployed fingerprint read
/// from the role the orchestrator found.
fn decide_event(
    settings: &Settings,
    req: &Request,
    event: &Event,
    known_role: &KnownRole,
) -> Decision {
    let deployed = known_role
        .as_ref()
        .and_then(|(_, found)| found.as_ref())
        .zip(req.physical_resource_id.as_deref())
        .and_then(|(r, pid)| role::deployed_fingerprint(r, pid));
    decide(&EventFacts {
        kind: req.kind,
        stack: &event.stack,
        logical_id: &req.logical_resource_id,
        new_physical_id: &event.new_physical_id,
        physical_id: req.physical_resource_id.as_deref(),
        properties: &event.properties,
        old_properties: event.old_properties.as_ref(),
        deployed_fingerprint: deployed,
        managed_role_path: &settings.managed_role_path,
    })
}

async fn carry_out(ctx: &Context<'_>, decision: Decision, known_role: KnownRole) -> Outcome {
    match decision {
        Decision::Nothing { physical_id, why } => Outcome::success(physical_id, why),
        Decision::Refuse {
            physical_id,
            reason,
        } => Outcome::failed(physical_id, reason),
        Decision::Teardown { physical_id, props } => {
            let removed = teardown(ctx.clients, ctx.settings, &physical_id, &props, false);
            match Box::pin(removed).await {
                Ok(summary) => Outcome::success(physical_id, summary),
                Err(e) => Outcome::failed(physical_id, format!("Delete failed: {e}")),
            }
        }
        Decision::Ensure(plan) => Box::pin(run_ensure(ctx, &plan, known_role)).await,
        Decision::Unchanged { physical_id, props } => {
            Box::pin(unchanged(ctx, physical_id, props, known_role)).await
        }
    }
}

/// An Update that changes nothing the setup depends on: its Data read
/// back; a setup missing a part of ours is brought back in place instead.
async fn unchanged(
    ctx: &Context<'_>,
    physical_id: String,
    props: Box<SetupProperties>,
    known_role: KnownRole,
) -> Outcome {
    match Box::pin(read_back(ctx.clients, &physical_id, &props)).await {
        Ok(Some(data)) => {
            let reason = format!("setup {physical_id} is unchanged: nothing it depends on changed");
            let mut outcome = Outcome::success(physical_id, reason);
            outcome.data = data;
            outcome
        }
        Ok(None) => {
            let plan = Ensure {
                physical_id,
                props,
                how: EnsureKind::InPlace {
                    changed: Vec::new(),
                },
            };
            Box::pin(run_ensure(ctx, &plan, known_role)).await
        }
        Err(e) => Outcome::failed(physical_id, format!("{e}; nothing was changed")),
    }
}

/// The deployed setup's role, read before deciding an Update for its
/// replacement fingerprint (see `plan::EventFacts::deployed_fingerprint`)
/// and handed on, so that an in-place update does not read it again.
async fn deployed_role(clients: &Clients, pid: &str, props: &SetupProperties) -> KnownRole {
    let name = props.names(pid).role_name;
    match role::find(&clients.iam, &name).await {
        Ok(found) => Some((name, found)),
        Err(e) => {
            warn!(error = %e, "could not read the deployed fingerprint; deciding from the old properties");
            None
        }
    }
}

async fn run_ensure(ctx: &Context<'_>, plan: &Ensure, known_role: KnownRole) -> Outcome {
    // Boxed: these futures are large, and `run` must not need a big stack
    // from whoever calls it.
    match Box::pin(ensure(ctx, plan, known_role)).await {
        Ok((data, warnings)) => {
            let mut outcome =
                Outcome::success(plan.physical_id.clone(), success_reason(plan, &warnings));
            outcome.data = data;
            outcome
        }
        Err(failure) => Box::pin(failed(ctx, plan, failure)).await,
    }
}

fn success_reason(plan: &Ensure, warnings: &[String]) -> String {
    let pid = &plan.physical_id;
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
        } => format!("setup {pid} replaces {old_physical_id}, which CloudFormation deletes next"),
    };
    if warnings.is_empty() {
        return reason;
    }
    warn!(?warnings, "pre-flight checks that could not be made");
    format!("{reason}; not checked: {}", warnings.join("; "))
}

/// The answer to a failed `ensure`: what it had changed is removed again
/// when the setup is new; an existing setup is left to CloudFormation's
/// rollback Update.
async fn failed(ctx: &Context<'_>, plan: &Ensure, failure: EnsureFailure) -> Outcome {
    let EnsureFailure { error, changed } = failure;
    warn!(%error, changed, "ensure failed");
    let answer_id = match &plan.how {
        // A failed Update keeps the physical id it had.
        EnsureKind::Replace {
            old_physical_id, ..
        } => old_physical_id.clone(),
        _ => plan.physical_id.clone(),
    };
    if !changed {
        return Outcome::failed(answer_id, format!("{error}; nothing was changed"));
    }
    if !plan.is_new_setup() {
        return Outcome::failed(answer_id, error.to_string());
    }
    let cleanup = undo_new_setup(ctx, plan).await;
    Outcome::failed(answer_id, format!("{error}; {cleanup}"))
}

/// Removes what a failed Create or replacement made, handing a taken-over
/// endpoint back to the setup it came from.
async fn undo_new_setup(ctx: &Context<'_>, plan: &Ensure) -> String {
    let pid = &plan.physical_id;
    let replaced = plan.replaced();
    if let Some((old_pid, old)) = replaced
        && let Err(e) = hand_back_endpoint(ctx, (old_pid, old), pid).await
    {
        warn!(error = %e, "could not hand the endpoint back");
    }
    match Box::pin(teardown(ctx.clients, ctx.settings, pid, &plan.props, true)).await {
        // A replacement's mark on the old setup's role stays: a call whose
        // answer was lost (a timeout) may still land after this teardown
        // looked, so the rollback Update that follows looks again, removes
        // what it finds and clears the mark.
        Ok(_) => "what this request made was removed again".to_string(),
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

async fn hand_back_endpoint(
    ctx: &Context<'_>,
    (old_pid, old): (&str, &SetupProperties),
    new_pid: &str,
) -> Result<(), PartError> {
    let ec2 = &ctx.clients.ec2;
    if endpoint::find_ours(ec2, new_pid).await?.is_empty() || !old.wants_endpoint() {
        return Ok(());
    }
    let Some(vpc) = &old.vpc else { return Ok(()) };
    let (facts, gateways) =
        tokio::try_join!(network::lookup(ec2, vpc), endpoint::s3_gateways(ec2))?;
    let want = desired_endpoint(
        ctx.stack,
        ctx.req,
        old_pid,
        old,
        (&facts, &gateways.service_name),
        Some(new_pid.to_string()),
    );
    let resolved = endpoint::resolve(&gateways.endpoints, &want)?;
    endpoint::apply(ec2, &want, resolved).await.map(|_| ())
}
