//! Who the resource belongs to (partition, region, account, stack) and the
//! names derived from its physical id.

use sha2::{Digest, Sha256};

/// Prefix of the tag keys this handler reserves for itself.
pub(crate) const TAG_NAMESPACE: &str = "bedrock-customization-setup:";
/// The tag every created part carries; its value is the physical id.
pub const OWNER_TAG_KEY: &str = "bedrock-customization-setup:id";
/// On the role: the fingerprint of what the submitted job depends on, so an
/// Update can tell whether the deployed setup already matches its target
/// (CloudFormation's rollback after a failed replacement).
pub const FINGERPRINT_TAG_KEY: &str = "bedrock-customization-setup:fingerprint";
/// On the role of a setup whose replacement failed and could not be fully
/// removed: the replacement's physical id, removed by the rollback Update.
pub const ORPHAN_TAG_KEY: &str = "bedrock-customization-setup:orphan";

/// Partition, region and account of the stack, read from its StackId.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackIdentity {
    /// The partition (`aws`, `aws-cn`, ...).
    pub partition: String,
    /// The region.
    pub region: String,
    /// The account id.
    pub account: String,
    /// The stack's name.
    pub stack_name: String,
}

impl StackIdentity {
    /// Reads `arn:<partition>:cloudformation:<region>:<account>:stack/<name>/<guid>`.
    pub fn from_stack_id(stack_id: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "StackId '{stack_id}' is not a CloudFormation stack ARN (arn:<partition>:cloudformation:<region>:<account>:stack/<name>/<id>)"
            )
        };
        let parts: Vec<&str> = stack_id.splitn(6, ':').collect();
        if parts.len() != 6 || parts[0] != "arn" || parts[2] != "cloudformation" {
            return Err(bad());
        }
        let (partition, region, account) = (parts[1], parts[3], parts[4]);
        if !is_partition(partition)
            || !is_region(region)
            || account.len() != 12
            || !account.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        let mut res = parts[5].split('/');
        let (Some("stack"), Some(name)) = (res.next(), res.next()) else {
            return Err(bad());
        };
        if name.is_empty() {
            return Err(bad());
        }
        Ok(StackIdentity {
            partition: partition.into(),
            region: region.into(),
            account: account.into(),
            stack_name: name.into(),
        })
    }

    /// The ARN pattern of this account's model customization jobs, used in
    /// the trust policy and the ENI conditions of seed 002.
    pub(crate) fn job_arn_pattern(&self) -> String {
        format!(
            "arn:{}:bedrock:{}:{}:model-customization-job/*",
            self.partition, self.region, self.account
        )
    }
}

fn is_partition(p: &str) -> bool {
    p == "aws"
        || (p.starts_with("aws-")
            && p.len() > 4
            && p[4..]
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'))
}

fn is_region(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    parts.len() >= 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric()))
        && parts
            .last()
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

/// Longest physical id we generate: the job name (`<id>-job`) and the model
/// name (`<id>-model`) must stay within Bedrock's 63 characters, the role
/// name within IAM's 64.
pub const MAX_PHYSICAL_ID_LEN: usize = 56;
const SUFFIX_LEN: usize = 12;

/// The physical id for a request that creates a setup (a Create, or an
/// Update that replaces): `<stack>-<LogicalId>-<suffix>`, the suffix a hash of
/// the request so that a repeated delivery gets the same id.
pub fn physical_id_for(stack: &StackIdentity, logical_id: &str, request_id: &str) -> String {
    let suffix = hex_digest(
        &[stack.stack_name.as_str(), logical_id, request_id],
        SUFFIX_LEN / 2,
    );
    format!(
        "{}-{suffix}",
        readable_prefix(&stack.stack_name, logical_id)
    )
}

/// Whether `physical_id` is one this handler generated for this resource:
/// the readable prefix of this stack and logical id, then a hex suffix.
/// CloudFormation's own placeholders (after a Create that never answered
/// with an id) do not have this shape.
pub fn is_our_physical_id(stack: &StackIdentity, logical_id: &str, physical_id: &str) -> bool {
    let prefix = readable_prefix(&stack.stack_name, logical_id);
    physical_id
        .strip_prefix(&prefix)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|suffix| {
            suffix.len() == SUFFIX_LEN
                && suffix
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

/// Stack name and logical id, cleaned to what every derived name accepts
/// (letters, digits, single hyphens) and shortened to fit.
fn readable_prefix(stack_name: &str, logical_id: &str) -> String {
    let budget = MAX_PHYSICAL_ID_LEN - SUFFIX_LEN - 2;
    let stack = clean(stack_name);
    let logical = clean(logical_id);
    let stack_len = stack
        .len()
        .min(budget.saturating_sub(logical.len().min(budget / 2)));
    let logical_len = logical.len().min(budget - stack_len);
    let stack = stack[..stack_len].trim_end_matches('-');
    let logical = logical[..logical_len].trim_end_matches('-');
    match (stack.is_empty(), logical.is_empty()) {
        (false, false) => format!("{stack}-{logical}"),
        (false, true) => stack.to_string(),
        (true, false) => logical.to_string(),
        (true, true) => "setup".to_string(),
    }
}

fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let c = if c.is_ascii_alphanumeric() { c } else { '-' };
        if c == '-' && (out.is_empty() || out.ends_with('-')) {
            continue;
        }
        out.push(c);
    }
    out.trim_end_matches('-').to_string()
}

/// Names derived from the physical id, each within its service's limits.
pub fn derived_role_name(physical_id: &str) -> String {
    physical_id.to_string()
}

/// The job's name when `Job.JobName` is not given.
pub fn derived_job_name(physical_id: &str) -> String {
    format!("{physical_id}-job")
}

/// The custom model's name when `Job.CustomModelName` is not given.
pub fn derived_model_name(physical_id: &str) -> String {
    format!("{physical_id}-model")
}

/// An idempotency token (32 hex digits) derived from `seed`: the job's
/// `clientRequestToken` from the physical id (one job per setup), the
/// endpoint's `ClientToken` from the id and the request.
pub fn client_token(seed: &str) -> String {
    hex_digest(&[seed], 16)
}

/// The first `bytes` bytes of the SHA-256 of `parts` (joined by NUL
/// bytes, so that no two different lists hash alike), in lower-case hex.
pub(crate) fn hex_digest(parts: &[&str], bytes: usize) -> String {
    let mut hasher = Sha256::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            hasher.update([0u8]);
        }
        hasher.update(p.as_bytes());
    }
    hasher
        .finalize()
        .iter()
        .take(bytes)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The Sid of our statement in the output bucket's policy: IAM Sids take
/// only letters and digits, and the id's hex suffix keeps it unique.
pub fn bucket_statement_sid(physical_id: &str) -> String {
    let alnum: String = physical_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    format!("BedrockSetupVpcOnly{alnum}")
}
