//! What exists in the emulator, read with independent clients.

use bedrock_setup::parts::Clients;
use serde_json::Value;

/// Operations that change state, by the name the emulator logs.
pub fn is_mutating(op: &str) -> bool {
    const READ_PREFIXES: [&str; 4] = ["Get", "List", "Describe", "S3Get"];
    !READ_PREFIXES.iter().any(|p| op.starts_with(p)) && op != "S3Head"
}

/// Everything of ours in the emulator, read with independent clients.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Inventory {
    pub roles: Vec<String>,
    pub endpoints: Vec<(String, Vec<String>)>,
    pub bucket_statement_sids: Vec<String>,
    pub jobs: Vec<(String, String)>,
    pub models: Vec<String>,
}

/// The region's VPC endpoints, less the deleted ones EC2 still lists.
pub async fn live_endpoints(c: &Clients) -> Vec<aws_sdk_ec2::types::VpcEndpoint> {
    let eps = c
        .ec2
        .describe_vpc_endpoints()
        .send()
        .await
        .expect("endpoints");
    eps.vpc_endpoints()
        .iter()
        .filter(|e| {
            e.state()
                .is_none_or(|s| !s.as_str().eq_ignore_ascii_case("deleted"))
        })
        .cloned()
        .collect()
}

pub async fn inventory(c: &Clients, output_bucket: &str) -> Inventory {
    let mut inv = Inventory::default();
    let roles = c.iam.list_roles().send().await.expect("list roles");
    inv.roles = roles
        .roles()
        .iter()
        .map(|r| r.role_name().to_string())
        .collect();
    inv.roles.sort();
    for e in live_endpoints(c).await {
        let owner = e
            .tags()
            .iter()
            .find(|t| t.key() == Some(bedrock_setup::model::OWNER_TAG_KEY))
            .and_then(|t| t.value())
            .unwrap_or("-")
            .to_string();
        let mut rts: Vec<String> = e.route_table_ids().to_vec();
        rts.sort();
        rts.insert(0, owner);
        inv.endpoints
            .push((e.vpc_endpoint_id().unwrap_or_default().to_string(), rts));
    }
    inv.endpoints.sort();
    match c.s3.get_bucket_policy().bucket(output_bucket).send().await {
        Ok(p) => {
            // An unreadable policy is an error here, never "no statements".
            let text = p.policy().expect("a bucket policy has a document");
            let v: Value = serde_json::from_str(text)
                .unwrap_or_else(|e| panic!("the bucket policy is not JSON ({e}): {text}"));
            inv.bucket_statement_sids = v["Statement"]
                .as_array()
                .unwrap_or_else(|| panic!("the bucket policy has no Statement list: {text}"))
                .iter()
                .map(|s| s["Sid"].as_str().unwrap_or("-").to_string())
                .collect();
        }
        Err(e)
            if aws_sdk_s3::error::ProvideErrorMetadata::code(&e) == Some("NoSuchBucketPolicy") => {}
        Err(e) => panic!("could not read the bucket policy: {e:?}"),
    }
    let jobs = c
        .bedrock
        .list_model_customization_jobs()
        .send()
        .await
        .expect("jobs");
    for j in jobs.model_customization_job_summaries() {
        inv.jobs
            .push((j.job_name().to_string(), j.status().as_str().to_string()));
    }
    inv.jobs.sort();
    let models = c.bedrock.list_custom_models().send().await.expect("models");
    inv.models = models
        .model_summaries()
        .iter()
        .map(|m| m.model_name().to_string())
        .collect();
    inv.models.sort();
    inv
}

/// A role's inline policy as JSON, `None` when the role has none of that
/// name (IAM answers the document URL-encoded).
pub async fn inline_policy(c: &Clients, role: &str, name: &str) -> Option<Value> {
    let out = c
        .iam
        .get_role_policy()
        .role_name(role)
        .policy_name(name)
        .send()
        .await
        .ok()?;
    let text = percent_encoding::percent_decode_str(out.policy_document())
        .decode_utf8_lossy()
        .to_string();
    Some(serde_json::from_str(&text).unwrap_or_else(|e| panic!("policy {name} ({e}): {text}")))
}
