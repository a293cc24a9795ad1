//! The IAM documents the handler writes, generated from the properties. One
//! file per document; each is a plain function returning JSON.

pub mod bucket;
pub mod endpoint;
pub mod invoke;
pub mod kms;
pub mod s3_access;
pub mod trust;
pub mod vpc_access;

use serde_json::{Value, json};

pub(crate) const VERSION: &str = "2012-10-17";

/// Names of the role's inline policies.
pub(crate) const S3_ACCESS_POLICY: &str = "BedrockCustomizationS3Access";
pub(crate) const KMS_POLICY: &str = "BedrockCustomizationKmsAccess";
pub(crate) const VPC_POLICY: &str = "BedrockCustomizationVpcAccess";
pub(crate) const GRADER_POLICY: &str = "BedrockCustomizationGraderAccess";
pub(crate) const TEACHER_POLICY: &str = "BedrockCustomizationTeacherAccess";

pub(crate) fn document(statements: Vec<Value>) -> Value {
    json!({ "Version": VERSION, "Statement": Value::Array(statements) })
}

/// Unique values in first-seen order, so documents are stable and free of
/// repeated resources.
pub(crate) fn unique<I: IntoIterator<Item = String>>(items: I) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}
