//! The reader behind property parsing: walks one JSON object and records
//! every problem under the property's full path, so that all of them are
//! reported at once.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::error::{ValidationErrors, quote};
use super::identity::TAG_NAMESPACE;
use super::s3uri::S3Uri;
use super::tags::{MAX_USER_TAGS, Tag};

/// Bedrock takes at most this many hyperparameters.
const MAX_HYPER_PARAMETERS: usize = 50;

/// Walks one JSON object, recording problems under the property's full path.
pub(crate) struct Reader<'a, 'e> {
    pub(crate) map: &'a Map<String, Value>,
    pub(crate) path: String,
    pub(crate) errs: &'e mut ValidationErrors,
}

impl<'a, 'e> Reader<'a, 'e> {
    pub(crate) fn nested<'b>(
        &'b mut self,
        name: &str,
        map: &'a Map<String, Value>,
    ) -> Reader<'a, 'b> {
        let path = self.path_of(name);
        self.nested_path(&path, map)
    }

    pub(crate) fn path_of(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.path)
        }
    }

    pub(crate) fn err(
        &mut self,
        name: &str,
        problem: impl Into<String>,
        allowed: impl Into<String>,
    ) {
        let p = self.path_of(name);
        self.errs.push(p, problem, allowed);
    }

    pub(crate) fn reject_unknown(&mut self, known: &[&str]) {
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

    pub(crate) fn string(&mut self, name: &str, required: bool) -> Option<String> {
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

    pub(crate) fn string_value(&mut self, path: &str, v: &Value) -> Option<String> {
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

    pub(crate) fn boolean(&mut self, name: &str, default: bool) -> bool {
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
    pub(crate) fn positive_integer(&mut self, name: &str) -> Option<i32> {
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

    pub(crate) fn object(&mut self, name: &str) -> Option<&'a Map<String, Value>> {
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

    pub(crate) fn required_list<T>(
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

    pub(crate) fn list<T>(
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

    pub(crate) fn no_duplicates(&mut self, name: &str, items: &[String]) {
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

    pub(crate) fn s3_uri(&mut self, name: &str, required: bool) -> Option<S3Uri> {
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

    pub(crate) fn s3_uri_value(&mut self, path: &str, v: &Value) -> Option<S3Uri> {
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

    pub(crate) fn ec2_id(
        &mut self,
        path: &str,
        v: &Value,
        prefix: &str,
        allowed: &str,
    ) -> Option<String> {
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

    pub(crate) fn hyper_parameters(&mut self, name: &str) -> BTreeMap<String, String> {
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

    pub(crate) fn tags(&mut self, name: &str) -> Vec<Tag> {
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

    pub(crate) fn nested_path<'b>(
        &'b mut self,
        path: &str,
        map: &'a Map<String, Value>,
    ) -> Reader<'a, 'b> {
        Reader {
            map,
            path: path.to_string(),
            errs: self.errs,
        }
    }
}

pub(crate) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// One tag's key and value, as IAM, EC2, S3 and Bedrock all accept them.
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
