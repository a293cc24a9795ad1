//! The S3 gateway endpoint's policy (seed 002). Restricted: only the setup's
//! three buckets, read on training and validation, read and write on the
//! output. FullAccess: the endpoint's default policy.

use serde_json::{Value, json};

use super::{document, unique};
use crate::model::{EndpointPolicyKind, SetupProperties};

/// The S3 gateway endpoint's policy (seed 002): the three buckets only, or full access.
pub fn endpoint_policy(props: &SetupProperties, partition: &str) -> Value {
    match props.s3_endpoint.policy {
        EndpointPolicyKind::FullAccess => document(vec![json!({
            "Effect": "Allow",
            "Principal": "*",
            "Action": "*",
            "Resource": "*"
        })]),
        EndpointPolicyKind::Restricted => {
            let bucket_resources = |bucket: &str| {
                vec![
                    format!("arn:{partition}:s3:::{bucket}"),
                    format!("arn:{partition}:s3:::{bucket}/*"),
                ]
            };
            let read = unique(
                std::iter::once(props.training_data.location())
                    .chain(props.validation_data.iter())
                    .flat_map(|u| bucket_resources(&u.bucket)),
            );
            document(vec![
                json!({
                    "Sid": "RestrictAccessToTrainingAndValidationBuckets",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": ["s3:GetObject", "s3:ListBucket"],
                    "Resource": read
                }),
                json!({
                    "Sid": "RestrictAccessToOutputBucket",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
                    "Resource": bucket_resources(&props.output_data.bucket)
                }),
            ])
        }
    }
}
