//! The response body CloudFormation reads from the pre-signed URL.

use std::collections::{BTreeMap, HashMap};

use aws_lambda_events::event::cloudformation::{
    CloudFormationCustomResourceResponse, CloudFormationCustomResourceResponseStatus,
};

use super::Request;

/// CloudFormation rejects response bodies above 4096 bytes.
pub const MAX_BODY_BYTES: usize = 4096;
const TRUNCATED: &str = " [truncated]";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Success,
    Failed,
}

/// What the lifecycle decided to tell CloudFormation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status: Status,
    pub physical_id: String,
    pub reason: String,
    pub data: BTreeMap<String, String>,
}

impl Outcome {
    pub fn success(physical_id: impl Into<String>, reason: impl Into<String>) -> Self {
        Outcome {
            status: Status::Success,
            physical_id: physical_id.into(),
            reason: reason.into(),
            data: BTreeMap::new(),
        }
    }

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
    let physical_id = if outcome.physical_id.is_empty() {
        // CloudFormation requires one; a request it never had an id for
        // gets the log stream-independent request id.
        format!("unassigned-{}", request.request_id)
    } else {
        outcome.physical_id.clone()
    };
    let reason = if outcome.reason.trim().is_empty() {
        match outcome.status {
            Status::Success => "done".to_string(),
            Status::Failed => "failed".to_string(),
        }
    } else {
        outcome.reason.clone()
    };
    let build = |reason: &str, data: &BTreeMap<String, String>| {
        let mut r = CloudFormationCustomResourceResponse::default();
        r.status = match outcome.status {
            Status::Success => CloudFormationCustomResourceResponseStatus::Success,
            Status::Failed => CloudFormationCustomResourceResponseStatus::Failed,
        };
        r.reason = Some(reason.to_string());
        r.physical_resource_id = physical_id.clone();
        r.stack_id = request.stack_id.clone();
        r.request_id = request.request_id.clone();
        r.logical_resource_id = request.logical_resource_id.clone();
        r.no_echo = false;
        r.data = data
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<HashMap<_, _>>();
        serde_json::to_string(&r).unwrap_or_default()
    };
    let full = build(&reason, &outcome.data);
    if full.len() <= MAX_BODY_BYTES {
        return full;
    }
    let empty = BTreeMap::new();
    for data in [&outcome.data, &empty] {
        let overhead = build("", data).len();
        if overhead + TRUNCATED.len() + 16 > MAX_BODY_BYTES {
            continue;
        }
        // JSON escaping can grow the text; shrink until the body fits.
        let mut budget = MAX_BODY_BYTES - overhead - TRUNCATED.len();
        loop {
            let short = format!("{}{TRUNCATED}", truncate_at_char(&reason, budget));
            let body = build(&short, data);
            if body.len() <= MAX_BODY_BYTES || budget == 0 {
                return body;
            }
            budget = budget.saturating_sub((body.len() - MAX_BODY_BYTES).max(1));
        }
    }
    build("failed; the reason was too long to send", &empty)
}

fn truncate_at_char(s: &str, max_bytes: usize) -> &str {
    if s.len() <= max_bytes {
        return s;
    }
    let mut end = max_bytes;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}
