//! The response body CloudFormation reads from the pre-signed URL.

use std::collections::{BTreeMap, HashMap};

use aws_lambda_events::event::cloudformation::{
    CloudFormationCustomResourceResponse, CloudFormationCustomResourceResponseStatus,
};

use super::Request;

/// CloudFormation rejects response bodies above 4096 bytes.
pub const MAX_BODY_BYTES: usize = 4096;
const TRUNCATED: &str = " [truncated]";

/// The answer's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// `SUCCESS`.
    Success,
    /// `FAILED`.
    Failed,
}

/// What the lifecycle decided to tell CloudFormation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// SUCCESS or FAILED.
    pub status: Status,
    /// The physical id to answer (on FAILED too).
    pub physical_id: String,
    /// The Reason.
    pub reason: String,
    /// `Data`: the outputs, read with `!GetAtt`.
    pub data: BTreeMap<String, String>,
}

impl Outcome {
    /// A SUCCESS answer.
    pub fn success(physical_id: impl Into<String>, reason: impl Into<String>) -> Self {
        Outcome {
            status: Status::Success,
            physical_id: physical_id.into(),
            reason: reason.into(),
            data: BTreeMap::new(),
        }
    }

    /// A FAILED answer.
    pub fn failed(physical_id: impl Into<String>, reason: impl Into<String>) -> Self {
        Outcome {
            status: Status::Failed,
            physical_id: physical_id.into(),
            reason: reason.into(),
            data: BTreeMap::new(),
        }
    }
}

/// Serialises the response, shortening Reason (and, as a last resort,
/// dropping Data) so that the body always fits CloudFormation's limit.
pub fn body(request: &Request, outcome: &Outcome) -> String {
    let physical_id = answer_physical_id(request, outcome);
    let reason = answer_reason(outcome);
    let build = |reason: &str, data: &BTreeMap<String, String>| {
        render(request, outcome.status, &physical_id, reason, data)
    };
    let full = build(&reason, &outcome.data);
    if full.len() <= MAX_BODY_BYTES {
        return full;
    }
    // Too long: the Reason is cut first, then the Data goes too.
    let empty = BTreeMap::new();
    [&outcome.data, &empty]
        .into_iter()
        .find_map(|data| longest_reason_that_fits(&reason, |r| build(r, data)))
        .unwrap_or_else(|| build("failed; the reason was too long to send", &empty))
}

/// CloudFormation requires a physical id; a request it never had one for
/// gets one from its request id.
fn answer_physical_id(request: &Request, outcome: &Outcome) -> String {
    if outcome.physical_id.is_empty() {
        format!("unassigned-{}", request.request_id)
    } else {
        outcome.physical_id.clone()
    }
}

/// The Reason, never blank.
fn answer_reason(outcome: &Outcome) -> String {
    if !outcome.reason.trim().is_empty() {
        return outcome.reason.clone();
    }
    match outcome.status {
        Status::Success => "done".to_string(),
        Status::Failed => "failed".to_string(),
    }
}

/// The body as CloudFormation reads it.
fn render(
    request: &Request,
    status: Status,
    physical_id: &str,
    reason: &str,
    data: &BTreeMap<String, String>,
) -> String {
    let mut r = CloudFormationCustomResourceResponse::default();
    r.status = match status {
        Status::Success => CloudFormationCustomResourceResponseStatus::Success,
        Status::Failed => CloudFormationCustomResourceResponseStatus::Failed,
    };
    r.reason = Some(reason.to_string());
    r.physical_resource_id = physical_id.to_string();
    r.stack_id = request.stack_id.clone();
    r.request_id = request.request_id.clone();
    r.logical_resource_id = request.logical_resource_id.clone();
    r.no_echo = false;
    r.data = data
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect::<HashMap<_, _>>();
    serde_json::to_string(&r).unwrap_or_default()
}

/// The body with the longest prefix of `reason` (marked as truncated) that
/// keeps it within the limit; `None` when not even an empty prefix fits.
/// JSON escaping makes the body's size uneven in the reason's length, hence
/// a search rather than a sum.
fn longest_reason_that_fits(reason: &str, build: impl Fn(&str) -> String) -> Option<String> {
    let fits = |cut: usize| {
        let body = build(&format!("{}{TRUNCATED}", &reason[..cut]));
        (body.len() <= MAX_BODY_BYTES).then_some(body)
    };
    let mut best = fits(0)?;
    let (mut lo, mut hi) = (0, reason.len());
    while lo < hi {
        let mid = floor_char_boundary(reason, lo + (hi - lo).div_ceil(2));
        if mid <= lo {
            break;
        }
        match fits(mid) {
            Some(body) => {
                best = body;
                lo = mid;
            }
            None => hi = mid - 1,
        }
    }
    Some(best)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}
