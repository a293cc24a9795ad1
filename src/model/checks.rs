//! Checks of single values, each recording what is wrong and what is
//! allowed: model identifiers, IAM names and paths, ARNs, the
//! distillation settings and CloudFormation's ServiceTimeout.

use serde_json::Value;

use super::customization::ModelKind;
use super::error::{ValidationErrors, quote};
use super::job::{CustomizationType, Distillation};
use super::reader::Reader;

pub(crate) fn check_base_model(r: &mut Reader, base: &str) {
    check_model_identifier(r, "BaseModelIdentifier", base);
}

pub(crate) fn check_model_identifier(r: &mut Reader, name: &str, id: &str) {
    if id.len() > 2048 || id.chars().any(|c| c.is_whitespace() || c.is_control()) {
        r.err(
            name,
            format!("{} is not a model identifier", quote(id)),
            "a foundation model id or ARN of at most 2048 characters, without spaces",
        );
    }
}

/// The teacher of a `DISTILLATION` job: required there, refused elsewhere
/// (Bedrock rejects a distillation configuration on any other type).
pub(crate) fn distillation(r: &mut Reader, kind: CustomizationType) -> Option<Distillation> {
    let teacher = r.string("TeacherModelIdentifier", false);
    let max_length = r.positive_integer("MaxResponseLengthForInference");
    if kind != CustomizationType::Distillation {
        for (name, given) in [
            ("TeacherModelIdentifier", teacher.is_some()),
            (
                "MaxResponseLengthForInference",
                r.map.contains_key("MaxResponseLengthForInference"),
            ),
        ] {
            if given {
                r.err(
                    name,
                    format!("is given for a {} job", kind.as_str()),
                    "only with CustomizationType DISTILLATION",
                );
            }
        }
        return None;
    }
    let Some(teacher) = teacher else {
        if !r.map.contains_key("TeacherModelIdentifier") {
            r.err(
                "TeacherModelIdentifier",
                "is missing",
                "the teacher model's id or ARN (required with CustomizationType DISTILLATION)",
            );
        }
        return None;
    };
    check_model_identifier(r, "TeacherModelIdentifier", &teacher);
    if ModelKind::of(&teacher) == ModelKind::ApplicationInferenceProfile {
        r.err(
            "TeacherModelIdentifier",
            format!("{} is an application inference profile", quote(&teacher)),
            "a foundation model, a custom model, or a cross-region inference profile (id such as us.amazon.nova-premier-v1:0, or its ARN)",
        );
    }
    Some(Distillation {
        teacher_model_identifier: teacher,
        max_response_length_for_inference: max_length,
    })
}

pub(crate) fn check_role_name(errs: &mut ValidationErrors, name: &str) {
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if name.len() > 64 || !ok_chars {
        errs.push(
            "RoleName",
            format!("{} is not a valid IAM role name", quote(name)),
            "1-64 letters, digits and + = , . @ _ -",
        );
    }
}

pub(crate) fn check_role_path(errs: &mut ValidationErrors, path: &str) {
    let ok = path == "/"
        || (path.len() <= 512
            && path.len() >= 2
            && path.starts_with('/')
            && path.ends_with('/')
            && !path.contains("//")
            && path.chars().all(|c| ('\u{21}'..='\u{7e}').contains(&c)));
    if !ok {
        errs.push(
            "RolePath",
            format!("{} is not a valid IAM path", quote(path)),
            "'/' or '/segment/.../' of printable ASCII, at most 512 characters",
        );
    }
}

pub(crate) fn check_boundary_arn(errs: &mut ValidationErrors, partition: &str, arn: &str) {
    let prefix = format!("arn:{partition}:iam::");
    let ok = arn.strip_prefix(&prefix).is_some_and(|rest| {
        let (acct, res) = rest.split_once(':').unwrap_or(("", ""));
        (acct == "aws" || (acct.len() == 12 && acct.bytes().all(|b| b.is_ascii_digit())))
            && res.strip_prefix("policy/").is_some_and(|p| !p.is_empty())
    });
    if !ok {
        errs.push(
            "PermissionsBoundaryArn",
            format!(
                "{} is not an IAM policy ARN of partition {partition}",
                quote(arn)
            ),
            format!("arn:{partition}:iam::<account>:policy/<name>"),
        );
    }
}

/// A KMS key ARN (not an alias) in the stack's partition.
pub(crate) fn check_kms_key_arn(
    errs: &mut ValidationErrors,
    path: &str,
    partition: &str,
    arn: &str,
) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[1] == partition
        && parts[2] == "kms"
        && !parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        // Key ids are 36 characters (a UUID, or `mrk-` and 32 hex digits for
        // a multi-Region key), which is what Bedrock's API model demands.
        && parts[5].strip_prefix("key/").is_some_and(|id| {
            id.len() == 36 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if !ok {
        errs.push(
            path,
            format!(
                "{} is not a KMS key ARN of partition {partition}",
                quote(arn)
            ),
            format!("arn:{partition}:kms:<region>:<account>:key/<36-character key id>"),
        );
    }
    ok
}

/// CloudFormation's own per-resource timeout, which it delivers inside
/// `ResourceProperties` (SPEC section 7), in seconds.
pub(crate) fn service_timeout_value(v: &Value) -> Result<u32, String> {
    let secs = match v {
        Value::String(s) => s.trim().parse::<u32>().ok(),
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        _ => None,
    };
    match secs {
        Some(s) if (1..=3600).contains(&s) => Ok(s),
        _ => Err(match v {
            Value::String(s) => format!("{} is not a whole number from 1 to 3600", quote(s)),
            other => format!("{} is not a whole number from 1 to 3600", other),
        }),
    }
}

/// Whether an IAM path lies within `managed` (both end in '/').
pub fn role_path_within(path: &str, managed: &str) -> bool {
    path.starts_with(managed)
}

/// `property`, a `what` name (a custom model's, a deployment's), must follow
/// Bedrock's model name pattern.
pub(crate) fn check_model_name(r: &mut Reader, property: &str, name: &str, what: &str) {
    if !is_model_name(name) {
        r.err(
            property,
            format!("{} does not match the {what} name pattern", quote(name)),
            "at most 63 characters: letters or digits, each optionally followed by one '_' or '-'",
        );
    }
}

/// 1-63 characters of `([0-9a-zA-Z][_-]?){1,63}`: the API limits the
/// length as well, and within 63 characters the 63 groups always fit.
pub fn is_model_name(name: &str) -> bool {
    let b = name.as_bytes();
    if !(1..=63).contains(&b.len()) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_alphanumeric() {
            return false;
        }
        i += 1;
        if i < b.len() && (b[i] == b'_' || b[i] == b'-') {
            i += 1;
        }
    }
    true
}

/// 1-63 characters of `^[a-zA-Z0-9](-*[a-zA-Z0-9\+\-\.])*$`.
pub fn is_job_name(name: &str) -> bool {
    let b = name.as_bytes();
    // `-*` followed by a class that includes '-' means every character after
    // the first is from the class, and the last cannot be a bare run of '-'
    // only if the class admits it; since '-' is in the class, any tail of
    // the class characters matches.
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || b"+-.".contains(c))
}
