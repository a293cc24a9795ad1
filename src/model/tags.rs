//! Tags as AWS takes them: each key once, order irrelevant.

use std::collections::BTreeMap;

use super::identity::{ORPHAN_TAG_KEY, OWNER_TAG_KEY};

/// IAM allows 50 tags on a role; two are ours (owner and fingerprint).
pub(crate) const MAX_USER_TAGS: usize = 48;

/// One of the user's `Tags`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Tag {
    /// `Key`.
    pub key: String,
    /// `Value`.
    pub value: String,
}

/// A set of tags: what a part should carry, or what it carries now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagSet(BTreeMap<String, String>);

impl TagSet {
    /// The tags every part of a setup gets: the user's, plus our owner tag.
    pub fn owned(user: &[Tag], physical_id: &str) -> Self {
        TagSet::from_pairs(user.iter().map(|t| (t.key.as_str(), t.value.as_str())))
            .with(OWNER_TAG_KEY, physical_id)
    }

    /// Tags read from a service, whatever its tag type.
    pub(crate) fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        TagSet(
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    /// This set with one more tag (or another value for the key).
    pub fn with(mut self, key: &str, value: &str) -> Self {
        self.0.insert(key.to_string(), value.to_string());
        self
    }

    /// Key and value of each tag, by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// The physical id of the setup that owns the tagged part.
    pub fn owner(&self) -> Option<&str> {
        self.get(OWNER_TAG_KEY)
    }

    /// Keys a part carries now (`current`) that this desired set no longer
    /// has. `aws:` keys belong to AWS; the orphan marker is cleared only once
    /// its orphan is gone.
    pub(crate) fn stale_keys<'a>(&self, current: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        current
            .into_iter()
            .filter(|k| !k.starts_with("aws:") && *k != ORPHAN_TAG_KEY && !self.0.contains_key(*k))
            .map(str::to_string)
            .collect()
    }
}
