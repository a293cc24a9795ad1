//! Pending completion signals, between a job's submission and its end: one
//! SSM SecureString per setup, `/bedrock-customization-setup/<physical id>`,
//! encrypted with the handler stack's own KMS key, which only the handler's
//! role is granted. The URL is a credential: it is never in tags or logs,
//! and it is removed once signalled and on Delete.

use aws_sdk_ssm::Client;
use aws_sdk_ssm::types::{ParameterTier, ParameterType};
use serde_json::{Value, json};

use super::{PartError, Removal, aws_error, removal, unless_not_found};
use crate::model::SignalUrl;

/// Where the pending signals live.
pub(crate) const PREFIX: &str = "/bedrock-customization-setup/";

/// A signal waiting for its job to end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PendingSignal {
    /// The job whose end is signalled.
    pub(crate) job_name: String,
    /// The WaitConditionHandle's URL.
    pub(crate) url: SignalUrl,
}

fn name_of(physical_id: &str) -> String {
    format!("{PREFIX}{physical_id}")
}

fn encode(pending: &PendingSignal) -> String {
    json!({ "job": pending.job_name, "url": pending.url.expose() }).to_string()
}

/// A stored value read back; `None` when it is not one of ours.
fn decode(value: &str) -> Option<PendingSignal> {
    let v: Value = serde_json::from_str(value).ok()?;
    Some(PendingSignal {
        job_name: v.get("job")?.as_str()?.to_string(),
        url: SignalUrl::parse(v.get("url")?.as_str()?).ok()?,
    })
}

/// Registers (or replaces) the setup's pending signal.
pub(crate) async fn register(
    ssm: &Client,
    key_id: Option<&str>,
    physical_id: &str,
    pending: &PendingSignal,
) -> Result<(), PartError> {
    ssm.put_parameter()
        .name(name_of(physical_id))
        .description("Completion signal of a Custom::BedrockCustomizationSetup job")
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

/// The setup's pending signal, if any.
pub(crate) async fn find(
    ssm: &Client,
    physical_id: &str,
) -> Result<Option<PendingSignal>, PartError> {
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

/// Removes the setup's pending signal.
pub(crate) async fn remove(ssm: &Client, physical_id: &str) -> Result<Removal, PartError> {
    removal(
        "ssm:DeleteParameter",
        ssm.delete_parameter().name(name_of(physical_id)).send(),
        |e| e.is_parameter_not_found(),
    )
    .await
}

/// Every pending signal, by physical id (for the sweep).
pub(crate) async fn all(ssm: &Client) -> Result<Vec<(String, PendingSignal)>, PartError> {
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
