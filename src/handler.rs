//! The invocation: parse the event, run the lifecycle under a deadline,
//! and answer CloudFormation exactly once, whatever happened.

use std::time::{Duration, SystemTime};

use serde_json::Value;
use thiserror::Error;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::{Instrument, error, info, info_span, warn};

use crate::cfn::{AnswerError, Answerer, Outcome, Request, RequestError, Status};
use crate::completion::{self, EventKind};
use crate::lifecycle::{self, Settings};
use crate::parts::Clients;
use crate::plan::{Event, RequestKind};

/// How long before Lambda's deadline the work is cut off so that the answer
/// still goes out.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(5);

/// What a wait on AWS state leaves of the working budget for the failure
/// path: removing what a Create made (a few calls per part, in parallel).
const CLEANUP_RESERVE: Duration = Duration::from_secs(10);

/// Why the handler returns an error to Lambda.
#[derive(Debug, Error)]
pub enum HandlerError {
    /// Not a custom-resource request, and no ResponseURL to answer.
    #[error(transparent)]
    NotACustomResourceEvent(RequestError),
    /// An EventBridge event could not be handled; Lambda's retry (and the
    /// next sweep) try again.
    #[error("the event could not be handled: {0}")]
    Event(String),
    /// Returned to Lambda so that its retry gives the answer another chance.
    #[error(transparent)]
    Unanswered(AnswerError),
}

/// The function's handler: one per process, shared by every invocation.
#[derive(Clone, Debug)]
pub struct Handler {
    clients: Clients,
    settings: Settings,
    answerer: Answerer,
}

impl Handler {
    /// A handler using these clients, settings and answerer.
    pub fn new(clients: Clients, settings: Settings, answerer: Answerer) -> Self {
        Handler {
            clients,
            settings,
            answerer,
        }
    }

    /// Handles one event. `deadline` is Lambda's, from the invocation
    /// context.
    pub async fn handle(&self, event: Value, deadline: SystemTime) -> Result<(), HandlerError> {
        let deadline = effective_deadline(deadline, SystemTime::now());
        if let Some(kind) = EventKind::of(&event) {
            return Box::pin(self.handle_event(&kind, deadline)).await;
        }
        // Boxed: the lifecycle's future is large and deeply nested; on the
        // heap it neither strains the stack nor the compiler's layout limit.
        self.handle_with(event, deadline, |clients, settings, req, read| {
            Box::pin(async move { lifecycle::run_read(&clients, &settings, &req, read).await })
        })
        .await
    }

    /// An EventBridge event (a job's state change, the sweep): no answer to
    /// CloudFormation; the completion signals it leads to.
    async fn handle_event(
        &self,
        kind: &EventKind,
        deadline: SystemTime,
    ) -> Result<(), HandlerError> {
        let remaining = time_left(deadline);
        let until = Instant::now() + remaining.saturating_sub(ANSWER_MARGIN);
        let span = info_span!("event", kind = ?kind);
        let work = Box::pin(completion::handle(
            &self.clients,
            &self.answerer,
            kind,
            until,
        ));
        match tokio::time::timeout_at(until, work).instrument(span).await {
            Ok(Ok(sent)) => {
                info!(sent, "event handled");
                Ok(())
            }
            Ok(Err(e)) => {
                error!(error = %e, "event not handled");
                Err(HandlerError::Event(e.to_string()))
            }
            Err(_) => Err(HandlerError::Event("out of time".into())),
        }
    }

    /// `handle` with the request's work given: the seam through which tests
    /// drive the answer path with work that panics or never ends. `deadline`
    /// is absolute (`handle` has already read a local runtime's duration).
    pub async fn handle_with<W, F>(
        &self,
        event: Value,
        deadline: SystemTime,
        work: W,
    ) -> Result<(), HandlerError>
    where
        W: FnOnce(Clients, Settings, Request, Result<Event, String>) -> F + Send + 'static,
        F: Future<Output = Outcome> + Send + 'static,
    {
        let remaining = time_left(deadline);
        let now = Instant::now();
        let request = match Request::parse(event) {
            Ok(r) => r,
            Err(RequestError::Answerable { problem, partial }) => {
                let outcome = Outcome::failed(
                    fallback_id(&partial, None),
                    format!("the request could not be read: {problem}"),
                );
                // Leave a moment after the answer to return to the runtime.
                let answer_until = now + remaining.saturating_sub(ANSWER_MARGIN);
                return self.send(&partial, &outcome, answer_until).await;
            }
            Err(e @ RequestError::Unanswerable(_)) => {
                error!(error = %e, "event ignored: there is no ResponseURL to answer");
                return Err(HandlerError::NotACustomResourceEvent(e));
            }
        };
        let span = info_span!(
            "request",
            stack_id = %request.stack_id,
            logical_resource_id = %request.logical_resource_id,
            request_type = request.kind_name(),
            request_id = %request.request_id,
        );
        self.handle_request(request, work, now, remaining)
            .instrument(span)
            .await
    }

    /// Reads the request and runs its work in one guarded task, so that a
    /// panic in either is still answered, and answers what it came to.
    async fn handle_request<W, F>(
        &self,
        request: Request,
        work: W,
        start: Instant,
        remaining: Duration,
    ) -> Result<(), HandlerError>
    where
        W: FnOnce(Clients, Settings, Request, Result<Event, String>) -> F + Send + 'static,
        F: Future<Output = Outcome> + Send + 'static,
    {
        info!(response_url = %request.response_url, "request received");
        let (mut task, read) = self.spawn_request(request.clone(), work, start, remaining);
        let whole = Budget::new(start, remaining, None);
        let (budget, new_id) = match tokio::time::timeout_at(whole.work_until, read).await {
            Ok(Ok(read)) => read,
            // The task ended before the request was read (a panic: the join
            // reports it), or the reading took the whole budget.
            Ok(Err(_)) | Err(_) => (whole, None),
        };
        info!(
            lambda_remaining_ms = remaining.as_millis(),
            work_ms = budget
                .work_until
                .saturating_duration_since(start)
                .as_millis(),
            limit = budget.limit,
            "working budget"
        );
        let fallback = fallback_id(&request, new_id.as_deref());
        let outcome = outcome_within(&mut task, &budget, fallback).await;
        self.send(&request, &outcome, budget.answer_until).await
    }

    /// The task that reads the request and runs its work; what the answer
    /// path needs of the reading (the budget, which `ServiceTimeout` may
    /// shorten, and the id a new setup takes) comes back on the channel
    /// before the work starts.
    fn spawn_request<W, F>(
        &self,
        req: Request,
        work: W,
        start: Instant,
        remaining: Duration,
    ) -> (
        JoinHandle<Outcome>,
        oneshot::Receiver<(Budget, Option<String>)>,
    )
    where
        W: FnOnce(Clients, Settings, Request, Result<Event, String>) -> F + Send + 'static,
        F: Future<Output = Outcome> + Send + 'static,
    {
        let (read_tx, read_rx) = oneshot::channel();
        let (clients, settings) = (self.clients.clone(), self.settings.clone());
        let task = tokio::spawn(
            async move {
                let event = Event::read(&req);
                let service_timeout = event.as_ref().ok().and_then(|e| e.service_timeout);
                let budget = Budget::new(start, remaining, service_timeout);
                let new_id = event.as_ref().ok().map(|e| e.new_physical_id.clone());
                // Unheard only when the handler has stopped waiting.
                let _ = read_tx.send((budget, new_id));
                work(clients, settings_within(settings, &budget), req, event).await
            }
            .in_current_span(),
        );
        (task, read_rx)
    }

    async fn send(
        &self,
        request: &Request,
        outcome: &Outcome,
        until: Instant,
    ) -> Result<(), HandlerError> {
        let status = match outcome.status {
            Status::Success => "SUCCESS",
            Status::Failed => "FAILED",
        };
        info!(status, physical_id = %outcome.physical_id, reason = %outcome.reason, "answering CloudFormation");
        self.answerer
            .answer(request, outcome, until)
            .await
            .map_err(|e| {
                error!(error = %e, "answer not delivered");
                HandlerError::Unanswered(e)
            })
    }
}

/// The task's outcome, or a FAILED one with `fallback_id` when it panicked
/// or the budget ran out (the task is then stopped).
async fn outcome_within(
    task: &mut JoinHandle<Outcome>,
    budget: &Budget,
    fallback_id: String,
) -> Outcome {
    match tokio::time::timeout_at(budget.work_until, &mut *task).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(join)) => {
            error!(panic = join.is_panic(), "the request's work did not finish");
            Outcome::failed(
                fallback_id,
                "internal error in the handler (see its logs); anything created is removed by CloudFormation's rollback Delete",
            )
        }
        Err(_) => {
            task.abort();
            warn!(
                limit = budget.limit,
                "deadline near: answering before it passes"
            );
            Outcome::failed(
                fallback_id,
                format!(
                    "the handler ran out of time before the setup was finished ({}; an AWS call was too slow); anything created is removed by CloudFormation's rollback Delete",
                    budget.limit
                ),
            )
        }
    }
}

/// The settings with every wait on AWS state ending before the budget
/// does, leaving time to remove what a failed Create made and to say why in
/// the answer.
fn settings_within(mut settings: Settings, budget: &Budget) -> Settings {
    settings.assume_role_retry.until = Some(
        budget
            .work_until
            .checked_sub(CLEANUP_RESERVE)
            .unwrap_or(budget.work_until),
    );
    settings
}

/// What is left until `deadline` (nothing once it has passed).
fn time_left(deadline: SystemTime) -> Duration {
    deadline
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO)
}

/// Lambda's deadline as an absolute time. Lambda sends epoch milliseconds;
/// cargo-lambda's local runtime (`cargo lambda watch`) sends the function's
/// timeout as a duration instead (600000), which read as a time lies in 1970.
/// No real deadline lies before 2001, so such a value is taken as a duration
/// from `now`.
pub fn effective_deadline(deadline: SystemTime, now: SystemTime) -> SystemTime {
    const NO_REAL_DEADLINE_BEFORE: Duration = Duration::from_secs(978_307_200);
    match deadline.duration_since(std::time::UNIX_EPOCH) {
        Ok(since_epoch) if since_epoch < NO_REAL_DEADLINE_BEFORE => {
            warn!(
                timeout_ms = since_epoch.as_millis(),
                "the runtime sent a duration as the deadline (a local runtime); counting it from now"
            );
            now + since_epoch
        }
        _ => deadline,
    }
}

/// Time left after the answer is sent, to return to the runtime.
const ANSWER_MARGIN: Duration = Duration::from_millis(500);

/// When the work must stop and the answer must be out: the earlier of
/// Lambda's deadline and the invocation's start plus the resource's
/// `ServiceTimeout` (after which CloudFormation gives up waiting), less the
/// margin the answer needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Budget {
    pub work_until: Instant,
    pub answer_until: Instant,
    /// Which limit binds, for the Reason and logs.
    pub limit: &'static str,
}

impl Budget {
    pub(crate) fn new(
        start: Instant,
        lambda_remaining: Duration,
        service_timeout: Option<Duration>,
    ) -> Self {
        let (window, limit) = match service_timeout {
            Some(t) if t < lambda_remaining => (t, "within the resource's ServiceTimeout"),
            _ => (lambda_remaining, "within the function's timeout"),
        };
        Budget {
            work_until: start + window.saturating_sub(DEADLINE_MARGIN),
            answer_until: start + window.saturating_sub(ANSWER_MARGIN),
            limit,
        }
    }
}

/// The physical id to send when the work did not produce one. On Update
/// and Delete the current id, never one the aborted work may have decided:
/// after a FAILED answer the stack keeps the resource it has. On Create the
/// id the reading gave a new setup (`Event::new_physical_id`, the one the
/// plan uses), so that the rollback Delete finds whatever was made before
/// the failure; none when the request was never read, since then nothing was
/// made (the answer names it after the request id).
fn fallback_id(request: &Request, new_physical_id: Option<&str>) -> String {
    match (&request.physical_resource_id, request.kind) {
        (Some(id), RequestKind::Update | RequestKind::Delete) => id.clone(),
        _ => new_physical_id.unwrap_or_default().to_string(),
    }
}
