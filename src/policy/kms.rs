//! KMS use for the keys the user named: data keys (decrypt, generate,
//! describe) and the custom model's key (the same plus CreateGrant).

use serde_json::{Value, json};

use super::{document, unique};
use crate::model::SetupProperties;

/// `None` when no key is given: then the role gets no KMS policy at all.
pub fn kms_policy(props: &SetupProperties) -> Option<Value> {
    let mut statements = Vec::new();
    if !props.data_kms_keys().is_empty() {
        statements.push(json!({
            "Sid": "UseDataKeys",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
            "Resource": unique(props.data_kms_keys().iter().cloned()),
        }));
    }
    if let Some(key) = props.custom_model_kms_key() {
        statements.push(json!({
            "Sid": "UseCustomModelKey",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:CreateGrant"],
            "Resource": key,
        }));
    }
    (!statements.is_empty()).then(|| document(statements))
}
