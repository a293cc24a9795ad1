//! What an event must do, decided without calling AWS.

use std::time::Duration;

use crate::cfn::Request;
use crate::model::identity::{is_our_physical_id, physical_id_for};
use crate::model::{ResourceProperties, SetupProperties, StackIdentity, ValidationErrors};

/// CloudFormation's request type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// `Create`.
    Create,
    /// `Update`.
    Update,
    /// `Delete`.
    Delete,
}

/// A request read once, before anything is done for it: what the handler
/// needs to bound and answer it, and what `decide` needs.
#[derive(Debug, Clone)]
pub struct Event {
    /// The stack the resource belongs to.
    pub stack: StackIdentity,
    /// The id a new setup of this request takes (a Create's, or an Update's
    /// replacement), a pure function of the request so that a repeated
    /// delivery gets the same one.
    pub new_physical_id: String,
    /// `ResourceProperties`, parsed.
    pub properties: Parsed,
    /// `OldResourceProperties` (Update only), parsed.
    pub old_properties: Option<Parsed>,
    /// CloudFormation's `ServiceTimeout` for the resource, when given and valid.
    pub service_timeout: Option<Duration>,
}

impl Event {
    /// Reads `req`; the reason when its stack id cannot be read (then
    /// neither names nor properties can be).
    pub fn read(req: &Request) -> Result<Self, String> {
        let stack = StackIdentity::from_stack_id(&req.stack_id)?;
        let ResourceProperties {
            setup: properties,
            service_timeout,
        } = ResourceProperties::read(&req.properties, &stack);
        let old_properties = req
            .old_properties
            .as_ref()
            .map(|o| SetupProperties::parse(o, &stack));
        Ok(Event {
            new_physical_id: physical_id_for(&stack, &req.logical_resource_id, &req.request_id),
            stack,
            properties,
            old_properties,
            service_timeout,
        })
    }
}

/// The parts of an event the decision needs.
#[derive(Debug, Clone)]
pub struct EventFacts<'a> {
    /// The request type.
    pub kind: RequestKind,
    /// The stack the resource belongs to.
    pub stack: &'a StackIdentity,
    /// The resource's logical id in the template.
    pub logical_id: &'a str,
    /// The id a new setup takes (`Event::new_physical_id`).
    pub new_physical_id: &'a str,
    /// Absent on Create.
    pub physical_id: Option<&'a str>,
    /// The event's properties, parsed once where the request is read.
    pub properties: &'a Parsed,
    /// Update only.
    pub old_properties: Option<&'a Parsed>,
    /// Update only: the fingerprint on the deployed setup's role, when the
    /// orchestrator found one (see `SetupProperties::replacement_fingerprint`).
    pub deployed_fingerprint: Option<&'a str>,
    /// The IAM path the handler's template grants; a `RolePath` outside it
    /// is refused before anything is made.
    pub managed_role_path: &'a str,
}

/// Properties as parsed from the event: typed, or every problem found.
pub(crate) type Parsed = Result<SetupProperties, ValidationErrors>;

/// The properties a Create or Update would make: valid, and within what the
/// handler may manage.
fn properties_to_apply(e: &EventFacts) -> Parsed {
    let props = e.properties.clone()?;
    props.check_role_path_within(e.managed_role_path)?;
    Ok(props)
}

/// What an event must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Make or adopt every part of the setup under `physical_id`.
    Ensure(Ensure),
    /// Remove every part that carries `physical_id`.
    Teardown {
        /// The setup's physical id.
        physical_id: String,
        /// Its properties: the names of its parts and the delete flags.
        props: Box<SetupProperties>,
    },
    /// Answer SUCCESS without touching anything.
    Nothing {
        /// The physical id to answer.
        physical_id: String,
        /// The Reason.
        why: String,
    },
    /// An Update that changes nothing the setup depends on (only
    /// `ServiceTimeout` or `ServiceToken` differ): read the setup back for
    /// the answer's Data and change nothing.
    Unchanged {
        /// The setup's physical id.
        physical_id: String,
        /// Its properties.
        props: Box<SetupProperties>,
    },
    /// Answer FAILED without touching anything.
    Refuse {
        /// The physical id to answer.
        physical_id: String,
        /// The Reason.
        reason: String,
    },
}

/// Making or adopting a setup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ensure {
    /// The setup's physical id.
    pub physical_id: String,
    /// What it must be.
    pub props: Box<SetupProperties>,
    /// Whether it is new, changed in place or a replacement.
    pub how: EnsureKind,
}

/// How a setup is ensured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnsureKind {
    /// A new setup.
    Create,
    /// Same physical id; the listed properties changed.
    InPlace {
        /// The in-place properties that changed, for the Reason.
        changed: Vec<&'static str>,
    },
    /// A new setup; `old_physical_id`'s S3 endpoint is handed over when it
    /// serves the same VPC.
    Replace {
        /// The setup being replaced, which CloudFormation deletes next.
        old_physical_id: String,
        /// Its properties, when they validated.
        old_props: Option<Box<SetupProperties>>,
    },
}

impl Ensure {
    /// Whether a failure must remove what this request made (a new setup)
    /// rather than leave an existing one to CloudFormation's rollback.
    pub fn is_new_setup(&self) -> bool {
        !matches!(self.how, EnsureKind::InPlace { .. })
    }

    /// The setup this one replaces, with its properties, when they are known.
    pub(crate) fn replaced(&self) -> Option<(&str, &SetupProperties)> {
        match &self.how {
            EnsureKind::Replace {
                old_physical_id,
                old_props: Some(old),
            } => Some((old_physical_id, old)),
            _ => None,
        }
    }
}

/// Decides what an event must do, from its facts alone.
pub fn decide(e: &EventFacts) -> Decision {
    match e.kind {
        RequestKind::Create => {
            let physical_id = e.new_physical_id.to_string();
            match properties_to_apply(e) {
                Ok(props) => Decision::Ensure(Ensure {
                    physical_id,
                    props: Box::new(props),
                    how: EnsureKind::Create,
                }),
                Err(errs) => refuse(physical_id, &errs),
            }
        }
        RequestKind::Update => decide_update(e),
        RequestKind::Delete => {
            let physical_id = e.physical_id.unwrap_or_default().to_string();
            if !is_our_physical_id(e.stack, e.logical_id, &physical_id) {
                return Decision::Nothing {
                    why: format!(
                        "physical id '{physical_id}' was not made by this handler; nothing to delete"
                    ),
                    physical_id,
                };
            }
            match e.properties {
                Ok(props) => Decision::Teardown {
                    physical_id,
                    props: Box::new(props.clone()),
                },
                // Properties that never validated never created anything:
                // validation precedes every change.
                Err(_) => Decision::Nothing {
                    why: "the properties never passed validation, so nothing was created".into(),
                    physical_id,
                },
            }
        }
    }
}

/// Whether the new properties need a new setup: their fingerprint differs
/// from the old properties', unless the deployed setup already is what they
/// describe (CloudFormation rolling back a failed replacement). Old
/// properties that never validated never changed anything; the deployed
/// setup is reconciled in place.
fn needs_replacement(
    deployed_fingerprint: Option<&str>,
    old: Option<&SetupProperties>,
    new: &SetupProperties,
) -> bool {
    let target = new.replacement_fingerprint();
    match (deployed_fingerprint, old) {
        (Some(deployed), _) if deployed == target => false,
        (_, Some(old)) => old.replacement_fingerprint() != target,
        (_, None) => false,
    }
}

fn decide_update(e: &EventFacts) -> Decision {
    let current = e.physical_id.unwrap_or_default().to_string();
    let new = match properties_to_apply(e) {
        Ok(p) => p,
        Err(errs) => return refuse(current, &errs),
    };
    let replacement_id = e.new_physical_id.to_string();
    if !is_our_physical_id(e.stack, e.logical_id, &current) {
        // Nothing of ours stands behind a placeholder: make a new setup.
        return Decision::Ensure(Ensure {
            physical_id: replacement_id,
            props: Box::new(new),
            how: EnsureKind::Create,
        });
    }
    let old = e.old_properties.and_then(|o| o.as_ref().ok()).cloned();
    let replace = needs_replacement(e.deployed_fingerprint, old.as_ref(), &new);
    if !replace && old.as_ref() == Some(&new) {
        return Decision::Unchanged {
            physical_id: current,
            props: Box::new(new),
        };
    }
    if !replace {
        let changed = old
            .as_ref()
            .map(|o| new.in_place_changes(o))
            .unwrap_or_default();
        return Decision::Ensure(Ensure {
            physical_id: current,
            props: Box::new(new),
            how: EnsureKind::InPlace { changed },
        });
    }
    let clashes = old
        .as_ref()
        .map(|old| fixed_name_clashes(old, &current, &new))
        .unwrap_or_default();
    if !clashes.is_empty() {
        return Decision::Refuse {
            physical_id: current,
            reason: format!(
                "this update replaces the setup, and the old one stays until CloudFormation deletes it, so the fixed name{} {} cannot be reused: change the name or leave it unset",
                crate::model::error::plural(clashes.len(), "", "s"),
                clashes.join(", ")
            ),
        };
    }
    Decision::Ensure(Ensure {
        physical_id: replacement_id,
        props: Box::new(new),
        how: EnsureKind::Replace {
            old_physical_id: current,
            old_props: old.map(Box::new),
        },
    })
}

/// Names the user fixed that a replacement would need while the old setup
/// still holds them.
fn fixed_name_clashes(old: &SetupProperties, old_id: &str, new: &SetupProperties) -> Vec<String> {
    let old_names = old.names(old_id);
    let mut clashes = Vec::new();
    if let Some(n) = &new.role_name
        && *n == old_names.role_name
    {
        clashes.push(format!("RoleName '{n}'"));
    }
    if let Some(j) = &new.job {
        if let Some(n) = &j.job_name
            && old_names.job_name.as_ref() == Some(n)
        {
            clashes.push(format!("Job.JobName '{n}'"));
        }
        if let Some(n) = &j.custom_model_name
            && old_names.model_name.as_ref() == Some(n)
        {
            clashes.push(format!("Job.CustomModelName '{n}'"));
        }
    }
    if let Some(n) = new.deployment.as_ref().and_then(|d| d.name.as_ref())
        && old_names.deployment.as_ref().map(|d| &d.name) == Some(n)
    {
        clashes.push(format!("Deployment.Name '{n}'"));
    }
    clashes
}

fn refuse(physical_id: String, errs: &ValidationErrors) -> Decision {
    Decision::Refuse {
        physical_id,
        reason: errs.to_string(),
    }
}
