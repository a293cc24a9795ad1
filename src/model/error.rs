//! Validation errors that a stack user can act on: each names the property,
//! what is wrong with the value and what is allowed.

use std::fmt;

/// One problem with one property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyError {
    /// Path of the property, e.g. `VpcConfig.SubnetIds[2]`.
    pub property: String,
    /// What is wrong with the given value.
    pub problem: String,
    /// What would be accepted instead.
    pub allowed: String,
}

impl fmt::Display for PropertyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} (allowed: {})",
            self.property, self.problem, self.allowed
        )
    }
}

/// Every problem found in one set of properties, reported together so that a
/// user fixes them in one deployment rather than one per attempt.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ValidationErrors(pub Vec<PropertyError>);

impl ValidationErrors {
    /// Records one problem.
    pub fn push(
        &mut self,
        property: impl Into<String>,
        problem: impl Into<String>,
        allowed: impl Into<String>,
    ) {
        self.0.push(PropertyError {
            property: property.into(),
            problem: problem.into(),
            allowed: allowed.into(),
        });
    }

    /// Whether no problem was found.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True when some error is about `property` or one of its members.
    pub fn mentions(&self, property: &str) -> bool {
        self.0.iter().any(|e| {
            e.property == property
                || e.property.starts_with(&format!("{property}."))
                || e.property.starts_with(&format!("{property}["))
        })
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(
            f,
            "invalid properties ({n} problem{}): ",
            plural(n, "", "s")
        )?;
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

/// Shortens a user value for quoting in an error message, so one huge value
/// cannot crowd every other problem out of CloudFormation's Reason.
pub(crate) fn quote(value: &str) -> String {
    const MAX: usize = 80;
    if value.chars().count() <= MAX {
        format!("'{value}'")
    } else {
        let head: String = value.chars().take(MAX).collect();
        format!("'{head}…' ({} characters)", value.chars().count())
    }
}

/// `one` or `many`, by `n`: for the words of a message that agree with a
/// count ("route table ... routes", "route tables ... route").
pub(crate) fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}
