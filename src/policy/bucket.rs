//! The output bucket's VPC-only statement (seed 002) and how it is merged
//! into, and removed from, a policy the bucket owner already has. Every other
//! statement is left exactly as it was.

use serde_json::{Map, Value, json};
use thiserror::Error;

use super::VERSION;

/// The deny statement; its Sid marks it as ours.
pub fn output_bucket_statement(sid: &str, partition: &str, bucket: &str, vpc_id: &str) -> Value {
    json!({
        "Sid": sid,
        "Effect": "Deny",
        "Principal": "*",
        "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
        "Resource": [
            format!("arn:{partition}:s3:::{bucket}"),
            format!("arn:{partition}:s3:::{bucket}/*")
        ],
        "Condition": { "StringNotEquals": { "aws:sourceVpc": vpc_id } }
    })
}

/// Why the owner's bucket policy cannot take or give up our statement.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum BucketPolicyError {
    /// The policy is not a JSON object.
    #[error("the bucket's existing policy is not a JSON object: {0}")]
    NotAnObject(String),
    /// The policy's Statement is neither a list nor an object.
    #[error("the bucket's existing policy has a Statement that is neither a list nor an object")]
    BadStatement,
}

fn parse(existing: &str) -> Result<Map<String, Value>, BucketPolicyError> {
    match serde_json::from_str::<Value>(existing) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(BucketPolicyError::NotAnObject("not an object".into())),
        Err(e) => Err(BucketPolicyError::NotAnObject(e.to_string())),
    }
}

fn sid_of(statement: &Value) -> Option<&str> {
    statement.get("Sid").and_then(Value::as_str)
}

/// The policy with our statement in it: replaced where a statement with the
/// same Sid exists (a repeated Create), appended otherwise.
pub fn merge_statement(existing: Option<&str>, ours: &Value) -> Result<String, BucketPolicyError> {
    let sid = sid_of(ours);
    let mut policy = match existing {
        None => {
            let mut m = Map::new();
            m.insert("Version".into(), Value::String(VERSION.into()));
            m
        }
        Some(text) => parse(text)?,
    };
    let statements = match policy.remove("Statement") {
        None => vec![],
        Some(Value::Array(a)) => a,
        Some(single @ Value::Object(_)) => vec![single],
        Some(_) => return Err(BucketPolicyError::BadStatement),
    };
    let mut replaced = false;
    let mut out: Vec<Value> = Vec::with_capacity(statements.len() + 1);
    for s in statements {
        if sid.is_some() && sid_of(&s) == sid {
            if !replaced {
                out.push(ours.clone());
                replaced = true;
            }
        } else {
            out.push(s);
        }
    }
    if !replaced {
        out.push(ours.clone());
    }
    policy.insert("Statement".into(), Value::Array(out));
    Ok(Value::Object(policy).to_string())
}

/// What removing our statement leaves behind.
#[derive(Debug, PartialEq, Eq)]
pub enum AfterRemoval {
    /// Our statement was not there: nothing to write.
    Unchanged,
    /// Other statements remain: write this policy.
    Remaining(String),
    /// Only ours was there: delete the bucket policy.
    Empty,
}

/// Removes our statement (by Sid), keeping everything else as it was.
pub fn remove_statement(existing: &str, sid: &str) -> Result<AfterRemoval, BucketPolicyError> {
    let mut policy = parse(existing)?;
    let statements = match policy.remove("Statement") {
        None => return Ok(AfterRemoval::Unchanged),
        Some(Value::Array(a)) => a,
        Some(single @ Value::Object(_)) => vec![single],
        Some(_) => return Err(BucketPolicyError::BadStatement),
    };
    let before = statements.len();
    let kept: Vec<Value> = statements
        .into_iter()
        .filter(|s| sid_of(s) != Some(sid))
        .collect();
    if kept.len() == before {
        return Ok(AfterRemoval::Unchanged);
    }
    if kept.is_empty() {
        return Ok(AfterRemoval::Empty);
    }
    policy.insert("Statement".into(), Value::Array(kept));
    Ok(AfterRemoval::Remaining(Value::Object(policy).to_string()))
}

/// Whether the policy holds a statement equal to `ours` (used to verify a
/// write that raced with another writer).
pub fn contains_statement(existing: &str, ours: &Value) -> bool {
    let Ok(policy) = parse(existing) else {
        return false;
    };
    match policy.get("Statement") {
        Some(Value::Array(a)) => a.iter().any(|s| s == ours),
        Some(s @ Value::Object(_)) => s == ours,
        _ => false,
    }
}

/// Whether a statement with this Sid is present at all.
pub fn has_sid(existing: &str, sid: &str) -> bool {
    let Ok(policy) = parse(existing) else {
        return false;
    };
    match policy.get("Statement") {
        Some(Value::Array(a)) => a.iter().any(|s| sid_of(s) == Some(sid)),
        Some(s @ Value::Object(_)) => sid_of(s) == Some(sid),
        _ => false,
    }
}
