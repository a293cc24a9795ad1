//! The customizations of SPEC section 8, each type with its parsing:
//! reinforcement fine-tuning (`Job.GraderLambdaArn` and the typed
//! `RFTHyperParameters`), teachers behind inference profiles, and training
//! on model-invocation logs (`InvocationLogs`).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::error::quote;
use super::reader::{Reader, json_kind};
use super::s3uri::S3Uri;

/// Where the job's training data comes from: exactly one of
/// `TrainingDataUri` and `InvocationLogs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrainingData {
    /// `TrainingDataUri`: a file or prefix of prompts (and responses).
    Uri(S3Uri),
    /// `InvocationLogs`: Bedrock's model-invocation logs (distillation only).
    InvocationLogs(InvocationLogs),
}

impl TrainingData {
    /// The S3 location the service role reads, whichever source it is.
    pub fn location(&self) -> &S3Uri {
        match self {
            TrainingData::Uri(u) => u,
            TrainingData::InvocationLogs(l) => &l.source,
        }
    }

    /// The property that names the location, for messages.
    pub fn property(&self) -> &'static str {
        match self {
            TrainingData::Uri(_) => "TrainingDataUri",
            TrainingData::InvocationLogs(_) => "InvocationLogs.SourceUri",
        }
    }

    /// The invocation-log source, when the data comes from there.
    pub fn invocation_logs(&self) -> Option<&InvocationLogs> {
        match self {
            TrainingData::Uri(_) => None,
            TrainingData::InvocationLogs(l) => Some(l),
        }
    }
}

/// `InvocationLogs`: Bedrock's `trainingDataConfig.invocationLogsConfig`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvocationLogs {
    /// `SourceUri`: where the invocation logs are delivered.
    pub source: S3Uri,
    /// `UsePromptResponse`: train on the logged responses too.
    pub use_prompt_response: bool,
    /// `RequestMetadataFilters`: which logged requests to use.
    pub filters: Option<MetadataFilters>,
}

/// `InvocationLogs.RequestMetadataFilters`: Bedrock's union of exactly one
/// filter kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetadataFilters {
    /// `Equals`: one metadata key and the value it must have.
    Equals(BTreeMap<String, String>),
    /// `NotEquals`: one metadata key and a value it must not have.
    NotEquals(BTreeMap<String, String>),
    /// `AndAll`: every one of 1-16 filters.
    AndAll(Vec<BaseMetadataFilter>),
    /// `OrAll`: any of 1-16 filters.
    OrAll(Vec<BaseMetadataFilter>),
}

/// One item of `AndAll` or `OrAll`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BaseMetadataFilter {
    /// `Equals`.
    pub equals: Option<BTreeMap<String, String>>,
    /// `NotEquals`.
    pub not_equals: Option<BTreeMap<String, String>>,
}

/// A `REINFORCEMENT_FINE_TUNING` job's `customizationConfig.rftConfig`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReinforcementFineTuning {
    /// `Job.GraderLambdaArn`: the reward function.
    pub grader_lambda_arn: String,
    /// `Job.HyperParameters`, typed as the API's `RFTHyperParameters`.
    pub hyper_parameters: RftHyperParameters,
}

impl ReinforcementFineTuning {
    /// The grader's ARNs the service role may invoke: exactly the given one,
    /// and for an unqualified ARN its versions and aliases too (Lambda
    /// authorizes an invocation on the qualified ARN it resolves).
    pub fn grader_resources(&self) -> Vec<String> {
        let arn = &self.grader_lambda_arn;
        if arn.split(':').count() == 7 {
            vec![arn.clone(), format!("{arn}:*")]
        } else {
            vec![arn.clone()]
        }
    }
}

/// `RFTHyperParameters`, each checked against the API's type and range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RftHyperParameters {
    /// `epochCount`, 1-50.
    pub epoch_count: Option<i32>,
    /// `batchSize`, 16-512.
    pub batch_size: Option<i32>,
    /// `learningRate`, 1e-7 to 1e-3.
    pub learning_rate: Option<LearningRate>,
    /// `maxPromptLength`, a positive whole number.
    pub max_prompt_length: Option<i32>,
    /// `trainingSamplePerPrompt`, 2-16.
    pub training_sample_per_prompt: Option<i32>,
    /// `inferenceMaxTokens`, a positive whole number.
    pub inference_max_tokens: Option<i32>,
    /// `reasoningEffort`: low, medium or high.
    pub reasoning_effort: Option<ReasoningEffort>,
    /// `evalInterval`, 1-100.
    pub eval_interval: Option<i32>,
}

/// The API's `RFTLearningRate`, a single-precision float. Compared by its
/// bits, so that the properties stay `Eq`.
#[derive(Debug, Clone, Copy)]
pub struct LearningRate(pub f32);

impl PartialEq for LearningRate {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}

impl Eq for LearningRate {}

/// The API's `ReasoningEffort`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReasoningEffort {
    /// `low`.
    Low,
    /// `medium`.
    Medium,
    /// `high`.
    High,
}

impl ReasoningEffort {
    /// The value the API takes.
    pub fn as_str(self) -> &'static str {
        match self {
            ReasoningEffort::Low => "low",
            ReasoningEffort::Medium => "medium",
            ReasoningEffort::High => "high",
        }
    }
}

/// The names `RFTHyperParameters` has, in the API's spelling.
pub const RFT_HYPER_PARAMETERS: &[&str] = &[
    "epochCount",
    "batchSize",
    "learningRate",
    "maxPromptLength",
    "trainingSamplePerPrompt",
    "inferenceMaxTokens",
    "reasoningEffort",
    "evalInterval",
];

/// The properties `InvocationLogs` accepts.
pub const INVOCATION_LOGS_KEYS: &[&str] =
    &["SourceUri", "UsePromptResponse", "RequestMetadataFilters"];
/// The properties `RequestMetadataFilters` accepts (exactly one of them).
pub const METADATA_FILTER_KEYS: &[&str] = &["Equals", "NotEquals", "AndAll", "OrAll"];
/// The properties an item of `AndAll` and `OrAll` accepts.
pub const BASE_FILTER_KEYS: &[&str] = &["Equals", "NotEquals"];
const MAX_FILTERS: usize = 16;

/// `Job.HyperParameters` of a reinforcement fine-tuning job: only the API's
/// names, each typed and in range.
pub(crate) fn rft_hyper_parameters(r: &mut Reader) -> RftHyperParameters {
    let mut hp = RftHyperParameters::default();
    let Some(o) = r.object("HyperParameters") else {
        return hp;
    };
    let base = r.path_of("HyperParameters");
    for (name, v) in o {
        let path = format!("{base}.{name}");
        let Some(text) = scalar_text(r, &path, v) else {
            continue;
        };
        match name.as_str() {
            "epochCount" => hp.epoch_count = whole_number(r, &path, &text, 1, 50),
            "batchSize" => hp.batch_size = whole_number(r, &path, &text, 16, 512),
            "maxPromptLength" => {
                hp.max_prompt_length = whole_number(r, &path, &text, 1, i32::MAX);
            }
            "trainingSamplePerPrompt" => {
                hp.training_sample_per_prompt = whole_number(r, &path, &text, 2, 16);
            }
            "inferenceMaxTokens" => {
                hp.inference_max_tokens = whole_number(r, &path, &text, 1, i32::MAX);
            }
            "evalInterval" => hp.eval_interval = whole_number(r, &path, &text, 1, 100),
            "learningRate" => hp.learning_rate = learning_rate(r, &path, &text),
            "reasoningEffort" => {
                hp.reasoning_effort = match text.as_str() {
                    "low" => Some(ReasoningEffort::Low),
                    "medium" => Some(ReasoningEffort::Medium),
                    "high" => Some(ReasoningEffort::High),
                    _ => {
                        r.errs.push(
                            path,
                            format!("{} is not a reasoning effort", quote(&text)),
                            "low, medium or high",
                        );
                        None
                    }
                }
            }
            _ => {
                let suggestion = RFT_HYPER_PARAMETERS
                    .iter()
                    .find(|k| k.eq_ignore_ascii_case(name))
                    .map(|k| format!(" (did you mean {k}?)"))
                    .unwrap_or_default();
                r.errs.push(
                    path,
                    format!("is not a hyperparameter of reinforcement fine-tuning{suggestion}"),
                    RFT_HYPER_PARAMETERS.join(", "),
                );
            }
        }
    }
    hp
}

/// A hyperparameter's value as text: CloudFormation sends strings, a
/// hand-written template may carry numbers.
fn scalar_text(r: &mut Reader, path: &str, v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        other => {
            r.errs.push(
                path,
                format!("is {} rather than a number or a string", json_kind(other)),
                "a number, as a string or a number",
            );
            None
        }
    }
}

fn whole_number(r: &mut Reader, path: &str, text: &str, min: i32, max: i32) -> Option<i32> {
    match text.parse::<i32>() {
        Ok(n) if (min..=max).contains(&n) => Some(n),
        _ => {
            r.errs.push(
                path,
                format!("{} is not a whole number from {min} to {max}", quote(text)),
                format!("a whole number from {min} to {max}"),
            );
            None
        }
    }
}

/// The API's bounds on `learningRate`, inclusive.
const LEARNING_RATE: (f64, f64) = (1e-7, 1e-3);

fn learning_rate(r: &mut Reader, path: &str, text: &str) -> Option<LearningRate> {
    let (min, max) = LEARNING_RATE;
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && (min..=max).contains(&v) => {
            // The API's type is a single-precision float.
            #[allow(clippy::cast_possible_truncation)]
            Some(LearningRate(v as f32))
        }
        _ => {
            r.errs.push(
                path,
                format!("{} is not a number from 1e-7 to 1e-3", quote(text)),
                "a number from 0.0000001 (1e-7) to 0.001 (1e-3)",
            );
            None
        }
    }
}

/// `Job.GraderLambdaArn`: the API's `LambdaArn` pattern, in the stack's
/// partition and region (Bedrock invokes the grader from there).
pub(crate) fn check_grader_arn(r: &mut Reader, partition: &str, region: &str, arn: &str) -> bool {
    let ok = grader_arn_ok(partition, region, arn);
    if !ok {
        r.err(
            "GraderLambdaArn",
            format!(
                "{} is not a Lambda function ARN of {partition} in {region}",
                quote(arn)
            ),
            format!(
                "arn:{partition}:lambda:{region}:<account>:function:<name>[:<version or alias>]"
            ),
        );
    }
    ok
}

fn grader_arn_ok(partition: &str, region: &str, arn: &str) -> bool {
    let parts: Vec<&str> = arn.split(':').collect();
    if arn.len() > 512 || !(7..=8).contains(&parts.len()) {
        return false;
    }
    let name_ok = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    };
    let qualifier_ok = |s: &str| {
        s == "$LATEST"
            || (!s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b)))
    };
    parts[0] == "arn"
        && parts[1] == partition
        && parts[2] == "lambda"
        && parts[3] == region
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5] == "function"
        && name_ok(parts[6])
        && parts.get(7).is_none_or(|q| qualifier_ok(q))
}

/// What a model identifier names, read from its form: inference profiles
/// are `<geography>.<provider>.<model>` or an `inference-profile/` ARN,
/// foundation models `<provider>.<model>`, custom models a bare name or a
/// `custom-model/` ARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelKind {
    /// A foundation model.
    Foundation,
    /// A custom model of the account.
    Custom,
    /// A cross-region (system-defined) inference profile.
    InferenceProfile,
    /// An application inference profile, which a job cannot take as teacher.
    ApplicationInferenceProfile,
}

impl ModelKind {
    /// Reads the kind from the identifier's form.
    pub fn of(identifier: &str) -> ModelKind {
        if identifier.starts_with("arn:") {
            return if identifier.contains(":application-inference-profile/") {
                ModelKind::ApplicationInferenceProfile
            } else if identifier.contains(":inference-profile/") {
                ModelKind::InferenceProfile
            } else if identifier.contains(":custom-model/") {
                ModelKind::Custom
            } else {
                ModelKind::Foundation
            };
        }
        let id = identifier.split(':').next().unwrap_or_default();
        match id.split('.').count() {
            1 => ModelKind::Custom,
            2 => ModelKind::Foundation,
            _ => ModelKind::InferenceProfile,
        }
    }
}

/// A teacher served through a cross-region inference profile, as
/// `GetInferenceProfile` describes it: what the service role must be allowed
/// to invoke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeacherProfile {
    /// The profile's ARN.
    pub arn: String,
    /// The foundation models it routes to, one ARN per region.
    pub model_arns: Vec<String>,
}

/// `InvocationLogs`: the log location, whether to use the logged responses,
/// and the request-metadata filters.
pub(crate) fn invocation_logs(r: &mut Reader) -> Option<InvocationLogs> {
    r.reject_unknown(INVOCATION_LOGS_KEYS);
    let source = r.s3_uri("SourceUri", true);
    let use_prompt_response = r.boolean("UsePromptResponse", false);
    let filters = r
        .object("RequestMetadataFilters")
        .and_then(|o| metadata_filters(&mut r.nested("RequestMetadataFilters", o)));
    Some(InvocationLogs {
        source: source?,
        use_prompt_response,
        filters,
    })
}

fn metadata_filters(r: &mut Reader) -> Option<MetadataFilters> {
    r.reject_unknown(METADATA_FILTER_KEYS);
    let given: Vec<&str> = METADATA_FILTER_KEYS
        .iter()
        .copied()
        .filter(|k| r.map.contains_key(*k))
        .collect();
    if given.len() != 1 {
        let problem = if given.is_empty() {
            "has no filter".to_string()
        } else {
            format!("gives {}", given.join(" and "))
        };
        r.errs.push(
            r.path.clone(),
            problem,
            "exactly one of Equals, NotEquals, AndAll and OrAll",
        );
        return None;
    }
    match given[0] {
        "Equals" => single_entry(r, "Equals").map(MetadataFilters::Equals),
        "NotEquals" => single_entry(r, "NotEquals").map(MetadataFilters::NotEquals),
        kind => {
            let items = r.required_list(kind, 1, MAX_FILTERS, |r, p, v| base_filter(r, p, v));
            if kind == "AndAll" {
                Some(MetadataFilters::AndAll(items))
            } else {
                Some(MetadataFilters::OrAll(items))
            }
        }
    }
}

fn base_filter<'a>(r: &mut Reader<'a, '_>, path: &str, v: &'a Value) -> Option<BaseMetadataFilter> {
    let Some(o) = v.as_object() else {
        r.errs.push(
            path,
            format!("is {} rather than an object", json_kind(v)),
            "{\"Equals\": {...}} or {\"NotEquals\": {...}}",
        );
        return None;
    };
    let mut r = r.nested_path(path, o);
    r.reject_unknown(BASE_FILTER_KEYS);
    if !BASE_FILTER_KEYS.iter().any(|k| o.contains_key(*k)) {
        r.errs
            .push(path, "has no filter", "Equals, NotEquals or both");
        return None;
    }
    let equals = o
        .contains_key("Equals")
        .then(|| single_entry(&mut r, "Equals"))
        .flatten();
    let not_equals = o
        .contains_key("NotEquals")
        .then(|| single_entry(&mut r, "NotEquals"))
        .flatten();
    Some(BaseMetadataFilter { equals, not_equals })
}

/// A metadata map of exactly one entry (the API's `RequestMetadataMap`):
/// key 1-256, value 0-256 characters of letters, digits, spaces and
/// `. _ : / = + $ @ -`.
fn single_entry(r: &mut Reader, name: &str) -> Option<BTreeMap<String, String>> {
    let o: &Map<String, Value> = r.object(name)?;
    let path = r.path_of(name);
    if o.len() != 1 {
        r.errs.push(
            &path,
            format!("has {} entries", o.len()),
            "exactly one metadata key and its value",
        );
        return None;
    }
    let allowed = |s: &str| {
        s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c.is_whitespace() || "._:/=+$@-".contains(c))
    };
    let mut out = BTreeMap::new();
    for (k, v) in o {
        let value = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            other => {
                r.errs.push(
                    format!("{path}.{k}"),
                    format!("is {} rather than a string", json_kind(other)),
                    "a string",
                );
                return None;
            }
        };
        if k.is_empty() || k.chars().count() > 256 || !allowed(k) {
            r.errs.push(
                &path,
                format!("has the key {}, which Bedrock does not accept", quote(k)),
                "keys of 1-256 letters, digits, spaces and . _ : / = + $ @ -",
            );
            return None;
        }
        if value.chars().count() > 256 || !allowed(&value) {
            r.errs.push(
                format!("{path}.{k}"),
                format!("{} is not a metadata value Bedrock accepts", quote(&value)),
                "0-256 letters, digits, spaces and . _ : / = + $ @ -",
            );
            return None;
        }
        out.insert(k.clone(), value);
    }
    Some(out)
}
