//! The Lambda entry point: builds the clients once and hands events to the
//! handler. Everything else lives in the library.

use std::sync::Arc;
use std::time::Duration;

use bedrock_setup::cfn::Answerer;
use bedrock_setup::handler::Handler;
use bedrock_setup::lifecycle::Settings;
use bedrock_setup::parts::{AssumeRoleRetry, Clients, sdk_config_loader};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;
use tokio::sync::OnceCell;

// One thread: the handler's work is waiting on AWS, and at the memory sizes a
// custom resource gets Lambda gives less than one vCPU. Not spawning worker
// threads (stacks, malloc arenas) brings the first poll from 1.3x to 1.1x a
// bare multi-threaded runtime's (`make bench`). Nothing in the handler
// blocks the thread.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_ansi(false)
        .without_time()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();

    // The SDK configuration, the clients and the TLS set-up are built on the
    // first event, not before the first poll: init lasts until that poll, and
    // work racing it on a fraction of a vCPU only delays it. On a cold start
    // the event is already waiting, so building after the poll costs the same.
    // A failed build is tried again on the next event.
    let handler = Arc::new(OnceCell::<Handler>::new());
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let handler = handler.clone();
        async move {
            let handler = handler
                .get_or_try_init(build_handler)
                .await
                .map_err(Error::from)?;
            handler
                .handle(event.payload, event.context.deadline())
                .await
                .map_err(Error::from)
        }
    }))
    .await
}

async fn build_handler() -> Result<Handler, String> {
    // One HTTP client for the SDK's calls and the answers: one trust store.
    let http = bedrock_setup::http::client()
        .map_err(|e| format!("building the HTTP client failed: {e}"))?;
    let config = sdk_config_loader(http.clone()).load().await;
    let force_path_style =
        std::env::var("S3_FORCE_PATH_STYLE").is_ok_and(|v| v.eq_ignore_ascii_case("true"));
    let clients = Clients::from_sdk_config(&config, force_path_style);
    let mut settings = Settings {
        assume_role_retry: assume_role_retry_from_env(),
        ..Settings::default()
    };
    // The template passes its RolePath: the path its grants cover.
    if let Ok(path) = std::env::var("MANAGED_ROLE_PATH")
        && !path.is_empty()
    {
        settings.managed_role_path = path;
    }
    // The stack's own key for pending completion signals.
    settings.signal_key_id = std::env::var("SIGNAL_KEY_ID")
        .ok()
        .filter(|k| !k.is_empty());
    Ok(Handler::new(clients, settings, Answerer::new(http)))
}

/// `ASSUME_ROLE_RETRY_SECONDS` shortens IAM-propagation retries for tests.
fn assume_role_retry_from_env() -> AssumeRoleRetry {
    let default = AssumeRoleRetry::default();
    match std::env::var("ASSUME_ROLE_RETRY_SECONDS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    {
        Some(secs) => AssumeRoleRetry {
            total: Duration::from_secs(secs),
            ..default
        },
        None => default,
    }
}
