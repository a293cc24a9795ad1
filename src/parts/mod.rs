//! The AWS calls, one small module per owned part. Each operation looks up
//! what exists (by name and by our owner tag) before it changes anything, so
//! running it twice does no harm; a part without our tag is never changed.

pub(crate) mod bucket_policy;
pub(crate) mod deployment;
pub(crate) mod endpoint;
pub(crate) mod job;
pub(crate) mod network;
pub(crate) mod preflight;
pub(crate) mod role;
pub(crate) mod teacher;

pub use endpoint::s3_gateway_service;
pub use job::AssumeRoleRetry;

use std::error::Error as StdError;

use aws_sdk_iam::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use thiserror::Error;

use crate::model::error::plural;
use crate::model::{OWNER_TAG_KEY, PropertyError};

/// The service clients, built once per process.
#[derive(Clone, Debug)]
pub struct Clients {
    /// IAM: the service role.
    pub iam: aws_sdk_iam::Client,
    /// EC2: the VPC lookups and the endpoint.
    pub ec2: aws_sdk_ec2::Client,
    /// S3: the output bucket's policy and the data checks.
    pub s3: aws_sdk_s3::Client,
    /// Bedrock: the job and the model.
    pub bedrock: aws_sdk_bedrock::Client,
    /// Pre-flight checks of the keys only (DescribeKey).
    pub kms: aws_sdk_kms::Client,
    /// SSM Parameter Store: the pending completion signals.
    pub ssm: aws_sdk_ssm::Client,
    /// Pre-flight checks of a reinforcement fine-tuning grader only
    /// (GetFunction).
    pub lambda: aws_sdk_lambda::Client,
}

/// What went wrong in an AWS part, shaped so that callers act on the kind,
/// never on the text.
#[derive(Debug, Error)]
pub(crate) enum PartError {
    /// A part with our name exists but carries another owner (or none).
    #[error("{what} already exists and is not owned by this resource{owner}; {advice}")]
    NotOurs {
        what: String,
        owner: String,
        advice: String,
    },
    /// A user input AWS showed to be wrong (a subnet that does not exist, a
    /// route table served by someone else's endpoint): worded like a
    /// validation error, naming the property.
    #[error("{0}")]
    Input(PropertyError),
    /// The pre-flight checks found inputs that would doom the setup.
    #[error("pre-flight check{} failed: {}", plural(.0.len(), "", "s"), listed(.0))]
    Preflight(Vec<PropertyError>),
    /// The output bucket does not exist.
    #[error(
        "OutputDataUri: bucket '{bucket}' does not exist (allowed: an existing bucket; this resource does not create buckets)"
    )]
    MissingBucket { bucket: String },
    /// Concurrent writers kept the bucket policy changing: our statement
    /// could not be confirmed.
    #[error("the policy of bucket '{bucket}' kept changing under concurrent writers; {what}")]
    BucketContention { bucket: String, what: String },
    /// An AWS call failed.
    #[error("{operation} failed: {message}")]
    Aws {
        operation: &'static str,
        message: String,
        /// The service's error code, where it sent one.
        code: Option<String>,
    },
}

/// IAM's refusal, as each service names it.
pub(crate) fn denied(code: Option<&str>) -> bool {
    matches!(code, Some("AccessDenied" | "AccessDeniedException"))
}

fn listed(errors: &[PropertyError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl PartError {
    /// IAM refused the call.
    pub(crate) fn is_access_denied(&self) -> bool {
        matches!(self, PartError::Aws { code, .. } if denied(code.as_deref()))
    }

    /// An input AWS showed to be wrong, as a validation error would name it.
    pub(crate) fn input(
        property: impl Into<String>,
        problem: impl Into<String>,
        allowed: impl Into<String>,
    ) -> Self {
        PartError::Input(PropertyError {
            property: property.into(),
            problem: problem.into(),
            allowed: allowed.into(),
        })
    }

    /// An AWS error with what the handler knows of its cause after the
    /// service's message; any other error as it is.
    pub(crate) fn explained(mut self, why: &str) -> Self {
        if let PartError::Aws { message, .. } = &mut self {
            message.push_str(&format!(" ({why})"));
        }
        self
    }

    /// A request the SDK could not build (a value outside its constraints).
    pub(crate) fn unbuildable(operation: &'static str, err: impl std::fmt::Display) -> Self {
        PartError::Aws {
            operation,
            message: format!("the request could not be built: {err}"),
            code: None,
        }
    }

    /// A part under our name that is not ours.
    pub(crate) fn not_ours(
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

/// What a teardown did to one part; each part's note in the Reason is worded
/// from it (`lifecycle`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Removal {
    /// Removed (a job: stopped).
    Done,
    /// Nothing under the name.
    NotFound,
    /// Under our name but not ours: left alone.
    NotOurs,
    /// Ours, and left in place (a finished job; a model the flags keep).
    Kept,
}

/// Sends a request whose "not found" answer means "absent": `Ok(None)` then,
/// the service's own typed error deciding which answer that is.
pub(crate) async fn unless_not_found<T, E>(
    operation: &'static str,
    sent: impl Future<Output = Result<T, SdkError<E>>>,
    not_found: impl FnOnce(&E) -> bool,
) -> Result<Option<T>, PartError>
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    match sent.await {
        Ok(out) => Ok(Some(out)),
        Err(e) if e.as_service_error().is_some_and(not_found) => Ok(None),
        Err(e) => Err(aws_error(operation, e)),
    }
}

/// Sends a delete whose "not found" answer means "already gone".
pub(crate) async fn removal<T, E>(
    operation: &'static str,
    sent: impl Future<Output = Result<T, SdkError<E>>>,
    not_found: impl FnOnce(&E) -> bool,
) -> Result<Removal, PartError>
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    let deleted = unless_not_found(operation, sent, not_found).await?;
    Ok(deleted.map_or(Removal::NotFound, |_| Removal::Done))
}

/// `removal` for a delete our permissions allow only on a resource carrying
/// our tag. When an attempt's answer is lost after the delete took effect,
/// the SDK's retry finds no resource and so no tag, and IAM refuses it; the
/// resource is looked up again (`still_there`) before that refusal is
/// reported, and its absence is the delete's success.
pub(crate) async fn tag_scoped_removal<T, E>(
    operation: &'static str,
    sent: impl Future<Output = Result<T, SdkError<E>>>,
    not_found: impl FnOnce(&E) -> bool,
    still_there: impl Future<Output = Result<bool, PartError>>,
) -> Result<Removal, PartError>
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    match removal(operation, sent, not_found).await {
        Err(e) if e.is_access_denied() => {
            if still_there.await? {
                Err(e)
            } else {
                Ok(Removal::Done)
            }
        }
        other => other,
    }
}

/// Our owner tag's value among a part's tags, whatever the service's tag
/// type: role, endpoint, job and model alike.
pub(crate) fn owner_in<'a>(tags: impl IntoIterator<Item = (&'a str, &'a str)>) -> Option<&'a str> {
    tags.into_iter()
        .find(|(k, _)| *k == OWNER_TAG_KEY)
        .map(|(_, v)| v)
}

/// Turns an SDK error into ours, keeping the service's code and message.
pub(crate) fn aws_error<E>(operation: &'static str, err: SdkError<E>) -> PartError
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    let code = err.code().map(str::to_string);
    let message = match (err.code(), err.message()) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => c.to_string(),
        _ => DisplayErrorContext(err).to_string(),
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

/// The SDK configuration every client shares: its calls sent with `http`
/// (the function's one client, `crate::http`), bounded retries and timeouts
/// on every call, so that no AWS call can outlive the deadline guard.
pub fn sdk_config_loader(http: reqwest::Client) -> aws_config::ConfigLoader {
    use aws_config::retry::RetryConfig;
    use aws_config::timeout::TimeoutConfig;
    use std::time::Duration;
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(crate::http::SdkTransport::shared(http))
        .retry_config(RetryConfig::standard().with_max_attempts(4))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(crate::http::CONNECT_TIMEOUT)
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
            ssm: aws_sdk_ssm::Client::new(config),
            lambda: aws_sdk_lambda::Client::new(config),
        }
    }
}
