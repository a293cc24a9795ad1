//! The SDK's behaviour is set on purpose, on every client: bounded retries
//! and timeouts, so no call can outlive the handler's deadline guard.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use aws_config::Region;
use aws_config::retry::RetryMode;
use aws_sdk_iam::config::Credentials;
use bedrock_setup::parts::{Clients, sdk_config_loader};

/// The function's HTTP client, as `main` builds it.
fn http_client() -> reqwest::Client {
    bedrock_setup::http::client().expect("the HTTP client builds")
}

#[tokio::test]
async fn every_client_has_bounded_retries_and_timeouts() {
    let config = sdk_config_loader(http_client())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("a", "b", None, None, "test"))
        .load()
        .await;
    let clients = Clients::from_sdk_config(&config, false);
    let retries = [
        clients.iam.config().retry_config().cloned(),
        clients.ec2.config().retry_config().cloned(),
        clients.s3.config().retry_config().cloned(),
        clients.bedrock.config().retry_config().cloned(),
    ];
    let timeouts = [
        clients.iam.config().timeout_config().cloned(),
        clients.ec2.config().timeout_config().cloned(),
        clients.s3.config().timeout_config().cloned(),
        clients.bedrock.config().timeout_config().cloned(),
    ];
    for r in retries {
        let r = r.expect("retry config");
        assert_eq!(r.mode(), RetryMode::Standard);
        assert_eq!(r.max_attempts(), 4);
    }
    for t in timeouts {
        let t = t.expect("timeout config");
        assert_eq!(t.connect_timeout(), Some(Duration::from_secs(3)));
        assert_eq!(t.operation_attempt_timeout(), Some(Duration::from_secs(20)));
        assert_eq!(t.operation_timeout(), Some(Duration::from_secs(60)));
    }
}

/// What a local peer does with each connection it accepts.
#[derive(Clone, Copy)]
enum Peer {
    /// Reads the request's head, then closes without answering.
    Closes,
    /// Reads the request's head and never answers.
    Hangs,
    /// Answers 200 with a body shorter than its Content-Length, then closes.
    CutsTheBody,
}

/// A loopback peer behaving as `peer`; the count is of connections accepted.
async fn peer(peer: Peer) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let _ = conn.read(&mut buf).await;
                match peer {
                    Peer::Closes => {}
                    Peer::Hangs => tokio::time::sleep(Duration::from_secs(60)).await,
                    Peer::CutsTheBody => {
                        let _ = conn
                            .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 500\r\n\r\n<ListRolesResponse>")
                            .await;
                    }
                }
            });
        }
    });
    (url, accepted)
}

/// IAM's client as the handler builds it (the function's HTTP client under
/// the SDK), at `url`, with millisecond backoff and a short read timeout.
async fn iam_at(url: &str) -> aws_sdk_iam::Client {
    let config = sdk_config_loader(http_client())
        .endpoint_url(url)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("a", "b", None, None, "test"))
        .retry_config(
            aws_config::retry::RetryConfig::standard()
                .with_max_attempts(4)
                .with_initial_backoff(Duration::from_millis(1))
                .with_max_backoff(Duration::from_millis(5)),
        )
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .read_timeout(Duration::from_millis(300))
                .operation_timeout(Duration::from_secs(20))
                .build(),
        )
        .load()
        .await;
    aws_sdk_iam::Client::new(&config)
}

#[tokio::test]
async fn every_client_sends_through_the_functions_http_client() {
    let config = sdk_config_loader(http_client())
        .region(Region::new("us-east-1"))
        .load()
        .await;
    let clients = Clients::from_sdk_config(&config, false);
    let transports = [
        format!("{:?}", clients.iam.config().http_client()),
        format!("{:?}", clients.ec2.config().http_client()),
        format!("{:?}", clients.s3.config().http_client()),
        format!("{:?}", clients.bedrock.config().http_client()),
        format!("{:?}", clients.kms.config().http_client()),
        format!("{:?}", clients.lambda.config().http_client()),
        format!("{:?}", clients.ssm.config().http_client()),
    ];
    for t in transports {
        assert!(t.contains("SdkTransport"), "{t}");
    }
}

// The SDK retries what its own client reports as transient; through the
// function's client the same failures must reach it classified the same
// way, or a reset connection would fail a Create on the first try.

type ListRolesFailure =
    aws_sdk_iam::error::SdkError<aws_sdk_iam::operation::list_roles::ListRolesError>;

/// What a ListRoles against a peer behaving as `p` ended in, after the
/// SDK's retries, and how many connections (attempts) it took.
async fn list_roles_against(p: Peer) -> (ListRolesFailure, usize) {
    let (url, accepted) = peer(p).await;
    let err = iam_at(&url)
        .await
        .list_roles()
        .send()
        .await
        .expect_err("the peer never answers in full");
    (err, accepted.load(Ordering::SeqCst))
}

#[tokio::test]
async fn a_connection_closed_before_the_answer_is_retried_as_an_io_error() {
    let (err, attempts) = list_roles_against(Peer::Closes).await;
    assert!(
        matches!(&err, ListRolesFailure::DispatchFailure(f) if f.is_io()),
        "{err:?}"
    );
    assert_eq!(attempts, 4, "every attempt made");
}

#[tokio::test]
async fn an_answer_that_never_comes_is_a_timeout_and_retried() {
    let (err, attempts) = list_roles_against(Peer::Hangs).await;
    assert!(
        matches!(&err, ListRolesFailure::DispatchFailure(f) if f.is_timeout()),
        "{err:?}"
    );
    assert_eq!(attempts, 4, "every attempt made");
}

#[tokio::test]
async fn a_body_cut_off_is_a_response_error_and_retried() {
    let (err, attempts) = list_roles_against(Peer::CutsTheBody).await;
    assert!(
        matches!(&err, ListRolesFailure::ResponseError(_)),
        "{err:?}"
    );
    assert_eq!(attempts, 4, "every attempt made");
}
