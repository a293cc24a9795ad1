//! What the service role may invoke for the job: the reinforcement
//! fine-tuning grader, and a distillation teacher served through a
//! cross-region inference profile (Bedrock user guide: "Access and security
//! for Amazon Nova models"; "Permissions to create a Distillation job with a
//! cross-region inference profile"). Each as narrow as the need: the one
//! function, the one profile and the models it routes to.

use serde_json::{Value, json};

use super::{document, unique};
use crate::model::SetupProperties;
use crate::model::customization::TeacherProfile;

/// `lambda:InvokeFunction` on the grader; `None` without one.
pub fn grader_policy(props: &SetupProperties) -> Option<Value> {
    let rft = props.job.as_ref()?.reinforcement.as_ref()?;
    Some(document(vec![json!({
        "Sid": "InvokeTheGrader",
        "Effect": "Allow",
        "Action": ["lambda:InvokeFunction"],
        "Resource": rft.grader_resources(),
    })]))
}

/// `bedrock:InvokeModel` on the teacher's inference profile and on each
/// model it routes to; `None` for a teacher that is no profile.
pub fn teacher_policy(profile: Option<&TeacherProfile>) -> Option<Value> {
    let profile = profile?;
    let resources =
        unique(std::iter::once(profile.arn.clone()).chain(profile.model_arns.iter().cloned()));
    Some(document(vec![json!({
        "Sid": "InvokeTheTeacherThroughItsInferenceProfile",
        "Effect": "Allow",
        "Action": ["bedrock:InvokeModel"],
        "Resource": resources,
    })]))
}
