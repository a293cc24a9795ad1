//! Trust policy of the service role (seed 000): Bedrock only, for jobs of
//! this account and region (confused-deputy protection).

use serde_json::{Value, json};

use crate::model::StackIdentity;

/// The service role's trust policy (seed 000): Bedrock only, for this account's jobs.
pub fn trust_policy(stack: &StackIdentity) -> Value {
    super::document(vec![json!({
        "Effect": "Allow",
        "Principal": { "Service": "bedrock.amazonaws.com" },
        "Action": "sts:AssumeRole",
        "Condition": {
            "StringEquals": { "aws:SourceAccount": stack.account },
            "ArnEquals": { "aws:SourceArn": stack.job_arn_pattern() }
        }
    })])
}
