//! Sending the answer: an HTTP PUT of the response body to the ResponseURL,
//! with no Content-Type (the URL is signed without one), retried with
//! backoff on connection errors and 5xx until a deadline.

use std::time::Duration;

use thiserror::Error;
use tokio::time::Instant;
use tracing::{info, warn};

use super::Request;
use super::response::{Outcome, body};
use crate::model::SignalUrl;

/// Why an answer did not reach CloudFormation.
#[derive(Debug, Error)]
pub enum AnswerError {
    /// The message never contains the URL: reqwest's errors are stripped of
    /// it before they are formatted.
    #[error("could not deliver the answer to CloudFormation after {attempts} attempts: {last}")]
    Undelivered {
        /// How many times the PUT was tried.
        attempts: u32,
        /// The last attempt's error.
        last: String,
    },
}

/// How long one PUT may take, connecting included (the client's connect
/// timeout is shorter): a pre-signed URL answers quickly or not at all.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends answers to CloudFormation's ResponseURL.
#[derive(Clone, Debug)]
pub struct Answerer {
    http: reqwest::Client,
    first_backoff: Duration,
    max_attempts: u32,
}

impl Answerer {
    /// An answerer sending with `http` (`crate::http::client`, the client
    /// the SDK's calls also use).
    pub fn new(http: reqwest::Client) -> Self {
        Answerer {
            http,
            first_backoff: Duration::from_millis(250),
            max_attempts: 8,
        }
    }

    /// Sends the answer, giving up at `deadline`.
    pub async fn answer(
        &self,
        request: &Request,
        outcome: &Outcome,
        deadline: Instant,
    ) -> Result<(), AnswerError> {
        let payload = body(request, outcome);
        self.put(request.response_url.expose(), payload, deadline)
            .await
    }

    /// Signals a WaitConditionHandle (the job's end), giving up at
    /// `deadline`: the same PUT as an answer, to another pre-signed URL.
    pub async fn signal(
        &self,
        url: &SignalUrl,
        payload: String,
        deadline: Instant,
    ) -> Result<(), AnswerError> {
        self.put(url.expose(), payload, deadline).await
    }

    /// PUTs `payload` to a pre-signed `url` (never logged).
    async fn put(&self, url: &str, payload: String, deadline: Instant) -> Result<(), AnswerError> {
        let mut backoff = self.first_backoff;
        let mut attempts = 0;
        let mut last = String::from("no attempt was made before the deadline");
        while attempts < self.max_attempts && Instant::now() < deadline {
            attempts += 1;
            let sent = self
                .http
                .put(url)
                .timeout(ATTEMPT_TIMEOUT)
                .header(reqwest::header::CONTENT_LENGTH, payload.len())
                .body(payload.clone())
                .send();
            // An attempt that hangs is cut off at the deadline, not at the
            // client's timeout: past the deadline Lambda stops the function
            // before it can report, or the rest of a sweep is lost.
            let Ok(sent) = tokio::time::timeout_at(deadline, sent).await else {
                last = String::from("no answer before the deadline");
                break;
            };
            match sent {
                Ok(resp) if resp.status().is_success() => {
                    info!(
                        attempts,
                        status = resp.status().as_u16(),
                        "answer delivered"
                    );
                    return Ok(());
                }
                Ok(resp) if resp.status().is_server_error() => {
                    last = format!("HTTP {}", resp.status().as_u16());
                }
                Ok(resp) => {
                    // 4xx: the URL expired or the body was refused; trying
                    // again sends the same thing to the same answer.
                    return Err(AnswerError::Undelivered {
                        attempts,
                        last: format!("HTTP {}", resp.status().as_u16()),
                    });
                }
                Err(e) => last = e.without_url().to_string(),
            }
            warn!(attempts, error = %last, "answer not delivered, retrying");
            let now = Instant::now();
            if now + backoff >= deadline {
                break;
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(4));
        }
        Err(AnswerError::Undelivered { attempts, last })
    }
}
