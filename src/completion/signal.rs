//! The completion signal: CloudFormation's wait-condition format, sent to a
//! WaitConditionHandle's URL once the job ends.

use serde_json::json;

/// How a model customization job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobEnd {
    /// Training finished: the custom model exists.
    Completed {
        /// The custom model's ARN.
        model_arn: String,
    },
    /// Bedrock gave up on the job.
    Failed {
        /// Bedrock's failure message.
        message: String,
    },
    /// Someone stopped the job.
    Stopped {
        /// Bedrock's message, where it gave one.
        message: String,
    },
}

/// Bedrock's message is cut to this many characters: the signal is read by
/// people in the stack's events.
const MAX_MESSAGE_CHARS: usize = 1000;

fn shortened(message: &str) -> String {
    if message.chars().count() <= MAX_MESSAGE_CHARS {
        message.to_string()
    } else {
        let head: String = message.chars().take(MAX_MESSAGE_CHARS).collect();
        format!("{head}…")
    }
}

/// The signal's JSON body: `SUCCESS` with the custom model's ARN as `Data`,
/// or `FAILURE` with Bedrock's message; the job's name as `UniqueId`, so a
/// repeated signal counts once.
pub(super) fn signal_body(end: &JobEnd, job_name: &str) -> String {
    let (status, reason, data) = match end {
        JobEnd::Completed { model_arn } => (
            "SUCCESS",
            format!("model customization job {job_name} completed"),
            model_arn.clone(),
        ),
        JobEnd::Failed { message } => (
            "FAILURE",
            format!(
                "model customization job {job_name} failed: {}",
                shortened(message)
            ),
            shortened(message),
        ),
        JobEnd::Stopped { message } => (
            "FAILURE",
            format!("model customization job {job_name} was stopped"),
            shortened(message),
        ),
    };
    wait_condition_body(status, &reason, job_name, &data)
}

/// The signal of a job that Completed and whose model was to be deployed:
/// `SUCCESS` with the ARN to invoke as `Data` once the deployment is ready,
/// `FAILURE` with Bedrock's message if it failed. Same `UniqueId` as the
/// job's own signal: the WaitCondition counts one signal per job.
pub(super) fn deployment_signal_body(job_name: &str, deployment: Result<&str, &str>) -> String {
    let (status, reason, data) = match deployment {
        Ok(arn) => (
            "SUCCESS",
            format!("model customization job {job_name} completed and its model is deployed"),
            arn.to_string(),
        ),
        Err(message) => (
            "FAILURE",
            format!(
                "model customization job {job_name} completed but its model could not be deployed: {}",
                shortened(message)
            ),
            shortened(message),
        ),
    };
    wait_condition_body(status, &reason, job_name, &data)
}

/// CloudFormation's wait-condition signal format.
fn wait_condition_body(status: &str, reason: &str, unique_id: &str, data: &str) -> String {
    json!({ "Status": status, "Reason": reason, "UniqueId": unique_id, "Data": data }).to_string()
}
