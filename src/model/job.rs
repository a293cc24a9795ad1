//! `Job`: the model customization job, and what its customization type
//! brings with it.

use std::collections::BTreeMap;

use super::customization::ReinforcementFineTuning;
use super::signal_url::SignalUrl;

/// `Job.CustomizationType`: what Bedrock does with the base model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomizationType {
    /// `FINE_TUNING`.
    FineTuning,
    /// `CONTINUED_PRE_TRAINING`.
    ContinuedPreTraining,
    /// `DISTILLATION` (with a teacher model).
    Distillation,
    /// `REINFORCEMENT_FINE_TUNING` (with a grader function).
    ReinforcementFineTuning,
}

impl CustomizationType {
    pub(crate) const ALLOWED: &'static str =
        "FINE_TUNING, CONTINUED_PRE_TRAINING, DISTILLATION, REINFORCEMENT_FINE_TUNING";

    /// The name Bedrock's API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            CustomizationType::FineTuning => "FINE_TUNING",
            CustomizationType::ContinuedPreTraining => "CONTINUED_PRE_TRAINING",
            CustomizationType::Distillation => "DISTILLATION",
            CustomizationType::ReinforcementFineTuning => "REINFORCEMENT_FINE_TUNING",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "FINE_TUNING" => Some(CustomizationType::FineTuning),
            "CONTINUED_PRE_TRAINING" => Some(CustomizationType::ContinuedPreTraining),
            "DISTILLATION" => Some(CustomizationType::Distillation),
            "REINFORCEMENT_FINE_TUNING" => Some(CustomizationType::ReinforcementFineTuning),
            _ => None,
        }
    }
}

/// `Job`: the model customization job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobConfig {
    /// `BaseModelIdentifier`.
    pub base_model_identifier: String,
    /// `CustomModelName`; derived from the physical id when absent.
    pub custom_model_name: Option<String>,
    /// `JobName`; derived from the physical id when absent.
    pub job_name: Option<String>,
    /// `CustomizationType`.
    pub customization_type: CustomizationType,
    /// `HyperParameters`, as strings (empty for reinforcement fine-tuning,
    /// whose hyperparameters are typed in `reinforcement`).
    pub hyper_parameters: BTreeMap<String, String>,
    /// `CustomModelKmsKeyArn`.
    pub custom_model_kms_key_arn: Option<String>,
    /// With `DISTILLATION` only (and always there).
    pub distillation: Option<Distillation>,
    /// With `REINFORCEMENT_FINE_TUNING` only (and always there).
    pub reinforcement: Option<ReinforcementFineTuning>,
    /// `CompletionSignalUrl`: signalled once when the job ends.
    pub completion_signal_url: Option<SignalUrl>,
    /// `StopJobOnDelete`.
    pub stop_job_on_delete: bool,
    /// `DeleteCustomModelOnDelete`: a trained model is data, kept unless asked.
    pub delete_custom_model_on_delete: bool,
}

/// What a `DISTILLATION` job carries: Bedrock's
/// `customizationConfig.distillationConfig.teacherModelConfig`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Distillation {
    /// `Job.TeacherModelIdentifier`.
    pub teacher_model_identifier: String,
    /// Bedrock's default when absent.
    pub max_response_length_for_inference: Option<i32>,
}

/// The properties `Job` accepts.
pub const JOB_KEYS: &[&str] = &[
    "BaseModelIdentifier",
    "CustomModelName",
    "JobName",
    "CustomizationType",
    "HyperParameters",
    "CustomModelKmsKeyArn",
    "TeacherModelIdentifier",
    "MaxResponseLengthForInference",
    "GraderLambdaArn",
    "CompletionSignalUrl",
    "StopJobOnDelete",
    "DeleteCustomModelOnDelete",
];
