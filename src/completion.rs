//! The completion signal's other half: learning that a job ended and
//! signalling its WaitConditionHandle once. Bedrock publishes "Model
//! Customization Job State Change" events on a best-effort basis, so a
//! scheduled sweep also finds owned jobs that ended with a signal pending.
//! The event is only a trigger: the job is read back from Bedrock, and only
//! a job carrying our owner tag whose setup registered a signal is signalled.

use serde_json::Value;
use tokio::time::Instant;
use tracing::{info, warn};

use crate::cfn::{Answerer, signal_body};
use crate::parts::pending_signal::{self, PendingSignal};
use crate::parts::{Clients, PartError, job};

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

/// Handles one EventBridge event; the number of signals sent.
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

/// A job's state changed: signal it if it ended, is ours and has a signal
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
    match pending_signal::find(&clients.ssm, &owner).await? {
        Some(pending) if pending.job_name == job_name => {
            signal_if_ended(clients, answerer, (&owner, &pending), state.end, deadline).await
        }
        _ => Ok(false),
    }
}

/// Every pending signal whose job has ended is sent: events are best
/// effort, and a job may have ended before its signal was registered.
async fn sweep(
    clients: &Clients,
    answerer: &Answerer,
    deadline: Instant,
) -> Result<usize, PartError> {
    let mut sent = 0;
    for (owner, pending) in pending_signal::all(&clients.ssm).await? {
        let state = job::state(&clients.bedrock, &pending.job_name).await?;
        let end = match state {
            Some(s) if s.owner.as_deref() == Some(owner.as_str()) => s.end,
            _ => continue,
        };
        if signal_if_ended(clients, answerer, (&owner, &pending), end, deadline).await? {
            sent += 1;
        }
    }
    Ok(sent)
}

async fn signal_if_ended(
    clients: &Clients,
    answerer: &Answerer,
    (owner, pending): (&str, &PendingSignal),
    end: Option<crate::cfn::JobEnd>,
    deadline: Instant,
) -> Result<bool, PartError> {
    let Some(end) = end else { return Ok(false) };
    let body = signal_body(&end, &pending.job_name);
    if let Err(e) = answerer.signal(&pending.url, body, deadline).await {
        // Left pending: the next sweep tries again.
        warn!(error = %e, job = %pending.job_name, "completion signal not delivered");
        return Ok(false);
    }
    info!(job = %pending.job_name, url = %pending.url, "completion signal sent");
    pending_signal::remove(&clients.ssm, owner).await?;
    Ok(true)
}
