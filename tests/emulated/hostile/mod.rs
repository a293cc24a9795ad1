//! Hostile conditions, one suite each: a bad-input corpus that ends with
//! zero mutating calls (`bad_input`), concurrent setups on one bucket
//! (`concurrency`), and seeded fault injection on every AWS operation of
//! Create, Update and Delete (`faults`).

mod bad_input;
mod concurrency;
mod faults;

use serde_json::{Value, json};

/// The bucket owner's own statement, which every setup must leave alone.
pub(super) async fn owners_bucket_policy(c: &bedrock_setup::parts::Clients, bucket: &str) -> Value {
    let policy = json!({ "Version": "2012-10-17", "Statement": [{ "Sid": "OwnerStatement", "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket", "Resource": format!("arn:aws:s3:::{bucket}") }] });
    c.s3.put_bucket_policy()
        .bucket(bucket)
        .policy(policy.to_string())
        .send()
        .await
        .expect("the owner's bucket policy");
    policy
}
