//! The resource's properties as CloudFormation delivers them (every scalar a
//! string), parsed into typed values and validated in one pass that reports
//! every problem at once.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::error::{ValidationErrors, quote};
use super::identity::{StackIdentity, TAG_NAMESPACE};
use super::s3uri::S3Uri;

pub const DEFAULT_ROLE_PATH: &str = "/bedrock-customization/";
pub const MAX_VALIDATION_URIS: usize = 10;
pub const MAX_KMS_KEYS: usize = 10;
pub const MAX_SUBNETS: usize = 16;
pub const MAX_SECURITY_GROUPS: usize = 5;
pub const MAX_ROUTE_TABLES: usize = 16;
/// IAM allows 50 tags on a role; two are ours (owner and fingerprint).
pub const MAX_USER_TAGS: usize = 48;
pub const MAX_HYPER_PARAMETERS: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupProperties {
    pub training_data: S3Uri,
    pub validation_data: Vec<S3Uri>,
    pub output_data: S3Uri,
    pub role_name: Option<String>,
    pub role_path: String,
    pub permissions_boundary_arn: Option<String>,
    pub kms_key_arns: Vec<String>,
    pub vpc: Option<VpcConfig>,
    pub s3_endpoint: S3EndpointConfig,
    pub restrict_output_bucket_to_vpc: bool,
    pub job: Option<JobConfig>,
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VpcConfig {
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3EndpointConfig {
    /// Only meaningful with a VpcConfig.
    pub create: bool,
    /// Empty: the route tables of the subnets.
    pub route_table_ids: Vec<String>,
    pub policy: EndpointPolicyKind,
}

impl Default for S3EndpointConfig {
    fn default() -> Self {
        S3EndpointConfig {
            create: true,
            route_table_ids: Vec::new(),
            policy: EndpointPolicyKind::Restricted,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointPolicyKind {
    Restricted,
    FullAccess,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomizationType {
    FineTuning,
    ContinuedPreTraining,
    Distillation,
}

impl CustomizationType {
    pub const ALLOWED: &'static str = "FINE_TUNING, CONTINUED_PRE_TRAINING, DISTILLATION";

    pub fn as_str(self) -> &'static str {
        match self {
            CustomizationType::FineTuning => "FINE_TUNING",
            CustomizationType::ContinuedPreTraining => "CONTINUED_PRE_TRAINING",
            CustomizationType::Distillation => "DISTILLATION",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "FINE_TUNING" => Some(CustomizationType::FineTuning),
            "CONTINUED_PRE_TRAINING" => Some(CustomizationType::ContinuedPreTraining),
            "DISTILLATION" => Some(CustomizationType::Distillation),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobConfig {
    pub base_model_identifier: String,
    pub custom_model_name: Option<String>,
    pub job_name: Option<String>,
    pub customization_type: CustomizationType,
    pub hyper_parameters: BTreeMap<String, String>,
    pub custom_model_kms_key_arn: Option<String>,
    /// With `DISTILLATION` only (and always there).
    pub distillation: Option<Distillation>,
    pub stop_job_on_delete: bool,
    pub delete_custom_model_on_delete: bool,
}

/// What a `DISTILLATION` job carries: Bedrock's
/// `customizationConfig.distillationConfig.teacherModelConfig`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Distillation {
    pub teacher_model_identifier: String,
    /// Bedrock's default when absent.
    pub max_response_length_for_inference: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// Every property name, by level: what the parser accepts.
pub const TOP_LEVEL: &[&str] = &[
    "ServiceToken",
    "ServiceTimeout",
    "TrainingDataUri",
    "ValidationDataUris",
    "OutputDataUri",
    "RoleName",
    "RolePath",
    "PermissionsBoundaryArn",
    "KmsKeyArns",
    "VpcConfig",
    "S3Endpoint",
    "RestrictOutputBucketToVpc",
    "Job",
    "Tags",
];
pub const VPC_KEYS: &[&str] = &["SubnetIds", "SecurityGroupIds"];
pub const ENDPOINT_KEYS: &[&str] = &["Create", "RouteTableIds", "Policy"];
pub const JOB_KEYS: &[&str] = &[
    "BaseModelIdentifier",
    "CustomModelName",
    "JobName",
    "CustomizationType",
    "HyperParameters",
    "CustomModelKmsKeyArn",
    "TeacherModelIdentifier",
    "MaxResponseLengthForInference",
    "StopJobOnDelete",
    "DeleteCustomModelOnDelete",
];

impl SetupProperties {
    /// Parses and validates `ResourceProperties`. Nothing here calls AWS; on
    /// error every problem found is returned.
    pub fn parse(value: &Value, stack: &StackIdentity) -> Result<Self, ValidationErrors> {
        let mut errs = ValidationErrors::default();
        let Some(map) = value.as_object() else {
            errs.push(
                "ResourceProperties",
                format!("is {} rather than an object", json_kind(value)),
                "an object of the properties in the resource contract",
            );
            return Err(errs);
        };
        let mut r = Reader {
            map,
            path: String::new(),
            errs: &mut errs,
        };
        r.reject_unknown(TOP_LEVEL);
        match r.string("ServiceToken", true) {
            Some(t) if t.trim().is_empty() => {
                r.err("ServiceToken", "is empty", "the handler's ARN")
            }
            _ => {}
        }
        if let Some(v) = r.map.get("ServiceTimeout")
            && let Err(problem) = service_timeout_value(v)
        {
            r.err(
                "ServiceTimeout",
                problem,
                "a whole number of seconds from 1 to 3600",
            );
        }
        let training = r.s3_uri("TrainingDataUri", true);
        let validation = r.list("ValidationDataUris", 0, MAX_VALIDATION_URIS, |r, p, v| {
            r.s3_uri_value(p, v)
        });
        let output = r.s3_uri("OutputDataUri", true);
        let role_name = r.string("RoleName", false);
        if let Some(n) = &role_name {
            check_role_name(r.errs, n);
        }
        let role_path = r
            .string("RolePath", false)
            .unwrap_or_else(|| DEFAULT_ROLE_PATH.to_string());
        check_role_path(r.errs, &role_path);
        let boundary = r.string("PermissionsBoundaryArn", false);
        if let Some(b) = &boundary {
            check_boundary_arn(r.errs, &stack.partition, b);
        }
        let kms = r.list("KmsKeyArns", 0, MAX_KMS_KEYS, |r, p, v| {
            let s = r.string_value(p, v)?;
            check_kms_key_arn(r.errs, p, &stack.partition, &s).then_some(s)
        });
        r.no_duplicates("KmsKeyArns", &kms);
        let vpc = r.object("VpcConfig").map(|o| {
            let mut r = r.nested("VpcConfig", o);
            r.reject_unknown(VPC_KEYS);
            let subnets = r.required_list("SubnetIds", 1, MAX_SUBNETS, |r, p, v| {
                r.ec2_id(p, v, "subnet", "subnet-<8 or 17 hex digits>")
            });
            let groups = r.required_list("SecurityGroupIds", 1, MAX_SECURITY_GROUPS, |r, p, v| {
                r.ec2_id(p, v, "sg", "sg-<8 or 17 hex digits>")
            });
            r.no_duplicates("SubnetIds", &subnets);
            r.no_duplicates("SecurityGroupIds", &groups);
            VpcConfig {
                subnet_ids: subnets,
                security_group_ids: groups,
            }
        });
        let endpoint_given = r.map.contains_key("S3Endpoint");
        let s3_endpoint = r
            .object("S3Endpoint")
            .map(|o| {
                let mut r = r.nested("S3Endpoint", o);
                r.reject_unknown(ENDPOINT_KEYS);
                let create = r.boolean("Create", true);
                let route_table_ids = r.list("RouteTableIds", 0, MAX_ROUTE_TABLES, |r, p, v| {
                    r.ec2_id(p, v, "rtb", "rtb-<8 or 17 hex digits>")
                });
                r.no_duplicates("RouteTableIds", &route_table_ids);
                let policy = match r.string("Policy", false).as_deref() {
                    None | Some("Restricted") => EndpointPolicyKind::Restricted,
                    Some("FullAccess") => EndpointPolicyKind::FullAccess,
                    Some(other) => {
                        r.err(
                            "Policy",
                            format!("{} is not a known endpoint policy", quote(other)),
                            "Restricted or FullAccess",
                        );
                        EndpointPolicyKind::Restricted
                    }
                };
                S3EndpointConfig {
                    create,
                    route_table_ids,
                    policy,
                }
            })
            .unwrap_or_default();
        let restrict = r.boolean("RestrictOutputBucketToVpc", false);
        if vpc.is_none() && r.map.contains_key("VpcConfig") {
            // Already reported as a malformed VpcConfig.
        } else if vpc.is_none() {
            if endpoint_given {
                r.err(
                    "S3Endpoint",
                    "is given without VpcConfig",
                    "S3Endpoint only together with VpcConfig",
                );
            }
            if restrict {
                r.err(
                    "RestrictOutputBucketToVpc",
                    "is true without VpcConfig, so there is no VPC to restrict the bucket to",
                    "true only together with VpcConfig",
                );
            }
        }
        let job = r.object("Job").map(|o| {
            let mut r = r.nested("Job", o);
            r.reject_unknown(JOB_KEYS);
            let base = r.string("BaseModelIdentifier", true).unwrap_or_default();
            if r.map.contains_key("BaseModelIdentifier") {
                check_base_model(&mut r, &base);
            }
            let custom_model_name = r.string("CustomModelName", false);
            if let Some(n) = &custom_model_name
                && !is_model_name(n)
            {
                r.err(
                    "CustomModelName",
                    format!("{} does not match the custom model name pattern", quote(n)),
                    "1-63 letters or digits, each optionally followed by one '_' or '-'",
                );
            }
            let job_name = r.string("JobName", false);
            if let Some(n) = &job_name
                && !is_job_name(n)
            {
                r.err(
                    "JobName",
                    format!("{} does not match the job name pattern", quote(n)),
                    "1-63 characters matching ^[a-zA-Z0-9](-*[a-zA-Z0-9+\\-.])*$",
                );
            }
            let customization_type = match r.string("CustomizationType", false) {
                None => CustomizationType::FineTuning,
                Some(s) => CustomizationType::parse(&s).unwrap_or_else(|| {
                    r.err(
                        "CustomizationType",
                        format!("{} is not a customization type", quote(&s)),
                        CustomizationType::ALLOWED,
                    );
                    CustomizationType::FineTuning
                }),
            };
            let hyper_parameters = r.hyper_parameters("HyperParameters");
            let custom_model_kms_key_arn = r.string("CustomModelKmsKeyArn", false);
            if let Some(k) = &custom_model_kms_key_arn {
                let p = r.path_of("CustomModelKmsKeyArn");
                check_kms_key_arn(r.errs, &p, &stack.partition, k);
            }
            let distillation = distillation(&mut r, customization_type);
            JobConfig {
                base_model_identifier: base,
                custom_model_name,
                job_name,
                customization_type,
                hyper_parameters,
                custom_model_kms_key_arn,
                distillation,
                stop_job_on_delete: r.boolean("StopJobOnDelete", true),
                delete_custom_model_on_delete: r.boolean("DeleteCustomModelOnDelete", false),
            }
        });
        let tags = r.tags("Tags");

        match (training, output) {
            (Some(training_data), Some(output_data)) if errs.is_empty() => Ok(SetupProperties {
                training_data,
                validation_data: validation,
                output_data,
                role_name,
                role_path,
                permissions_boundary_arn: boundary,
                kms_key_arns: kms,
                vpc,
                s3_endpoint,
                restrict_output_bucket_to_vpc: restrict,
                job,
                tags,
            }),
            _ => Err(errs),
        }
    }

    /// `RolePath` must lie within the path the handler's template grants
    /// (SPEC section 7): outside it every IAM write would be denied mid-way.
    pub fn check_role_path_within(&self, managed: &str) -> Result<(), ValidationErrors> {
        if role_path_within(&self.role_path, managed) {
            return Ok(());
        }
        let mut errs = ValidationErrors::default();
        errs.push(
            "RolePath",
            format!(
                "{} lies outside the path this handler may manage",
                quote(&self.role_path)
            ),
            format!("'{managed}' or a path below it (the handler stack's RolePath parameter)"),
        );
        Err(errs)
    }

    /// Whether an S3 gateway endpoint is part of this setup.
    pub fn wants_endpoint(&self) -> bool {
        self.vpc.is_some() && self.s3_endpoint.create
    }

    /// Every KMS key the role may use for data (not the custom model key).
    pub fn data_kms_keys(&self) -> &[String] {
        &self.kms_key_arns
    }

    /// The custom model's key, when the job has one.
    pub fn custom_model_kms_key(&self) -> Option<&str> {
        self.job
            .as_ref()
            .and_then(|j| j.custom_model_kms_key_arn.as_deref())
    }
}

/// Walks one JSON object, recording problems under the property's full path.
struct Reader<'a, 'e> {
    map: &'a Map<String, Value>,
    path: String,
    errs: &'e mut ValidationErrors,
}

impl<'a, 'e> Reader<'a, 'e> {
    fn nested<'b>(&'b mut self, name: &str, map: &'a Map<String, Value>) -> Reader<'a, 'b> {
        Reader {
            map,
            path: self.path_of(name),
            errs: self.errs,
        }
    }

    fn path_of(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.path)
        }
    }

    fn err(&mut self, name: &str, problem: impl Into<String>, allowed: impl Into<String>) {
        let p = self.path_of(name);
        self.errs.push(p, problem, allowed);
    }

    fn reject_unknown(&mut self, known: &[&str]) {
        for key in self.map.keys() {
            if !known.contains(&key.as_str()) {
                let suggestion = known
                    .iter()
                    .find(|k| k.eq_ignore_ascii_case(key))
                    .map(|k| format!(" (did you mean {k}?)"))
                    .unwrap_or_default();
                self.err(
                    key,
                    format!("is not a property of this resource{suggestion}"),
                    known.join(", "),
                );
            }
        }
    }

    fn string(&mut self, name: &str, required: bool) -> Option<String> {
        match self.map.get(name) {
            None => {
                if required {
                    self.err(name, "is missing", "a value (required)");
                }
                None
            }
            Some(v) => {
                let p = self.path_of(name);
                self.string_value(&p, v)
            }
        }
    }

    fn string_value(&mut self, path: &str, v: &Value) -> Option<String> {
        match v {
            Value::String(s) if s.is_empty() => {
                self.errs
                    .push(path, "is an empty string", "a non-empty string");
                None
            }
            Value::String(s) => Some(s.clone()),
            // Templates written by hand or tools sometimes carry numbers;
            // CloudFormation itself turns them into strings.
            Value::Number(n) => Some(n.to_string()),
            other => {
                self.errs.push(
                    path,
                    format!("is {} rather than a string", json_kind(other)),
                    "a string",
                );
                None
            }
        }
    }

    fn boolean(&mut self, name: &str, default: bool) -> bool {
        match self.map.get(name) {
            None => default,
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => true,
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => false,
            Some(other) => {
                let shown = match other {
                    Value::String(s) => quote(s),
                    v => json_kind(v).to_string(),
                };
                self.err(name, format!("{shown} is not a boolean"), "true or false");
                default
            }
        }
    }

    /// A whole number from 1 to 2^31-1, as a string or a number.
    fn positive_integer(&mut self, name: &str) -> Option<i32> {
        let v = self.map.get(name)?;
        let p = self.path_of(name);
        let text = self.string_value(&p, v)?;
        match text.parse::<i32>() {
            Ok(n) if n >= 1 => Some(n),
            _ => {
                self.err(
                    name,
                    format!("{} is not a positive whole number", quote(&text)),
                    "a whole number from 1 to 2147483647",
                );
                None
            }
        }
    }

    fn object(&mut self, name: &str) -> Option<&'a Map<String, Value>> {
        match self.map.get(name)? {
            Value::Object(o) => Some(o),
            other => {
                self.err(
                    name,
                    format!("is {} rather than an object", json_kind(other)),
                    "an object",
                );
                None
            }
        }
    }

    fn required_list<T>(
        &mut self,
        name: &str,
        min: usize,
        max: usize,
        item: impl FnMut(&mut Self, &str, &'a Value) -> Option<T>,
    ) -> Vec<T> {
        if !self.map.contains_key(name) {
            self.err(
                name,
                "is missing",
                format!("a list of {min}-{max} items (required)"),
            );
        }
        self.list(name, min, max, item)
    }

    fn list<T>(
        &mut self,
        name: &str,
        min: usize,
        max: usize,
        mut item: impl FnMut(&mut Self, &str, &'a Value) -> Option<T>,
    ) -> Vec<T> {
        let Some(v) = self.map.get(name) else {
            return Vec::new();
        };
        let Some(items) = v.as_array() else {
            self.err(
                name,
                format!("is {} rather than a list", json_kind(v)),
                format!("a list of {min}-{max} items"),
            );
            return Vec::new();
        };
        if items.len() < min || items.len() > max {
            self.err(
                name,
                format!("has {} items", items.len()),
                format!("{min}-{max} items"),
            );
        }
        let base = self.path_of(name);
        items
            .iter()
            .enumerate()
            .filter_map(|(i, v)| item(self, &format!("{base}[{i}]"), v))
            .collect()
    }

    fn no_duplicates(&mut self, name: &str, items: &[String]) {
        let mut seen = BTreeSet::new();
        for i in items {
            if !seen.insert(i) {
                self.err(
                    name,
                    format!("lists {} more than once", quote(i)),
                    "each value once",
                );
            }
        }
    }

    fn s3_uri(&mut self, name: &str, required: bool) -> Option<S3Uri> {
        let v = match self.map.get(name) {
            None => {
                if required {
                    self.err(
                        name,
                        "is missing",
                        "an s3://bucket/key-or-prefix URI (required)",
                    );
                }
                return None;
            }
            Some(v) => v,
        };
        let p = self.path_of(name);
        self.s3_uri_value(&p, v)
    }

    fn s3_uri_value(&mut self, path: &str, v: &Value) -> Option<S3Uri> {
        let s = self.string_value(path, v)?;
        match S3Uri::parse(&s) {
            Ok(u) => Some(u),
            Err(problem) => {
                self.errs.push(
                    path,
                    format!("{} {problem}", quote(&s)),
                    "s3://bucket/key-or-prefix, at most 1024 characters, no wildcards",
                );
                None
            }
        }
    }

    fn ec2_id(&mut self, path: &str, v: &Value, prefix: &str, allowed: &str) -> Option<String> {
        let s = self.string_value(path, v)?;
        let ok = s
            .strip_prefix(prefix)
            .and_then(|r| r.strip_prefix('-'))
            .is_some_and(|hex| {
                (hex.len() == 8 || hex.len() == 17)
                    && hex
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            });
        if ok {
            Some(s)
        } else {
            self.errs
                .push(path, format!("{} is not a {prefix} id", quote(&s)), allowed);
            None
        }
    }

    fn hyper_parameters(&mut self, name: &str) -> BTreeMap<String, String> {
        let Some(o) = self.object(name) else {
            return BTreeMap::new();
        };
        let base = self.path_of(name);
        if o.len() > MAX_HYPER_PARAMETERS {
            self.errs.push(
                base.clone(),
                format!("has {} entries", o.len()),
                format!("at most {MAX_HYPER_PARAMETERS} entries"),
            );
        }
        let mut out = BTreeMap::new();
        for (k, v) in o {
            let p = format!("{base}.{k}");
            if k.is_empty() || k.len() > 64 {
                self.errs.push(
                    p.clone(),
                    "has a name of the wrong length",
                    "names of 1-64 characters",
                );
            }
            match v {
                Value::Bool(b) => {
                    out.insert(k.clone(), b.to_string());
                }
                v => {
                    if let Some(s) = self.string_value(&p, v) {
                        if s.len() > 256 {
                            self.errs.push(
                                p,
                                format!("is {} characters long", s.len()),
                                "values of at most 256 characters",
                            );
                        } else {
                            out.insert(k.clone(), s);
                        }
                    }
                }
            }
        }
        out
    }

    fn tags(&mut self, name: &str) -> Vec<Tag> {
        let tags = self.list(name, 0, MAX_USER_TAGS, |r, p, v| {
            let Some(o) = v.as_object() else {
                r.errs.push(
                    p,
                    format!("is {} rather than a {{Key, Value}} object", json_kind(v)),
                    "{\"Key\": \"...\", \"Value\": \"...\"}",
                );
                return None;
            };
            let mut r = r.nested_path(p, o);
            r.reject_unknown(&["Key", "Value"]);
            let key = r.string("Key", true)?;
            let value = match o.get("Value") {
                Some(Value::String(s)) => s.clone(),
                Some(_) => r.string("Value", true)?,
                None => {
                    r.err("Value", "is missing", "a string of 0-256 characters");
                    return None;
                }
            };
            check_tag(&mut r, &key, &value).then_some(Tag { key, value })
        });
        let keys: Vec<String> = tags.iter().map(|t| t.key.clone()).collect();
        self.no_duplicates(name, &keys);
        tags
    }

    fn nested_path<'b>(&'b mut self, path: &str, map: &'a Map<String, Value>) -> Reader<'a, 'b> {
        Reader {
            map,
            path: path.to_string(),
            errs: self.errs,
        }
    }
}

fn check_tag(r: &mut Reader, key: &str, value: &str) -> bool {
    let mut ok = true;
    let allowed_chars = |s: &str| {
        s.chars()
            .all(|c| c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c))
    };
    if key.chars().count() > 128 || !allowed_chars(key) {
        r.err(
            "Key",
            format!("{} is not a valid tag key", quote(key)),
            "1-128 letters, digits, spaces and _ . : / = + - @",
        );
        ok = false;
    }
    if key.to_ascii_lowercase().starts_with("aws:") || key.starts_with(TAG_NAMESPACE) {
        r.err(
            "Key",
            format!("{} is reserved", quote(key)),
            format!("a key not starting with aws: or {TAG_NAMESPACE}"),
        );
        ok = false;
    }
    if value.chars().count() > 256 || !allowed_chars(value) {
        r.err(
            "Value",
            format!("{} is not a valid tag value", quote(value)),
            "0-256 letters, digits, spaces and _ . : / = + - @",
        );
        ok = false;
    }
    ok
}

fn check_base_model(r: &mut Reader, base: &str) {
    check_model_identifier(r, "BaseModelIdentifier", base);
}

fn check_model_identifier(r: &mut Reader, name: &str, id: &str) {
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
fn distillation(r: &mut Reader, kind: CustomizationType) -> Option<Distillation> {
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
    Some(Distillation {
        teacher_model_identifier: teacher,
        max_response_length_for_inference: max_length,
    })
}

fn check_role_name(errs: &mut ValidationErrors, name: &str) {
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

fn check_role_path(errs: &mut ValidationErrors, path: &str) {
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

fn check_boundary_arn(errs: &mut ValidationErrors, partition: &str, arn: &str) {
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
fn check_kms_key_arn(errs: &mut ValidationErrors, path: &str, partition: &str, arn: &str) -> bool {
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
/// `ResourceProperties` (SPEC section 7). It changes nothing in AWS, so it is
/// not part of `SetupProperties`; the handler reads it to bound its working
/// time. `None` when absent or invalid (validation reports the latter).
pub fn service_timeout(properties: &Value) -> Option<std::time::Duration> {
    let v = properties.get("ServiceTimeout")?;
    service_timeout_value(v)
        .ok()
        .map(|secs| std::time::Duration::from_secs(u64::from(secs)))
}

fn service_timeout_value(v: &Value) -> Result<u32, String> {
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

/// `([0-9a-zA-Z][_-]?){1,63}`
pub fn is_model_name(name: &str) -> bool {
    let b = name.as_bytes();
    let mut groups = 0;
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_alphanumeric() {
            return false;
        }
        i += 1;
        if i < b.len() && (b[i] == b'_' || b[i] == b'-') {
            i += 1;
        }
        groups += 1;
    }
    (1..=63).contains(&groups)
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

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The names of one setup's parts: the user's where given, derived from the
/// physical id otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupNames {
    pub physical_id: String,
    pub role_name: String,
    pub job_name: Option<String>,
    pub model_name: Option<String>,
}

impl SetupProperties {
    pub fn names(&self, physical_id: &str) -> SetupNames {
        use super::identity::{derived_job_name, derived_model_name, derived_role_name};
        SetupNames {
            physical_id: physical_id.to_string(),
            role_name: self
                .role_name
                .clone()
                .unwrap_or_else(|| derived_role_name(physical_id)),
            job_name: self.job.as_ref().map(|j| {
                j.job_name
                    .clone()
                    .unwrap_or_else(|| derived_job_name(physical_id))
            }),
            model_name: self.job.as_ref().map(|j| {
                j.custom_model_name
                    .clone()
                    .unwrap_or_else(|| derived_model_name(physical_id))
            }),
        }
    }

    /// A digest of everything a submitted job depends on (SPEC §4): two
    /// property sets with the same fingerprint can share one setup; a
    /// different fingerprint means a replacement.
    pub fn replacement_fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut canon = Vec::new();
        canon.push(format!("training={}", self.training_data));
        for v in &self.validation_data {
            canon.push(format!("validation={v}"));
        }
        canon.push(format!("output={}", self.output_data));
        if let Some(vpc) = &self.vpc {
            canon.push(format!("subnets={}", vpc.subnet_ids.join(",")));
            canon.push(format!("groups={}", vpc.security_group_ids.join(",")));
        }
        canon.push(format!("role_name={:?}", self.role_name));
        canon.push(format!("role_path={}", self.role_path));
        if let Some(j) = &self.job {
            canon.push(format!("base={}", j.base_model_identifier));
            canon.push(format!("model_name={:?}", j.custom_model_name));
            canon.push(format!("job_name={:?}", j.job_name));
            canon.push(format!("type={}", j.customization_type.as_str()));
            for (k, v) in &j.hyper_parameters {
                canon.push(format!("hp:{k}={v}"));
            }
            canon.push(format!("model_key={:?}", j.custom_model_kms_key_arn));
            if let Some(d) = &j.distillation {
                canon.push(format!("teacher={}", d.teacher_model_identifier));
                canon.push(format!(
                    "teacher_max_length={:?}",
                    d.max_response_length_for_inference
                ));
            }
        }
        let digest = Sha256::digest(canon.join("\n").as_bytes());
        digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
    }

    /// Which in-place properties differ (for the answer's Reason and logs).
    pub fn in_place_changes(&self, old: &SetupProperties) -> Vec<&'static str> {
        let mut changed = Vec::new();
        let mut tags_new = self.tags.clone();
        let mut tags_old = old.tags.clone();
        tags_new.sort();
        tags_old.sort();
        if tags_new != tags_old {
            changed.push("Tags");
        }
        if self.kms_key_arns != old.kms_key_arns {
            changed.push("KmsKeyArns");
        }
        if self.restrict_output_bucket_to_vpc != old.restrict_output_bucket_to_vpc {
            changed.push("RestrictOutputBucketToVpc");
        }
        if self.permissions_boundary_arn != old.permissions_boundary_arn {
            changed.push("PermissionsBoundaryArn");
        }
        if self.s3_endpoint != old.s3_endpoint {
            changed.push("S3Endpoint");
        }
        let flags = |p: &SetupProperties| {
            p.job
                .as_ref()
                .map(|j| (j.stop_job_on_delete, j.delete_custom_model_on_delete))
        };
        if flags(self) != flags(old) {
            changed.push("Job.StopJobOnDelete/DeleteCustomModelOnDelete");
        }
        changed
    }
}
