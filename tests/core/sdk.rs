//! The SDK's behaviour is set on purpose, on every client: bounded retries
//! and timeouts, so no call can outlive the handler's deadline guard.

use std::time::Duration;

use aws_config::Region;
use aws_config::retry::RetryMode;
use aws_sdk_iam::config::Credentials;
use bedrock_setup::parts::{Clients, sdk_config_loader};

#[tokio::test]
async fn every_client_has_bounded_retries_and_timeouts() {
    let config = sdk_config_loader()
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
