//! Pre-flight checks (SPEC section 7): before anything is made, that the data
//! exist, that the output bucket is in the stack's region, that the base
//! model exists and supports the customization, and that every KMS key is an
//! enabled symmetric key of the region. A job Bedrock accepts and then fails
//! costs an hour and sometimes money; these fail in seconds instead.
//!
//! Every check is one read, all at once, in the same round trip as the other
//! lookups. What is provably wrong is a failure naming the property; what the
//! user's own policies keep the handler from reading is a warning.

use aws_sdk_bedrock::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kms::types::KeyMetadata;
use futures_util::future::join_all;

use super::{Clients, PartError, aws_error, denied};
use crate::model::{
    CustomizationType, ModelKind, PropertyError, S3Uri, SetupProperties, StackIdentity,
};

/// What the checks found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Findings {
    /// Provably wrong: the setup must not be made.
    pub failures: Vec<PropertyError>,
    /// Could not be checked (the user's own policies deny the read).
    pub warnings: Vec<String>,
}

impl Findings {
    /// The failures as one error, in the form of a validation error.
    pub(crate) fn into_result(self) -> Result<Vec<String>, PartError> {
        if self.failures.is_empty() {
            Ok(self.warnings)
        } else {
            Err(PartError::Preflight(self.failures))
        }
    }
}

/// One check's verdict.
enum Verdict {
    Ok,
    Fails(PropertyError),
    Unchecked(String),
}

fn fails(property: &str, problem: String, allowed: impl Into<String>) -> Verdict {
    Verdict::Fails(PropertyError {
        property: property.to_string(),
        problem,
        allowed: allowed.into(),
    })
}

/// Runs every check at once.
pub(crate) async fn check(
    clients: &Clients,
    stack: &StackIdentity,
    props: &SetupProperties,
) -> Result<Findings, PartError> {
    let data = data_locations(props);
    let keys = named_keys(props);
    let model_check = async {
        match &props.job {
            Some(j) => {
                base_model(
                    clients,
                    stack,
                    &j.base_model_identifier,
                    j.customization_type,
                )
                .await
            }
            None => Ok(Verdict::Ok),
        }
    };
    let (data, keys, output, model, teacher, grader) = tokio::join!(
        join_all(
            data.iter()
                .map(|(property, uri)| data_exists(clients, property, uri))
        ),
        join_all(
            keys.iter()
                .map(|(property, key)| key_usable(clients, stack, property, key))
        ),
        output_bucket_region(clients, stack, &props.output_data.bucket),
        model_check,
        teacher_model(clients, stack, props),
        grader_exists(clients, props)
    );
    let mut findings = Findings::default();
    for verdict in data
        .into_iter()
        .chain(keys)
        .chain([output, model, teacher, grader])
    {
        match verdict? {
            Verdict::Ok => {}
            Verdict::Fails(e) => findings.failures.push(e),
            Verdict::Unchecked(w) => findings.warnings.push(w),
        }
    }
    Ok(findings)
}

/// Every location the job reads data from, by property. The invocation-log
/// location is read like training data: it must hold an object.
fn data_locations(props: &SetupProperties) -> Vec<(String, &S3Uri)> {
    let training = &props.training_data;
    let mut data = vec![(training.property().to_string(), training.location())];
    data.extend(
        props
            .validation_data
            .iter()
            .enumerate()
            .map(|(i, u)| (format!("ValidationDataUris[{i}]"), u)),
    );
    data
}

/// Every KMS key the setup names, by property.
fn named_keys(props: &SetupProperties) -> Vec<(String, &str)> {
    let mut keys: Vec<(String, &str)> = props
        .kms_key_arns
        .iter()
        .enumerate()
        .map(|(i, k)| (format!("KmsKeyArns[{i}]"), k.as_str()))
        .collect();
    if let Some(k) = props.custom_model_kms_key() {
        keys.push(("Job.CustomModelKmsKeyArn".to_string(), k));
    }
    keys
}

/// The object, or at least one object under the prefix: one key listed.
async fn data_exists(clients: &Clients, property: &str, uri: &S3Uri) -> Result<Verdict, PartError> {
    let mut req = clients.s3.list_objects_v2().bucket(&uri.bucket).max_keys(1);
    if !uri.key.is_empty() {
        req = req.prefix(&uri.key);
    }
    match req.send().await {
        Ok(out) if out.key_count().unwrap_or(0) > 0 || !out.contents().is_empty() => {
            Ok(Verdict::Ok)
        }
        Ok(_) => Ok(fails(
            property,
            format!("nothing was found at {uri}"),
            "an existing object, or a prefix with at least one object under it",
        )),
        Err(e) if e.code() == Some("NoSuchBucket") => Ok(fails(
            property,
            format!("bucket '{}' does not exist", uri.bucket),
            "data in an existing bucket",
        )),
        Err(e) if denied(e.code()) => Ok(Verdict::Unchecked(format!(
            "{property}: could not check {uri} (the bucket's policy denies the handler s3:ListBucket)"
        ))),
        Err(e) => Err(aws_error("s3:ListObjectsV2", e)),
    }
}

/// The region a bucket's `LocationConstraint` names (S3 answers none for
/// us-east-1, and the legacy `EU` for eu-west-1).
pub(crate) fn bucket_region(location_constraint: Option<&str>) -> &str {
    match location_constraint {
        None | Some("") => "us-east-1",
        Some("EU") => "eu-west-1",
        Some(r) => r,
    }
}

async fn output_bucket_region(
    clients: &Clients,
    stack: &StackIdentity,
    bucket: &str,
) -> Result<Verdict, PartError> {
    match clients.s3.get_bucket_location().bucket(bucket).send().await {
        Ok(out) => {
            let region = bucket_region(out.location_constraint().map(|c| c.as_str()));
            if region == stack.region {
                Ok(Verdict::Ok)
            } else {
                Ok(fails(
                    "OutputDataUri",
                    format!(
                        "bucket '{bucket}' is in {region}, not in the stack's region {}",
                        stack.region
                    ),
                    format!("a bucket in {}", stack.region),
                ))
            }
        }
        Err(e) if e.code() == Some("NoSuchBucket") => Ok(fails(
            "OutputDataUri",
            format!("bucket '{bucket}' does not exist"),
            "an existing bucket; this resource does not create buckets",
        )),
        Err(e) if denied(e.code()) => Ok(Verdict::Unchecked(format!(
            "OutputDataUri: could not check the region of bucket '{bucket}' (access denied)"
        ))),
        Err(e) => Err(aws_error("s3:GetBucketLocation", e)),
    }
}

/// Whether a base model identifier names a custom model (an ARN of one, or
/// a bare custom model name: foundation model ids are `provider.model`).
pub(crate) fn is_custom_model(identifier: &str) -> bool {
    identifier.contains(":custom-model/")
        || !(identifier.contains('.') || identifier.starts_with("arn:"))
}

/// Whether the customizations a foundation model lists include `kind`.
/// Bedrock's catalogue has no value for reinforcement fine-tuning
/// (`ModelCustomization` lists the other three), so that support is left to
/// Bedrock's answer at submission.
pub(crate) fn supports(customizations: &[&str], kind: CustomizationType) -> bool {
    kind == CustomizationType::ReinforcementFineTuning
        || customizations.iter().any(|c| *c == kind.as_str())
}

async fn base_model(
    clients: &Clients,
    stack: &StackIdentity,
    identifier: &str,
    kind: CustomizationType,
) -> Result<Verdict, PartError> {
    if is_custom_model(identifier) {
        custom_model_base(clients, stack, identifier).await
    } else {
        foundation_model_base(clients, stack, identifier, kind).await
    }
}

const BASE_MODEL: &str = "Job.BaseModelIdentifier";

async fn custom_model_base(
    clients: &Clients,
    stack: &StackIdentity,
    identifier: &str,
) -> Result<Verdict, PartError> {
    let sent = clients
        .bedrock
        .get_custom_model()
        .model_identifier(identifier)
        .send()
        .await;
    match sent {
        Ok(_) => Ok(Verdict::Ok),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            Ok(fails(
                BASE_MODEL,
                format!(
                    "custom model '{identifier}' was not found in {}",
                    stack.region
                ),
                "a foundation model id or ARN of this region, or an existing custom model",
            ))
        }
        Err(e) if denied(e.code()) => Ok(Verdict::Unchecked(format!(
            "{BASE_MODEL}: could not check custom model '{identifier}' (access denied)"
        ))),
        Err(e) => Err(aws_error("bedrock:GetCustomModel", e)),
    }
}

async fn foundation_model_base(
    clients: &Clients,
    stack: &StackIdentity,
    identifier: &str,
    kind: CustomizationType,
) -> Result<Verdict, PartError> {
    let sent = clients
        .bedrock
        .get_foundation_model()
        .model_identifier(identifier)
        .send()
        .await;
    let out = match sent {
        Ok(out) => out,
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            return Ok(fails(
                BASE_MODEL,
                format!("'{identifier}' was not found in {}", stack.region),
                format!("a foundation model available in {}", stack.region),
            ));
        }
        Err(e) if denied(e.code()) => {
            return Ok(Verdict::Unchecked(format!(
                "{BASE_MODEL}: could not check '{identifier}' (access denied)"
            )));
        }
        Err(e) => return Err(aws_error("bedrock:GetFoundationModel", e)),
    };
    let listed: Vec<&str> = out
        .model_details()
        .map(|d| {
            d.customizations_supported()
                .iter()
                .map(|c| c.as_str())
                .collect()
        })
        .unwrap_or_default();
    Ok(base_model_supports(identifier, &listed, kind))
}

/// The verdict on a foundation model that lists `listed` customizations.
fn base_model_supports(identifier: &str, listed: &[&str], kind: CustomizationType) -> Verdict {
    if supports(listed, kind) {
        return Verdict::Ok;
    }
    let supported = if listed.is_empty() {
        "no customization".to_string()
    } else {
        listed.join(", ")
    };
    fails(
        BASE_MODEL,
        format!(
            "'{identifier}' does not support {} (it supports {supported})",
            kind.as_str()
        ),
        format!(
            "a base model whose customizations include {}",
            kind.as_str()
        ),
    )
}

const TEACHER: &str = "Job.TeacherModelIdentifier";

/// A distillation teacher that is a model exists (one behind an inference
/// profile is looked up with the profile, by `parts::teacher`). Only its
/// existence: a teacher is invoked, not customized.
async fn teacher_model(
    clients: &Clients,
    stack: &StackIdentity,
    props: &SetupProperties,
) -> Result<Verdict, PartError> {
    let Some(teacher) = props
        .job
        .as_ref()
        .and_then(|j| j.distillation.as_ref())
        .map(|d| d.teacher_model_identifier.as_str())
    else {
        return Ok(Verdict::Ok);
    };
    let bedrock = &clients.bedrock;
    match ModelKind::of(teacher) {
        ModelKind::Foundation => judge_teacher(
            stack,
            teacher,
            "bedrock:GetFoundationModel",
            bedrock
                .get_foundation_model()
                .model_identifier(teacher)
                .send()
                .await,
            |e| e.is_resource_not_found_exception(),
        ),
        ModelKind::Custom => judge_teacher(
            stack,
            teacher,
            "bedrock:GetCustomModel",
            bedrock
                .get_custom_model()
                .model_identifier(teacher)
                .send()
                .await,
            |e| e.is_resource_not_found_exception(),
        ),
        ModelKind::InferenceProfile | ModelKind::ApplicationInferenceProfile => Ok(Verdict::Ok),
    }
}

fn judge_teacher<T, E>(
    stack: &StackIdentity,
    teacher: &str,
    operation: &'static str,
    sent: Result<T, SdkError<E>>,
    is_not_found: impl Fn(&E) -> bool,
) -> Result<Verdict, PartError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match sent {
        Ok(_) => Ok(Verdict::Ok),
        Err(e) if e.as_service_error().is_some_and(&is_not_found) => Ok(fails(
            TEACHER,
            format!("'{teacher}' was not found in {}", stack.region),
            format!(
                "a foundation model, a custom model or an inference profile available in {}",
                stack.region
            ),
        )),
        Err(e) if denied(e.code()) => Ok(Verdict::Unchecked(format!(
            "{TEACHER}: could not check '{teacher}' (access denied)"
        ))),
        Err(e) => Err(aws_error(operation, e)),
    }
}

const GRADER: &str = "Job.GraderLambdaArn";

/// A reinforcement fine-tuning job's grader function exists.
async fn grader_exists(clients: &Clients, props: &SetupProperties) -> Result<Verdict, PartError> {
    let Some(arn) = props
        .job
        .as_ref()
        .and_then(|j| j.reinforcement.as_ref())
        .map(|r| r.grader_lambda_arn.as_str())
    else {
        return Ok(Verdict::Ok);
    };
    match clients
        .lambda
        .get_function()
        .function_name(arn)
        .send()
        .await
    {
        Ok(_) => Ok(Verdict::Ok),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            Ok(fails(
                GRADER,
                format!("function '{arn}' does not exist"),
                "the ARN of an existing Lambda function (the reward function)",
            ))
        }
        Err(e) if denied(e.code()) => Ok(Verdict::Unchecked(format!(
            "{GRADER}: could not check function '{arn}' (access denied)"
        ))),
        Err(e) => Err(aws_error("lambda:GetFunction", e)),
    }
}

/// The region in a KMS key ARN.
fn key_region(arn: &str) -> Option<&str> {
    arn.split(':').nth(3)
}

/// The verdict on a key KMS described: enabled, symmetric, for encryption.
fn key_fit(property: &str, key: &str, meta: &KeyMetadata, allowed: String) -> Verdict {
    let state = meta.key_state().map(|s| s.as_str()).unwrap_or("unknown");
    let spec = meta.key_spec().map(|s| s.as_str()).unwrap_or("unknown");
    // A SYMMETRIC_DEFAULT key is always for ENCRYPT_DECRYPT; the usage is
    // judged where it is given.
    let usage = meta.key_usage().map(|s| s.as_str());
    if state != "Enabled" {
        fails(property, format!("key '{key}' is {state}"), allowed)
    } else if spec != "SYMMETRIC_DEFAULT" || usage.is_some_and(|u| u != "ENCRYPT_DECRYPT") {
        let usage = usage.unwrap_or("unknown use");
        fails(
            property,
            format!("key '{key}' is a {spec} key for {usage}"),
            allowed,
        )
    } else {
        Verdict::Ok
    }
}

async fn key_usable(
    clients: &Clients,
    stack: &StackIdentity,
    property: &str,
    key: &str,
) -> Result<Verdict, PartError> {
    let allowed = format!("an enabled symmetric encryption key in {}", stack.region);
    if let Some(region) = key_region(key)
        && region != stack.region
    {
        return Ok(fails(
            property,
            format!("key '{key}' is in {region}"),
            allowed,
        ));
    }
    match clients.kms.describe_key().key_id(key).send().await {
        Ok(out) => match out.key_metadata() {
            Some(meta) => Ok(key_fit(property, key, meta, allowed)),
            None => Err(PartError::Aws {
                operation: "kms:DescribeKey",
                message: "the response had no key metadata".into(),
                code: None,
            }),
        },
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_not_found_exception()) =>
        {
            Ok(fails(
                property,
                format!("key '{key}' does not exist"),
                allowed,
            ))
        }
        Err(e) if denied(e.code()) => Ok(Verdict::Unchecked(format!(
            "{property}: could not check key '{key}' (its key policy denies the handler kms:DescribeKey)"
        ))),
        Err(e) => Err(aws_error("kms:DescribeKey", e)),
    }
}
