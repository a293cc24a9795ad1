//! The custom-resource request, read through `aws_lambda_events`' types and
//! kept in a form whose Debug output never shows the ResponseURL.

use std::fmt;

use aws_lambda_events::event::cloudformation::CloudFormationCustomResourceRequest as CfnRequest;
use serde::Deserialize;
use serde_json::Value;
use thiserror::Error;

use crate::model::signal_url::url_host;
use crate::plan::RequestKind;

/// The pre-signed S3 URL CloudFormation waits on. It is a credential: its
/// Debug and Display show only the host.
#[derive(Clone, PartialEq, Eq)]
pub struct ResponseUrl(String);

impl ResponseUrl {
    /// Wraps the URL CloudFormation sent.
    pub fn new(url: String) -> Self {
        ResponseUrl(url)
    }

    /// The full URL, for the one place that sends the answer.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Scheme and host only, safe to log.
    pub fn redacted(&self) -> String {
        format!("https://{}/<redacted>", url_host(&self.0))
    }
}

impl fmt::Debug for ResponseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ResponseUrl({})", self.redacted())
    }
}

impl fmt::Display for ResponseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// A custom-resource request, as the handler works with it.
#[derive(Debug, Clone)]
pub struct Request {
    /// The request type.
    pub kind: RequestKind,
    /// The request's id.
    pub request_id: String,
    /// Where the answer goes (a credential; never logged).
    pub response_url: ResponseUrl,
    /// The stack's ARN.
    pub stack_id: String,
    /// The resource's logical id.
    pub logical_resource_id: String,
    /// Absent on Create.
    pub physical_resource_id: Option<String>,
    /// `ResourceProperties`, as sent.
    pub properties: Value,
    /// `OldResourceProperties` (Update), as sent.
    pub old_properties: Option<Value>,
}

/// Why an event could not be read as a request.
#[derive(Debug, Error)]
pub enum RequestError {
    /// Enough of the event was readable to answer with FAILED.
    #[error("the event is not a valid CloudFormation custom resource request: {problem}")]
    Answerable {
        /// What is wrong with the event (never quoting it).
        problem: String,
        /// What could be read: enough to answer.
        partial: Box<Request>,
    },
    /// No ResponseURL (or not even JSON): there is nobody to answer.
    #[error("the event is not a CloudFormation custom resource request: {0}")]
    Unanswerable(String),
}

impl Request {
    /// Reads an event as CloudFormation delivers it.
    pub fn parse(event: Value) -> Result<Self, RequestError> {
        // Read by reference: the event itself is still needed to salvage an
        // answerable request from one the types refuse.
        match CfnRequest::deserialize(&event) {
            Ok(req) => match Self::from_cfn(req) {
                Some(r) => Ok(r),
                None => match Self::salvage(event) {
                    Some(partial) => Err(RequestError::Answerable {
                        problem: "unknown RequestType".into(),
                        partial: Box::new(partial),
                    }),
                    None => Err(RequestError::Unanswerable("unknown RequestType".into())),
                },
            },
            Err(e) => {
                // The library's message may quote the event; keep only the
                // category so no ResponseURL leaks into logs or Reason.
                let problem = format!(
                    "{:?} error at line {} column {}",
                    e.classify(),
                    e.line(),
                    e.column()
                );
                match Self::salvage(event) {
                    Some(partial) => Err(RequestError::Answerable {
                        problem,
                        partial: Box::new(partial),
                    }),
                    None => Err(RequestError::Unanswerable(problem)),
                }
            }
        }
    }

    fn from_cfn(req: CfnRequest) -> Option<Self> {
        Some(match req {
            CfnRequest::Create(c) => Request {
                kind: RequestKind::Create,
                request_id: c.request_id,
                response_url: ResponseUrl(c.response_url),
                stack_id: c.stack_id,
                logical_resource_id: c.logical_resource_id,
                physical_resource_id: None,
                properties: c.resource_properties,
                old_properties: None,
            },
            CfnRequest::Update(u) => Request {
                kind: RequestKind::Update,
                request_id: u.request_id,
                response_url: ResponseUrl(u.response_url),
                stack_id: u.stack_id,
                logical_resource_id: u.logical_resource_id,
                physical_resource_id: Some(u.physical_resource_id),
                properties: u.resource_properties,
                old_properties: Some(u.old_resource_properties),
            },
            CfnRequest::Delete(d) => Request {
                kind: RequestKind::Delete,
                request_id: d.request_id,
                response_url: ResponseUrl(d.response_url),
                stack_id: d.stack_id,
                logical_resource_id: d.logical_resource_id,
                physical_resource_id: Some(d.physical_resource_id),
                properties: d.resource_properties,
                old_properties: None,
            },
            // `#[non_exhaustive]`: a request type CloudFormation may add later.
            _ => return None,
        })
    }

    /// Reads what an answer needs from an event that failed to parse,
    /// taking its fields.
    fn salvage(event: Value) -> Option<Request> {
        let Value::Object(mut fields) = event else {
            return None;
        };
        let mut s = |k: &str| match fields.remove(k) {
            Some(Value::String(v)) => Some(v),
            _ => None,
        };
        let url = s("ResponseURL")?;
        let kind = match s("RequestType").as_deref() {
            Some("Create") => RequestKind::Create,
            Some("Update") => RequestKind::Update,
            _ => RequestKind::Delete,
        };
        let request_id = s("RequestId").unwrap_or_default();
        let stack_id = s("StackId").unwrap_or_default();
        let logical_resource_id = s("LogicalResourceId").unwrap_or_default();
        let physical_resource_id = s("PhysicalResourceId");
        Some(Request {
            kind,
            request_id,
            response_url: ResponseUrl(url),
            stack_id,
            logical_resource_id,
            physical_resource_id,
            properties: fields.remove("ResourceProperties").unwrap_or(Value::Null),
            old_properties: fields.remove("OldResourceProperties"),
        })
    }

    pub(crate) fn kind_name(&self) -> &'static str {
        match self.kind {
            RequestKind::Create => "Create",
            RequestKind::Update => "Update",
            RequestKind::Delete => "Delete",
        }
    }
}
