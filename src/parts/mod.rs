//! The AWS calls, one small module per owned part. Each operation looks up
//! what exists (by name and by our owner tag) before it changes anything, so
//! running it twice does no harm; a part without our tag is never changed.

pub mod bucket_policy;
pub mod endpoint;
pub mod job;
pub mod network;
pub mod preflight;
pub mod role;

use std::error::Error as StdError;

use aws_sdk_iam::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use thiserror::Error;

use crate::model::{OWNER_TAG_KEY, Tag};

/// The service clients, built once per process.
#[derive(Clone, Debug)]
pub struct Clients {
    pub iam: aws_sdk_iam::Client,
    pub ec2: aws_sdk_ec2::Client,
    pub s3: aws_sdk_s3::Client,
    pub bedrock: aws_sdk_bedrock::Client,
    /// Pre-flight checks of the keys only (DescribeKey).
    pub kms: aws_sdk_kms::Client,
}

#[derive(Debug, Error)]
pub enum PartError {
    /// A part with our name exists but carries another owner (or none).
    #[error("{what} already exists and is not owned by this resource{owner}; {advice}")]
    NotOurs {
        what: String,
        owner: String,
        advice: String,
    },
    /// The stack's inputs do not fit what exists in the account.
    #[error("{0}")]
    Conflict(String),
    /// An AWS call failed.
    #[error("{operation} failed: {message}")]
    Aws {
        operation: &'static str,
        message: String,
        /// The service's error code, where it sent one.
        code: Option<String>,
    },
}

impl PartError {
    pub fn not_ours(
        what: impl Into<String>,
        owner: Option<&str>,
        advice: impl Into<String>,
    ) -> Self {
        PartError::NotOurs {
            what: what.into(),
            owner: owner
                .map(|o| format!(" (it belongs to setup '{o}')"))
                .unwrap_or_default(),
            advice: advice.into(),
        }
    }
}

/// Turns an SDK error into ours, keeping the service's code and message.
pub fn aws_error<E>(operation: &'static str, err: SdkError<E>) -> PartError
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    let code = err.code().map(str::to_string);
    let message = match (err.code(), err.message()) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => c.to_string(),
        _ => DisplayErrorContext(&err).to_string(),
    };
    PartError::Aws {
        operation,
        message,
        code,
    }
}

/// An EC2 Describe* filter.
pub(crate) fn ec2_filter(
    name: &str,
    values: impl IntoIterator<Item = String>,
) -> aws_sdk_ec2::types::Filter {
    aws_sdk_ec2::types::Filter::builder()
        .name(name)
        .set_values(Some(values.into_iter().collect()))
        .build()
}

/// The tags every part gets: the user's, plus our owner tag.
pub fn owned_tags(user: &[Tag], physical_id: &str) -> Vec<(String, String)> {
    let mut tags: Vec<(String, String)> = user
        .iter()
        .map(|t| (t.key.clone(), t.value.clone()))
        .collect();
    tags.push((OWNER_TAG_KEY.to_string(), physical_id.to_string()));
    tags
}

/// Keys present now that the desired set no longer has. `aws:` keys belong
/// to AWS; the orphan marker is cleared only once its orphan is gone.
pub fn stale_tag_keys<'a>(
    current: impl IntoIterator<Item = &'a str>,
    desired: &[(String, String)],
) -> Vec<String> {
    current
        .into_iter()
        .filter(|k| {
            !k.starts_with("aws:")
                && *k != crate::model::ORPHAN_TAG_KEY
                && !desired.iter().any(|(d, _)| d == k)
        })
        .map(str::to_string)
        .collect()
}

/// The SDK configuration every client shares: bounded retries and timeouts
/// on every call, so that no AWS call can outlive the deadline guard.
pub fn sdk_config_loader() -> aws_config::ConfigLoader {
    use aws_config::retry::RetryConfig;
    use aws_config::timeout::TimeoutConfig;
    use std::time::Duration;
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(4))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .operation_attempt_timeout(Duration::from_secs(20))
                .operation_timeout(Duration::from_secs(60))
                .build(),
        )
}

impl Clients {
    /// One client per service from one shared configuration. S3 needs
    /// path-style addressing only when pointed at an emulator.
    pub fn from_sdk_config(config: &aws_config::SdkConfig, s3_force_path_style: bool) -> Self {
        let s3_conf = aws_sdk_s3::config::Builder::from(config)
            .force_path_style(s3_force_path_style)
            .build();
        Clients {
            iam: aws_sdk_iam::Client::new(config),
            ec2: aws_sdk_ec2::Client::new(config),
            s3: aws_sdk_s3::Client::from_conf(s3_conf),
            bedrock: aws_sdk_bedrock::Client::new(config),
            kms: aws_sdk_kms::Client::new(config),
        }
    }
}
