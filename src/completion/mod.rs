//! The completion path: what happens after a Create has answered, driven by
//! EventBridge rather than CloudFormation. It learns that a job ended,
//! deploys a Completed job's model when the setup asks for it (SPEC section
//! 8), and signals the setup's WaitConditionHandle once all of that is done.
//! Bedrock publishes "Model Customization Job State Change" events on a
//! best-effort basis, so a scheduled sweep also finds owned jobs that ended
//! with something still owed. The event is only a trigger: the job is read
//! back from Bedrock, and only a job carrying our owner tag whose setup
//! registered a record is acted on.
//!
//! Its pieces: `pending` (the record a setup registers when its job is
//! submitted: the signal and the deployment owed), `signal` (how the job's
//! end is told to CloudFormation's wait condition), this module (the event
//! and the sweep); the URL itself is a property, `model::SignalUrl`, and the
//! deployment's calls are `parts::deployment`.

use serde_json::Value;
use tokio::time::Instant;
use tracing::{info, warn};

pub(crate) mod pending;
mod signal;

use crate::cfn::Answerer;
use crate::model::DeploymentSpec;
use crate::model::deployment::{NextStep, next_step};
use crate::parts::{Clients, PartError, deployment, job};
use pending::PendingCompletion;
pub use signal::JobEnd;
use signal::{deployment_signal_body, signal_body};

/// What an EventBridge event asks of the handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// A job's state changed: the job's name.
    JobStateChange(String),
    /// The scheduled sweep.
    Sweep,
}

impl EventKind {
    /// Reads an EventBridge event; `None` for anything else.
    pub fn of(event: &Value) -> Option<Self> {
        let field = |k: &str| event.get(k).and_then(Value::as_str);
        match (field("source"), field("detail-type")) {
            (Some("aws.bedrock"), Some("Model Customization Job State Change")) => event
                .get("detail")
                .and_then(|d| d.get("jobName"))
                .and_then(Value::as_str)
                .map(|name| EventKind::JobStateChange(name.to_string())),
            (Some("aws.events"), Some("Scheduled Event")) => Some(EventKind::Sweep),
            _ => None,
        }
    }
}

/// Handles one EventBridge event; the number of pending records settled.
pub(crate) async fn handle(
    clients: &Clients,
    answerer: &Answerer,
    kind: &EventKind,
    deadline: Instant,
) -> Result<usize, PartError> {
    match kind {
        EventKind::JobStateChange(job_name) => job_ended(clients, answerer, job_name, deadline)
            .await
            .map(usize::from),
        EventKind::Sweep => sweep(clients, answerer, deadline).await,
    }
}

/// A job's state changed: settle it if it ended, is ours and has a record
/// pending. Jobs that are not ours are ignored.
async fn job_ended(
    clients: &Clients,
    answerer: &Answerer,
    job_name: &str,
    deadline: Instant,
) -> Result<bool, PartError> {
    let Some(state) = job::state(&clients.bedrock, job_name).await? else {
        return Ok(false);
    };
    let Some(owner) = state.owner else {
        info!(job = job_name, "not one of ours; ignored");
        return Ok(false);
    };
    match pending::find(&clients.ssm, &owner).await? {
        Some(pending) if pending.job_name == job_name => {
            settle(clients, answerer, (&owner, &pending), state.end, deadline).await
        }
        _ => Ok(false),
    }
}

/// Every pending record whose job has ended is settled: events are best
/// effort, a job may have ended before its record was registered, and a
/// deployment becomes ready minutes after the job's last event. One
/// record's failure does not stop the others; the first error is returned
/// once all were tried (the sweep runs again anyway).
async fn sweep(
    clients: &Clients,
    answerer: &Answerer,
    deadline: Instant,
) -> Result<usize, PartError> {
    let mut settled = 0;
    let mut first_error = None;
    for (owner, pending) in pending::all(&clients.ssm).await? {
        let done = async {
            let state = job::state(&clients.bedrock, &pending.job_name).await?;
            let end = match state {
                Some(s) if s.owner.as_deref() == Some(owner.as_str()) => s.end,
                _ => return Ok(false),
            };
            settle(clients, answerer, (&owner, &pending), end, deadline).await
        };
        match done.await {
            Ok(true) => settled += 1,
            Ok(false) => {}
            Err(e) => {
                warn!(error = %e, job = %pending.job_name, "pending completion not settled; the next sweep tries again");
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(settled),
    }
}

/// Where a completed job's deployment stands.
enum Deployed {
    /// Asked for or still being created: a later sweep looks again.
    Pending,
    /// Callable, or failed: what to signal.
    Settled(Result<String, String>),
}

/// Settles an ended job's record: deploys a Completed job's model when the
/// record asks for it, signals once everything is done, and removes the
/// record. `false` while something is still to come.
async fn settle(
    clients: &Clients,
    answerer: &Answerer,
    (owner, pending): (&str, &PendingCompletion),
    end: Option<JobEnd>,
    deadline: Instant,
) -> Result<bool, PartError> {
    let Some(end) = end else { return Ok(false) };
    let body = match (&end, &pending.deployment) {
        (JobEnd::Completed { model_arn }, Some(spec)) => {
            match deploy(&clients.bedrock, owner, spec, model_arn).await? {
                Deployed::Pending => return Ok(false),
                Deployed::Settled(result) => deployment_signal_body(
                    &pending.job_name,
                    result.as_deref().map_err(|m| m.as_str()),
                ),
            }
        }
        _ => signal_body(&end, &pending.job_name),
    };
    if let Some(url) = &pending.url {
        if let Err(e) = answerer.signal(url, body, deadline).await {
            // Left pending: the next sweep tries again.
            warn!(error = %e, job = %pending.job_name, "completion signal not delivered");
            return Ok(false);
        }
        info!(job = %pending.job_name, url = %url, "completion signal sent");
    }
    pending::remove(&clients.ssm, owner).await?;
    Ok(true)
}

/// One step towards the deployment of a Completed job's model: made (with
/// the model's own tags, ours among them, and a token from the setup and the
/// model, so that every instance and every sweep asks for the same one) if
/// absent, otherwise read.
async fn deploy(
    bedrock: &aws_sdk_bedrock::Client,
    owner: &str,
    spec: &DeploymentSpec,
    model_arn: &str,
) -> Result<Deployed, PartError> {
    let found = deployment::find(bedrock, spec).await?;
    match next_step(owner, spec, found.as_ref()) {
        NextStep::Create => {
            let tags = job::tags_of(bedrock, model_arn).await?;
            if tags.owner() != Some(owner) {
                return Ok(Deployed::Settled(Err(format!(
                    "the custom model {model_arn} is not owned by this resource; nothing was deployed"
                ))));
            }
            let token = spec.client_token(owner, model_arn);
            deployment::create(bedrock, spec, model_arn, &tags, &token).await?;
            Ok(Deployed::Pending)
        }
        NextStep::Wait => Ok(Deployed::Pending),
        NextStep::Ready(arn) => Ok(Deployed::Settled(Ok(arn))),
        NextStep::Fail(message) => Ok(Deployed::Settled(Err(message))),
    }
}
