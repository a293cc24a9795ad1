//! `Deployment` (SPEC section 8): what makes the trained model callable, and
//! the decisions about it. A custom model cannot be invoked as it is; it
//! needs an on-demand custom model deployment or provisioned throughput.
//! Pure: the completion path and the lifecycle ask these functions what to
//! do and `parts::deployment` does it.

use serde_json::{Value, json};

use super::checks::check_model_name;
use super::error::quote;
use super::identity::hex_digest;
use super::reader::Reader;

/// The properties `Deployment` accepts.
pub const DEPLOYMENT_KEYS: &[&str] = &["Type", "ModelUnits", "Name"];

/// `Deployment.Type`, with what each kind needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeploymentKind {
    /// A custom model deployment: paid per use, nothing while idle.
    OnDemand,
    /// Provisioned throughput with no commitment term, paid by the hour.
    Provisioned {
        /// `Deployment.ModelUnits`.
        model_units: i32,
    },
}

impl DeploymentKind {
    /// The `Type` as the property spells it.
    pub fn type_name(self) -> &'static str {
        match self {
            DeploymentKind::OnDemand => "OnDemand",
            DeploymentKind::Provisioned { .. } => "Provisioned",
        }
    }
}

/// `Deployment`, as the stack wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentConfig {
    /// `Type` (and `ModelUnits`).
    pub kind: DeploymentKind,
    /// `Name`; derived from the physical id when absent.
    pub name: Option<String>,
}

/// The deployment's name when `Deployment.Name` is not given: a physical id
/// is at most 56 characters, so this stays within the API's 63.
pub fn derived_deployment_name(physical_id: &str) -> String {
    format!("{physical_id}-deploy")
}

/// What one setup deploys, fully named: what the pending completion record
/// carries, so that the completion path needs no properties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentSpec {
    /// On demand or provisioned.
    pub kind: DeploymentKind,
    /// The deployment's (or the provisioned model's) name.
    pub name: String,
}

impl DeploymentConfig {
    /// The spec under `physical_id`.
    pub fn spec(&self, physical_id: &str) -> DeploymentSpec {
        DeploymentSpec {
            kind: self.kind,
            name: self
                .name
                .clone()
                .unwrap_or_else(|| derived_deployment_name(physical_id)),
        }
    }
}

impl DeploymentSpec {
    /// The creation's idempotency token: the same setup deploying the same
    /// model the same way sends the same token from every Lambda instance,
    /// so an event and a sweep racing each other make one deployment; a
    /// changed deployment (or a retrained model) gets a new one.
    pub fn client_token(&self, physical_id: &str, model_arn: &str) -> String {
        let units = match self.kind {
            DeploymentKind::OnDemand => String::new(),
            DeploymentKind::Provisioned { model_units } => model_units.to_string(),
        };
        hex_digest(
            &[
                physical_id,
                self.kind.type_name(),
                &units,
                &self.name,
                model_arn,
            ],
            16,
        )
    }

    /// The spec as the pending record stores it.
    pub fn to_json(&self) -> Value {
        match self.kind {
            DeploymentKind::OnDemand => json!({ "type": "OnDemand", "name": self.name }),
            DeploymentKind::Provisioned { model_units } => {
                json!({ "type": "Provisioned", "units": model_units, "name": self.name })
            }
        }
    }

    /// A stored spec read back; `None` when it is not one.
    pub fn from_json(v: &Value) -> Option<Self> {
        let name = v.get("name")?.as_str()?.to_string();
        let kind = match v.get("type")?.as_str()? {
            "OnDemand" => DeploymentKind::OnDemand,
            "Provisioned" => DeploymentKind::Provisioned {
                model_units: i32::try_from(v.get("units")?.as_i64()?)
                    .ok()
                    .filter(|u| *u >= 1)?,
            },
            _ => return None,
        };
        Some(DeploymentSpec { kind, name })
    }
}

/// Where a deployment is in its life, in the words of either API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeploymentStatus {
    /// `Creating` (or a throughput's `Updating`): not callable yet.
    Creating,
    /// `Active` (a deployment) or `InService` (a throughput).
    Ready,
    /// `Failed`, with Bedrock's message.
    Failed(String),
}

impl DeploymentStatus {
    /// Reads Bedrock's status; anything unknown counts as not ready yet.
    pub fn from_bedrock(status: &str, message: Option<&str>) -> Self {
        if status.eq_ignore_ascii_case("Active") || status.eq_ignore_ascii_case("InService") {
            DeploymentStatus::Ready
        } else if status.eq_ignore_ascii_case("Failed") {
            DeploymentStatus::Failed(
                message
                    .filter(|m| !m.is_empty())
                    .unwrap_or("Bedrock gave no reason")
                    .to_string(),
            )
        } else {
            DeploymentStatus::Creating
        }
    }
}

/// A deployment found under a setup's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundDeployment {
    /// The ARN to invoke (the deployment's, or the provisioned model's).
    pub arn: String,
    /// Its status.
    pub status: DeploymentStatus,
    /// The setup that owns it, by our owner tag.
    pub owner: Option<String>,
}

/// What the completion path does next for a completed job's deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextStep {
    /// Nothing is deployed under the name: create it.
    Create,
    /// Ours and still being created: look again on a later sweep.
    Wait,
    /// Ours and callable: the ARN to signal.
    Ready(String),
    /// Ours and failed, or the name is someone else's: the message to signal.
    Fail(String),
}

/// The next step for `spec` given what exists under its name.
pub fn next_step(
    physical_id: &str,
    spec: &DeploymentSpec,
    found: Option<&FoundDeployment>,
) -> NextStep {
    match found {
        None => NextStep::Create,
        Some(f) if f.owner.as_deref() != Some(physical_id) => NextStep::Fail(format!(
            "a {} named {} already exists and is not owned by this resource; choose another Deployment.Name",
            what(spec.kind),
            quote(&spec.name)
        )),
        Some(f) => match &f.status {
            DeploymentStatus::Creating => NextStep::Wait,
            DeploymentStatus::Ready => NextStep::Ready(f.arn.clone()),
            DeploymentStatus::Failed(m) => {
                NextStep::Fail(format!("{} {} failed: {m}", what(spec.kind), spec.name))
            }
        },
    }
}

/// What an in-place Update does to the deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeploymentChange {
    /// The same deployment is wanted (or none, before and after).
    Keep,
    /// The old one goes (if any), and, once the model exists, the new one
    /// (if any) is made.
    Change {
        /// What to remove.
        remove: Option<DeploymentSpec>,
        /// What to make.
        make: Option<DeploymentSpec>,
    },
}

/// The change from `old` to `new`. Provisioned throughput cannot change
/// its model units in place (UpdateProvisionedModelThroughput takes only a
/// name and a model), so any difference is a removal and a making.
pub fn change_for(old: Option<&DeploymentSpec>, new: Option<&DeploymentSpec>) -> DeploymentChange {
    if old == new {
        DeploymentChange::Keep
    } else {
        DeploymentChange::Change {
            remove: old.cloned(),
            make: new.cloned(),
        }
    }
}

/// The Reason's words for a kind.
pub fn what(kind: DeploymentKind) -> &'static str {
    match kind {
        DeploymentKind::OnDemand => "custom model deployment",
        DeploymentKind::Provisioned { .. } => "provisioned throughput",
    }
}

/// `Deployment`: `Type` is required; `ModelUnits` goes with `Provisioned`
/// only and is required there; `Name` follows the API's pattern.
pub(crate) fn parse(r: &mut Reader) -> Option<DeploymentConfig> {
    r.reject_unknown(DEPLOYMENT_KEYS);
    let units_given = r.map.contains_key("ModelUnits");
    let units = r.positive_integer("ModelUnits");
    let name = r.string("Name", false);
    if let Some(n) = &name {
        check_model_name(r, "Name", n, "deployment");
    }
    let Some(type_name) = r.string("Type", false) else {
        if !r.map.contains_key("Type") {
            r.err("Type", "is missing", "OnDemand or Provisioned (required)");
        }
        return None;
    };
    let kind = match type_name.as_str() {
        "OnDemand" => {
            if units_given {
                r.err(
                    "ModelUnits",
                    "is given for an OnDemand deployment",
                    "only with Type Provisioned",
                );
            }
            DeploymentKind::OnDemand
        }
        "Provisioned" => {
            if !units_given {
                r.err(
                    "ModelUnits",
                    "is missing",
                    "a whole number of model units from 1 (required with Type Provisioned)",
                );
            }
            DeploymentKind::Provisioned {
                model_units: units?,
            }
        }
        other => {
            r.err(
                "Type",
                format!("{} is not a deployment type", quote(other)),
                "OnDemand or Provisioned",
            );
            return None;
        }
    };
    Some(DeploymentConfig { kind, name })
}
