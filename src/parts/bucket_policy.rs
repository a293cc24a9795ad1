//! Our statement in the output bucket's policy. Bucket policies are written
//! whole, with no precondition, so a write is verified by reading it back
//! and retried when another writer got in between.

use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::error::ProvideErrorMetadata;
use serde_json::Value;

use super::{PartError, aws_error};
use crate::policy::bucket::{
    AfterRemoval, contains_statement, has_sid, merge_statement, remove_statement,
};

const ATTEMPTS: u32 = 6;

/// The bucket's policy, `None` when it has none.
pub async fn read(s3: &Client, bucket: &str) -> Result<Option<String>, PartError> {
    match s3.get_bucket_policy().bucket(bucket).send().await {
        Ok(out) => Ok(out.policy),
        Err(e) if e.code() == Some("NoSuchBucketPolicy") => Ok(None),
        Err(e) if e.code() == Some("NoSuchBucket") => Err(PartError::Conflict(format!(
            "OutputDataUri: bucket '{bucket}' does not exist (allowed: an existing bucket; this resource does not create buckets)"
        ))),
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

/// Puts `statement` (identified by its Sid) into the bucket's policy,
/// keeping every other statement.
pub async fn ensure_statement(
    s3: &Client,
    bucket: &str,
    statement: &Value,
    // The policy as the observe phase read it, saving the first read.
    observed: Option<Option<String>>,
) -> Result<(), PartError> {
    let sid = statement
        .get("Sid")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut observed = observed;
    for attempt in 1..=ATTEMPTS {
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
            PartError::Conflict(format!("RestrictOutputBucketToVpc: bucket '{bucket}': {e}"))
        })?;
        s3.put_bucket_policy()
            .bucket(bucket)
            .policy(merged)
            .send()
            .await
            .map_err(|e| aws_error("s3:PutBucketPolicy", e))?;
        if read(s3, bucket)
            .await?
            .as_deref()
            .is_some_and(|p| contains_statement(p, statement))
        {
            return Ok(());
        }
        tokio::time::sleep(pause(attempt, sid)).await;
    }
    Err(PartError::Conflict(format!(
        "RestrictOutputBucketToVpc: the policy of bucket '{bucket}' kept changing under concurrent writers; our statement could not be confirmed after {ATTEMPTS} attempts"
    )))
}

/// Removes our statement; deletes the policy only when nothing else is left.
/// Returns whether a statement was removed.
pub async fn remove_statement_by_sid(
    s3: &Client,
    bucket: &str,
    sid: &str,
) -> Result<bool, PartError> {
    let mut removed = false;
    for attempt in 1..=ATTEMPTS {
        let existing = match read(s3, bucket).await {
            Ok(Some(p)) => p,
            Ok(None) => return Ok(removed),
            // A bucket that is gone holds no statement of ours.
            Err(PartError::Conflict(_)) => return Ok(removed),
            Err(e) => return Err(e),
        };
        let after = remove_statement(&existing, sid)
            .map_err(|e| PartError::Conflict(format!("bucket '{bucket}': {e}")))?;
        match after {
            AfterRemoval::Unchanged => return Ok(removed),
            AfterRemoval::Remaining(policy) => {
                s3.put_bucket_policy()
                    .bucket(bucket)
                    .policy(policy)
                    .send()
                    .await
                    .map_err(|e| aws_error("s3:PutBucketPolicy", e))?;
            }
            AfterRemoval::Empty => {
                s3.delete_bucket_policy()
                    .bucket(bucket)
                    .send()
                    .await
                    .map_err(|e| aws_error("s3:DeleteBucketPolicy", e))?;
            }
        }
        removed = true;
        match read(s3, bucket).await {
            Ok(Some(p)) if has_sid(&p, sid) => tokio::time::sleep(pause(attempt, sid)).await,
            Ok(_) | Err(PartError::Conflict(_)) => return Ok(true),
            Err(e) => return Err(e),
        }
    }
    Err(PartError::Conflict(format!(
        "the policy of bucket '{bucket}' kept changing under concurrent writers; our statement '{sid}' could not be confirmed removed"
    )))
}
