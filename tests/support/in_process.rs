//! The handler run in-process, as the bootstrap runs it.

use super::{event_json, fast_settings, lambda};
use std::time::Duration;

use bedrock_setup::parts::Clients;
use serde_json::Value;

/// The handler in-process, answering a local ResponseURL: every event gets
/// its answers counted.
pub struct InProcess {
    pub handler: bedrock_setup::handler::Handler,
    pub receiver: lambda::ResponseReceiver,
    sent: std::sync::atomic::AtomicUsize,
}

impl InProcess {
    pub async fn new(clients: Clients) -> InProcess {
        InProcess::with_settings(clients, fast_settings()).await
    }

    pub async fn with_settings(
        clients: Clients,
        settings: bedrock_setup::lifecycle::Settings,
    ) -> InProcess {
        let answerer = bedrock_setup::cfn::Answerer::new(super::http_client());
        InProcess {
            handler: bedrock_setup::handler::Handler::new(clients, settings, answerer),
            receiver: lambda::ResponseReceiver::start(0).await,
            sent: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// Sends one event; asserts it got exactly one answer and returns it.
    pub async fn send(
        &self,
        kind: &str,
        request_id: &str,
        physical_id: Option<&str>,
        props: &Value,
        old: Option<&Value>,
    ) -> Value {
        self.send_within(
            Duration::from_secs(120),
            (kind, request_id, physical_id),
            props,
            old,
        )
        .await
    }

    /// `send` with the invocation's remaining time: Lambda's deadline is
    /// `remaining` from now.
    pub async fn send_within(
        &self,
        remaining: Duration,
        (kind, request_id, physical_id): (&str, &str, Option<&str>),
        props: &Value,
        old: Option<&Value>,
    ) -> Value {
        let n = self.sent.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let url = self.receiver.url(&format!("e{n}"));
        let ev = event_json(kind, &url, request_id, physical_id, props, old);
        let deadline = std::time::SystemTime::now() + remaining;
        let before = self.receiver.answers().len();
        let result = self.handler.handle(ev, deadline).await;
        assert!(
            result.is_ok(),
            "{kind} {request_id}: the answer was not delivered: {result:?}"
        );
        let answers = self.receiver.answers();
        assert_eq!(
            answers.len(),
            before + 1,
            "{kind} {request_id}: exactly one answer"
        );
        answers[before].json()
    }
}
