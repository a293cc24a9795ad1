//! The role's S3 permissions (seed 000), narrowed to the given prefixes:
//! read on training and validation data, read and write on the output.

use serde_json::{Value, json};

use super::{document, unique};
use crate::model::{S3Uri, SetupProperties};

/// The service role's S3 policy (seed 000): read on the training and validation data, read and write on the output, prefix-scoped.
pub fn s3_access_policy(props: &SetupProperties, partition: &str) -> Value {
    let read: Vec<&S3Uri> = std::iter::once(props.training_data.location())
        .chain(props.validation_data.iter())
        .collect();
    let mut statements = vec![json!({
        "Sid": "ReadTrainingAndValidationData",
        "Effect": "Allow",
        "Action": ["s3:GetObject"],
        "Resource": unique(read.iter().flat_map(|u| u.object_arns(partition))),
    })];
    statements.extend(list_statements(
        "ListTrainingAndValidationData",
        &read,
        partition,
    ));
    statements.push(json!({
        "Sid": "ReadWriteOutputData",
        "Effect": "Allow",
        "Action": ["s3:GetObject", "s3:PutObject"],
        "Resource": props.output_data.object_arns(partition),
    }));
    statements.extend(list_statements(
        "ListOutputData",
        &[&props.output_data],
        partition,
    ));
    document(statements)
}

/// s3:ListBucket per bucket, with an `s3:prefix` condition unless a whole
/// bucket is given (then listing it all is what was asked for).
fn list_statements(sid: &str, uris: &[&S3Uri], partition: &str) -> Vec<Value> {
    let buckets = unique(uris.iter().map(|u| u.bucket.clone()));
    let whole: Vec<String> = buckets
        .iter()
        .filter(|b| uris.iter().any(|u| &u.bucket == *b && u.key.is_empty()))
        .cloned()
        .collect();
    let mut out = Vec::new();
    if !whole.is_empty() {
        out.push(json!({
            "Sid": format!("{sid}WholeBuckets"),
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": whole.iter().map(|b| format!("arn:{partition}:s3:::{b}")).collect::<Vec<_>>(),
        }));
    }
    for (i, bucket) in buckets.iter().filter(|b| !whole.contains(b)).enumerate() {
        let prefixes = unique(
            uris.iter()
                .filter(|u| &u.bucket == bucket)
                .filter_map(|u| u.list_prefixes())
                .flatten(),
        );
        out.push(json!({
            "Sid": format!("{sid}{i}"),
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": format!("arn:{partition}:s3:::{bucket}"),
            "Condition": { "StringLike": { "s3:prefix": prefixes } },
        }));
    }
    out
}
