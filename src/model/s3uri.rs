//! `s3://bucket/key-or-prefix` locations and the IAM resources they stand for.

use std::fmt;

/// An S3 location as Bedrock takes it: a bucket and an optional key or prefix.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct S3Uri {
    /// The bucket.
    pub bucket: String,
    /// The part after the bucket, without the leading `/`; empty for the
    /// whole bucket.
    pub key: String,
}

/// Bedrock's limit on a data location.
pub(crate) const MAX_S3_URI_LEN: usize = 1024;

impl S3Uri {
    /// Parses and checks an S3 URI; the error says what is wrong with it.
    pub fn parse(value: &str) -> Result<Self, String> {
        if value.len() > MAX_S3_URI_LEN {
            return Err(format!("is {} characters long", value.len()));
        }
        let rest = value
            .strip_prefix("s3://")
            .ok_or_else(|| "does not start with s3://".to_string())?;
        let (bucket, key) = match rest.split_once('/') {
            Some((b, k)) => (b, k),
            None => (rest, ""),
        };
        check_bucket_name(bucket)?;
        if key.starts_with('/') || key.contains("//") {
            return Err("has an empty path segment ('//')".into());
        }
        if key.chars().any(|c| c.is_control()) {
            return Err("contains control characters".into());
        }
        if key.contains('*') || key.contains('?') {
            // Wildcards in the key would turn into IAM wildcards in the
            // generated policies and widen them beyond the given location.
            return Err("contains a wildcard ('*' or '?')".into());
        }
        // Bedrock's own pattern for a data location (its API model):
        // `s3://[a-z0-9][-.a-z0-9]{1,61}[a-z0-9](?:/[-!_*'().a-z0-9A-Z]+)*/?`.
        // A key it refuses would fail the job after the setup was made.
        if let Some(c) = key
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "/-!_'().".contains(*c)))
        {
            return Err(format!(
                "contains {c:?}, which Bedrock does not accept in a data location (allowed in the key: letters, digits and / - ! _ ' ( ) .)"
            ));
        }
        Ok(S3Uri {
            bucket: bucket.to_string(),
            key: key.to_string(),
        })
    }

    /// ARN of the bucket itself (for s3:ListBucket).
    pub(crate) fn bucket_arn(&self, partition: &str) -> String {
        format!("arn:{partition}:s3:::{}", self.bucket)
    }

    /// ARNs of the objects this location covers: the object named by the key
    /// and everything below it as a folder; the whole bucket when no key.
    pub(crate) fn object_arns(&self, partition: &str) -> Vec<String> {
        let base = self.bucket_arn(partition);
        if self.key.is_empty() {
            vec![format!("{base}/*")]
        } else if self.key.ends_with('/') {
            vec![format!("{base}/{}*", self.key)]
        } else {
            vec![
                format!("{base}/{}", self.key),
                format!("{base}/{}/*", self.key),
            ]
        }
    }

    /// Values for the `s3:prefix` condition on ListBucket; `None` when the
    /// whole bucket is meant and no condition applies. For a file, its own
    /// key (and the key as a folder), and the folder it sits in, exactly:
    /// seed 000 scopes the listing "with your folder path", the folder the
    /// data sits in, and the user guide names no narrower listing. The
    /// folder's subfolders stay out (`train/` yes, `train/*` no), and a file
    /// at the bucket's root adds no folder: that would be the whole bucket.
    pub(crate) fn list_prefixes(&self) -> Option<Vec<String>> {
        if self.key.is_empty() {
            None
        } else if self.key.ends_with('/') {
            Some(vec![format!("{}*", self.key)])
        } else {
            let mut prefixes = vec![self.key.clone(), format!("{}/*", self.key)];
            if let Some((folder, _)) = self.key.rsplit_once('/') {
                prefixes.push(format!("{folder}/"));
            }
            Some(prefixes)
        }
    }
}

impl fmt::Display for S3Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "s3://{}", self.bucket)
        } else {
            write!(f, "s3://{}/{}", self.bucket, self.key)
        }
    }
}

/// S3's general-purpose bucket naming rules.
fn check_bucket_name(bucket: &str) -> Result<(), String> {
    if bucket.is_empty() {
        return Err("has no bucket name".into());
    }
    if !(3..=63).contains(&bucket.len()) {
        return Err(format!(
            "has a bucket name of {} characters (3-63 allowed)",
            bucket.len()
        ));
    }
    let ok_chars = bucket
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
    let first = bucket.chars().next().unwrap_or('-');
    let last = bucket.chars().last().unwrap_or('-');
    if !ok_chars || !first.is_ascii_alphanumeric() || !last.is_ascii_alphanumeric() {
        return Err(format!(
            "has an invalid bucket name '{bucket}' (lower-case letters, digits, '.' and '-', starting and ending with a letter or digit)"
        ));
    }
    if bucket.contains("..") {
        return Err(format!("has an invalid bucket name '{bucket}' ('..')"));
    }
    Ok(())
}
