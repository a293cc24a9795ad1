//! What the completion path owes a setup between its job's submission and
//! its end: the signal to send, the deployment to make, or both. One SSM
//! SecureString per setup, `/bedrock-customization-setup/<physical id>`,
//! encrypted with the handler stack's own KMS key, which only the handler's
//! role is granted. The URL is a credential: it is never in tags or logs,
//! and the record is removed once everything is done and on Delete.

use aws_sdk_ssm::Client;
use aws_sdk_ssm::types::{ParameterTier, ParameterType};
use serde_json::{Value, json};

use crate::model::{DeploymentSpec, SignalUrl};
use crate::parts::{PartError, Removal, aws_error, removal, unless_not_found};

/// Where the pending records live.
pub(crate) const PREFIX: &str = "/bedrock-customization-setup/";

/// What waits for a job to end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PendingCompletion {
    /// The job whose end is awaited.
    pub(crate) job_name: String,
    /// The WaitConditionHandle's URL, signalled once it is all done.
    pub(crate) url: Option<SignalUrl>,
    /// The deployment to make once the job has Completed.
    pub(crate) deployment: Option<DeploymentSpec>,
}

fn name_of(physical_id: &str) -> String {
    format!("{PREFIX}{physical_id}")
}

fn encode(pending: &PendingCompletion) -> String {
    let mut v = json!({ "job": pending.job_name });
    if let Some(url) = &pending.url {
        v["url"] = json!(url.expose());
    }
    if let Some(d) = &pending.deployment {
        v["deployment"] = d.to_json();
    }
    v.to_string()
}

/// A stored value read back; `None` when it is not one of ours. A record
/// written before deployments existed has only a job and a URL.
fn decode(value: &str) -> Option<PendingCompletion> {
    let v: Value = serde_json::from_str(value).ok()?;
    let url = match v.get("url") {
        Some(u) => Some(SignalUrl::parse(u.as_str()?).ok()?),
        None => None,
    };
    let deployment = match v.get("deployment") {
        Some(d) => Some(DeploymentSpec::from_json(d)?),
        None => None,
    };
    Some(PendingCompletion {
        job_name: v.get("job")?.as_str()?.to_string(),
        url,
        deployment,
    })
}

/// Registers (or replaces) the setup's pending record.
pub(crate) async fn register(
    ssm: &Client,
    key_id: Option<&str>,
    physical_id: &str,
    pending: &PendingCompletion,
) -> Result<(), PartError> {
    ssm.put_parameter()
        .name(name_of(physical_id))
        .description("Pending completion of a Custom::BedrockCustomizationSetup job")
        .value(encode(pending))
        .r#type(ParameterType::SecureString)
        // Standard tier whatever the account's default: SSM then encrypts
        // with the key itself, which is all the template grants (an
        // advanced parameter would need kms:GenerateDataKey too).
        .tier(ParameterTier::Standard)
        .set_key_id(key_id.map(str::to_string))
        .overwrite(true)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| aws_error("ssm:PutParameter", e))
}

/// The setup's pending record, if any.
pub(crate) async fn find(
    ssm: &Client,
    physical_id: &str,
) -> Result<Option<PendingCompletion>, PartError> {
    let found = unless_not_found(
        "ssm:GetParameter",
        ssm.get_parameter()
            .name(name_of(physical_id))
            .with_decryption(true)
            .send(),
        |e| e.is_parameter_not_found(),
    )
    .await?;
    Ok(found
        .and_then(|out| out.parameter)
        .and_then(|p| p.value)
        .and_then(|v| decode(&v)))
}

/// Removes the setup's pending record.
pub(crate) async fn remove(ssm: &Client, physical_id: &str) -> Result<Removal, PartError> {
    removal(
        "ssm:DeleteParameter",
        ssm.delete_parameter().name(name_of(physical_id)).send(),
        |e| e.is_parameter_not_found(),
    )
    .await
}

/// Every pending record, by physical id (for the sweep).
pub(crate) async fn all(ssm: &Client) -> Result<Vec<(String, PendingCompletion)>, PartError> {
    let mut pending = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let out = ssm
            .get_parameters_by_path()
            .path(PREFIX.trim_end_matches('/'))
            .with_decryption(true)
            .set_next_token(next.take())
            .send()
            .await
            .map_err(|e| aws_error("ssm:GetParametersByPath", e))?;
        for p in out.parameters() {
            let (Some(name), Some(value)) = (p.name(), p.value()) else {
                continue;
            };
            if let (Some(pid), Some(signal)) = (name.strip_prefix(PREFIX), decode(value)) {
                pending.push((pid.to_string(), signal));
            }
        }
        match out.next_token() {
            Some(t) if !t.is_empty() => next = Some(t.to_string()),
            _ => return Ok(pending),
        }
    }
}
