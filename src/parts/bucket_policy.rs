//! Our statement in the output bucket's policy. Bucket policies are written
//! whole, with no precondition, so a write is verified by reading it back
//! and retried when another writer got in between.

use std::time::Duration;

use tokio::time::Instant;

use aws_sdk_s3::Client;
use aws_sdk_s3::error::ProvideErrorMetadata;
use serde_json::Value;

use super::{PartError, aws_error};
use crate::policy::bucket::{
    AfterRemoval, contains_statement, has_sid, merge_statement, remove_statement,
};

const ATTEMPTS: u32 = 6;

/// A bucket's policy as read: `None` when it has none.
#[derive(Debug, Clone)]
pub(crate) struct ReadPolicy(pub(crate) Option<String>);

/// The bucket's policy, `None` when it has none.
pub(crate) async fn read(s3: &Client, bucket: &str) -> Result<Option<String>, PartError> {
    read_policy(s3, bucket, false).await
}

/// Like `read`, but a bucket that is gone reads as one without a policy.
async fn read_unless_gone(s3: &Client, bucket: &str) -> Result<Option<String>, PartError> {
    read_policy(s3, bucket, true).await
}

async fn read_policy(
    s3: &Client,
    bucket: &str,
    gone_is_empty: bool,
) -> Result<Option<String>, PartError> {
    match s3.get_bucket_policy().bucket(bucket).send().await {
        Ok(out) => Ok(out.policy),
        Err(e) if e.code() == Some("NoSuchBucketPolicy") => Ok(None),
        Err(e) if e.code() == Some("NoSuchBucket") && gone_is_empty => Ok(None),
        Err(e) if e.code() == Some("NoSuchBucket") => Err(PartError::MissingBucket {
            bucket: bucket.to_string(),
        }),
        // The handler stack names the buckets it may edit; a bucket outside
        // them is refused by IAM before anything is read or changed.
        Err(e) if e.code() == Some("AccessDenied") => Err(PartError::input(
            "OutputDataUri",
            format!("the handler may not read the policy of bucket '{bucket}' (AccessDenied)"),
            "a bucket the handler stack's OutputBucketPattern covers, whose own policy does not deny the handler",
        )),
        Err(e) => Err(aws_error("s3:GetBucketPolicy", e)),
    }
}

/// A short pause that differs between concurrent writers, so two setups
/// retrying on one bucket do not collide again in lockstep.
fn pause(attempt: u32, sid: &str) -> Duration {
    let spread = sid
        .bytes()
        .fold(0u64, |a, b| a.wrapping_mul(31).wrapping_add(b as u64))
        % 97;
    Duration::from_millis(60 * u64::from(attempt) + spread)
}

/// Confirms that a write held: at once, and again after the time another
/// handler's read-modify-write (about as long as ours) could take to land a
/// stale policy on top of ours.
async fn confirmed(
    s3: &Client,
    bucket: &str,
    read_modify_write: Duration,
    holds: impl Fn(Option<&str>) -> bool,
) -> Result<bool, PartError> {
    let settle = (read_modify_write * 2).max(Duration::from_millis(50));
    for wait in [Duration::ZERO, settle] {
        tokio::time::sleep(wait).await;
        if !holds(read_unless_gone(s3, bucket).await?.as_deref()) {
            return Ok(false);
        }
    }
    Ok(true)
}

async fn write(s3: &Client, bucket: &str, policy: Option<String>) -> Result<(), PartError> {
    match policy {
        Some(p) => s3
            .put_bucket_policy()
            .bucket(bucket)
            .policy(p)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_error("s3:PutBucketPolicy", e)),
        None => s3
            .delete_bucket_policy()
            .bucket(bucket)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_error("s3:DeleteBucketPolicy", e)),
    }
}

/// Puts `statement` (identified by its Sid) into the bucket's policy,
/// keeping every other statement.
pub(crate) async fn ensure_statement(
    s3: &Client,
    bucket: &str,
    statement: &Value,
    // The policy as the observe phase read it, saving the first read.
    observed: Option<ReadPolicy>,
) -> Result<(), PartError> {
    let sid = statement
        .get("Sid")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut observed = observed.map(|ReadPolicy(p)| p);
    for attempt in 1..=ATTEMPTS {
        let started = Instant::now();
        let existing = match observed.take() {
            Some(known) => known,
            None => read(s3, bucket).await?,
        };
        if existing
            .as_deref()
            .is_some_and(|p| contains_statement(p, statement))
        {
            return Ok(());
        }
        let merged = merge_statement(existing.as_deref(), statement).map_err(|e| {
            PartError::input(
                "RestrictOutputBucketToVpc",
                format!("the policy of bucket '{bucket}' cannot take our statement: {e}"),
                "a bucket whose policy is a valid policy document",
            )
        })?;
        write(s3, bucket, Some(merged)).await?;
        let holds = |p: Option<&str>| p.is_some_and(|p| contains_statement(p, statement));
        if confirmed(s3, bucket, started.elapsed(), holds).await? {
            return Ok(());
        }
        tokio::time::sleep(pause(attempt, sid)).await;
    }
    Err(PartError::BucketContention {
        bucket: bucket.to_string(),
        what: format!("our statement could not be confirmed after {ATTEMPTS} attempts"),
    })
}

/// Removes our statement; deletes the policy only when nothing else is left.
/// Returns whether a statement was removed.
pub(crate) async fn remove_statement_by_sid(
    s3: &Client,
    bucket: &str,
    sid: &str,
) -> Result<bool, PartError> {
    let mut removed = false;
    for attempt in 1..=ATTEMPTS {
        let started = Instant::now();
        let Some(existing) = read_unless_gone(s3, bucket).await? else {
            return Ok(removed);
        };
        let after = remove_statement(&existing, sid).map_err(|e| {
            PartError::input(
                "OutputDataUri",
                format!("the policy of bucket '{bucket}' cannot be read: {e}"),
                "a bucket whose policy is a valid policy document",
            )
        })?;
        match after {
            AfterRemoval::Unchanged => return Ok(removed),
            AfterRemoval::Remaining(policy) => write(s3, bucket, Some(policy)).await?,
            AfterRemoval::Empty => write(s3, bucket, None).await?,
        }
        removed = true;
        let holds = |p: Option<&str>| !p.is_some_and(|p| has_sid(p, sid));
        if confirmed(s3, bucket, started.elapsed(), holds).await? {
            return Ok(true);
        }
        tokio::time::sleep(pause(attempt, sid)).await;
    }
    Err(PartError::BucketContention {
        bucket: bucket.to_string(),
        what: format!("our statement '{sid}' could not be confirmed removed"),
    })
}
