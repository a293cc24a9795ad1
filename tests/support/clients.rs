//! Clients for the handler under test: its credentials, the production
//! retry count with test-sized backoff and timeouts, a retry quota of its own.

use super::{REGION, deployment};
use std::time::Duration;

use aws_config::Region;
use aws_sdk_iam::config::Credentials;
use bedrock_setup::parts::Clients;

/// The handler's credentials in every test.
pub fn handler_credentials() -> Credentials {
    Credentials::new(
        deployment().handler_access_key.clone(),
        deployment().handler_secret_key.clone(),
        None,
        None,
        "test",
    )
}

/// The function's HTTP client (`bedrock_setup::http::client`), as `main`
/// builds it: the SDK's calls and the answers go through it.
pub fn http_client() -> reqwest::Client {
    bedrock_setup::http::client().expect("the HTTP client builds")
}

/// The per-attempt timeout of `fast_retry_clients` (production: 20 s).
pub const TEST_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);

/// The handler's clients with the production retry count but millisecond
/// backoff and a short per-attempt timeout, so that hundreds of fault
/// scenarios, slow answers among them, finish in minutes while running the
/// same timeout and retry path as in production.
pub async fn fast_retry_clients(endpoint: &str) -> Clients {
    let config = bedrock_setup::parts::sdk_config_loader(http_client())
        .retry_config(
            aws_config::retry::RetryConfig::standard()
                .with_max_attempts(4)
                .with_initial_backoff(Duration::from_millis(5))
                .with_max_backoff(Duration::from_millis(40)),
        )
        .timeout_config(
            // No connect timeout: the function's HTTP client has its own
            // (bedrock_setup::http::CONNECT_TIMEOUT), whatever is set here.
            aws_config::timeout::TimeoutConfig::builder()
                .operation_attempt_timeout(TEST_ATTEMPT_TIMEOUT)
                .operation_timeout(Duration::from_secs(15))
                .build(),
        )
        .endpoint_url(endpoint)
        .region(Region::new(REGION))
        .credentials_provider(handler_credentials())
        .load()
        .await;
    with_own_retry_quota(&Clients::from_sdk_config(&config, true))
}

/// The same clients with a retry quota of their own. The SDK keeps one
/// retry token bucket per partition (by default the service) for the whole
/// process. A Lambda process runs one handler; a test binary runs many at
/// once, each against its own emulator, and without this the timeouts of
/// one (all emulators start together, and are slow together) spend the
/// retries of all: a clean run then fails on its first timeout.
pub fn with_own_retry_quota(c: &Clients) -> Clients {
    use aws_smithy_runtime::client::retries::RetryPartition;
    static HANDLERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = HANDLERS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    macro_rules! own_quota {
        ($sdk:ident, $client:expr, $service:literal) => {
            $sdk::Client::from_conf(
                $client
                    .config()
                    .to_builder()
                    .retry_partition(RetryPartition::new(format!(
                        "{}-handler-under-test-{n}",
                        $service
                    )))
                    .build(),
            )
        };
    }
    Clients {
        iam: own_quota!(aws_sdk_iam, c.iam, "iam"),
        ec2: own_quota!(aws_sdk_ec2, c.ec2, "ec2"),
        s3: own_quota!(aws_sdk_s3, c.s3, "s3"),
        bedrock: own_quota!(aws_sdk_bedrock, c.bedrock, "bedrock"),
        kms: own_quota!(aws_sdk_kms, c.kms, "kms"),
        ssm: own_quota!(aws_sdk_ssm, c.ssm, "ssm"),
        lambda: own_quota!(aws_sdk_lambda, c.lambda, "lambda"),
    }
}
