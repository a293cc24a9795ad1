//! A distillation teacher served through a cross-region inference profile:
//! `GetInferenceProfile` says which models it routes to, which is what the
//! service role must be allowed to invoke. Read on every ensure that builds
//! the role (the role's policy needs it), so the setup is observed one way;
//! the pre-flight verdict on a new setup takes a missing profile from here.

use aws_sdk_bedrock::Client;

use super::{PartError, aws_error};
use crate::model::customization::TeacherProfile;
use crate::model::{ModelKind, PropertyError, SetupProperties, StackIdentity};

const TEACHER: &str = "Job.TeacherModelIdentifier";

/// What the teacher's profile turned out to be.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum TeacherLookup {
    /// No profile to look up: no distillation, or a teacher that is a model.
    #[default]
    NoProfile,
    /// The profile and the models it routes to.
    Profile(TeacherProfile),
    /// No such profile: the setup is doomed, and nothing may be made.
    Missing(PropertyError),
}

/// The teacher's inference profile, when the teacher is one.
pub(crate) async fn look_up(
    bedrock: &Client,
    stack: &StackIdentity,
    props: &SetupProperties,
) -> Result<TeacherLookup, PartError> {
    let Some(teacher) = props
        .job
        .as_ref()
        .and_then(|j| j.distillation.as_ref())
        .map(|d| d.teacher_model_identifier.as_str())
        .filter(|t| ModelKind::of(t) == ModelKind::InferenceProfile)
    else {
        return Ok(TeacherLookup::NoProfile);
    };
    let sent = bedrock
        .get_inference_profile()
        .inference_profile_identifier(teacher)
        .send()
        .await;
    match sent {
        Ok(out) => Ok(TeacherLookup::Profile(TeacherProfile {
            arn: out.inference_profile_arn().to_string(),
            model_arns: out
                .models()
                .iter()
                .filter_map(|m| m.model_arn().map(str::to_string))
                .collect(),
        })),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            Ok(TeacherLookup::Missing(PropertyError {
                property: TEACHER.to_string(),
                problem: format!(
                    "inference profile '{teacher}' was not found in {}",
                    stack.region
                ),
                allowed: format!(
                    "a foundation model, a custom model or an inference profile available in {}",
                    stack.region
                ),
            }))
        }
        // Without the profile's models the role cannot be granted what the
        // job needs: denied or not, this is an error, not a warning.
        Err(e) => Err(aws_error("bedrock:GetInferenceProfile", e)),
    }
}
