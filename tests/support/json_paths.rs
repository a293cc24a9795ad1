//! Edits of JSON property sets by dotted path, for tests that vary one
//! property at a time.

use serde_json::Value;

/// `v` with `path` (dot-separated) set to `value`.
pub(crate) fn with(mut v: Value, path: &str, value: Value) -> Value {
    let parts: Vec<&str> = path.split('.').collect();
    let mut cur = &mut v;
    for p in &parts[..parts.len() - 1] {
        cur = &mut cur[*p];
    }
    cur[parts[parts.len() - 1]] = value;
    v
}

/// `v` without `path`.
pub(crate) fn without(mut v: Value, path: &str) -> Value {
    let parts: Vec<&str> = path.split('.').collect();
    let mut cur = &mut v;
    for p in &parts[..parts.len() - 1] {
        cur = &mut cur[*p];
    }
    if let Some(o) = cur.as_object_mut() {
        o.remove(parts[parts.len() - 1]);
    }
    v
}
