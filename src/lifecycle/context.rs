//! What one request carries through the orchestrator and its steps.

use aws_sdk_iam::types::Role;

use super::Settings;
use crate::cfn::Request;
use crate::model::{SetupProperties, StackIdentity};
use crate::parts::Clients;

/// One request, read once: what every step of the orchestrator works from.
pub(super) struct Context<'a> {
    pub(super) clients: &'a Clients,
    pub(super) settings: &'a Settings,
    pub(super) stack: &'a StackIdentity,
    pub(super) req: &'a Request,
    /// The event's old properties (Update), when they validated.
    pub(super) old: Option<&'a SetupProperties>,
}

/// A role lookup this request already made: the name, and what was found.
pub(super) type KnownRole = Option<(String, Option<Role>)>;
