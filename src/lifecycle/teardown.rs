//! Removing every part that carries a physical id, each part at once, and
//! the Reason's account of what happened to each.

use tracing::warn;

use super::Settings;
use crate::completion::pending;
use crate::model::SetupProperties;
use crate::model::deployment::what;
use crate::model::identity::bucket_statement_sid;
use crate::model::properties::SetupNames;
use crate::parts::{Clients, PartError, Removal, bucket_policy, deployment, endpoint, job, role};

impl Removal {
    /// The Reason's words for this outcome of `what`; `done` says what
    /// removing it means ("deleted", "stopped").
    pub(crate) fn describe(self, what: &str, done: &str) -> String {
        match self {
            Removal::Done => format!("{what} {done}"),
            Removal::NotFound => format!("{what} was already gone"),
            Removal::NotOurs => format!("{what} is not ours and was left alone"),
            Removal::Kept => format!("{what} kept"),
        }
    }
}

/// Removes every part carrying `pid`. Every part is attempted even when
/// another fails, so that one broken service leaves as little as possible;
/// the first error is returned. `after_failure` is the undo of a request
/// that failed, whatever the flags say: its job, submitted minutes ago at
/// most, is stopped, and a model of ours under its name goes too, since
/// such a job cannot have trained one worth keeping.
pub(super) async fn teardown(
    clients: &Clients,
    settings: &Settings,
    pid: &str,
    props: &SetupProperties,
    after_failure: bool,
) -> Result<String, PartError> {
    let names = props.names(pid);
    let bucket = props.output_data.bucket.as_str();
    // Every part at once: stopping the job needs neither the role nor the
    // network, and none of them needs the job.
    let ((deployment, job), bucket_done, endpoints, role, signal) = tokio::join!(
        // Boxed: inline beside the others it outgrows a debug build's stack.
        Box::pin(remove_deployment_then_job(
            clients,
            settings,
            &names,
            props,
            after_failure
        )),
        remove_bucket_statement(clients, pid, props),
        endpoint::teardown(&clients.ec2, pid),
        role::teardown(
            &clients.iam,
            &names.role_name,
            pid,
            &settings.managed_role_path
        ),
        remove_pending_record(clients, pid, props),
    );
    let outcomes = Outcomes {
        deployment,
        job,
        bucket: bucket_done,
        endpoints,
        role,
        signal,
    };
    outcomes.summary(pid, &names, bucket, after_failure)
}

/// The deployment goes first, whatever the flags say (it bills while it
/// stands), and the model only once it is gone: Bedrock refuses to delete a
/// model a deployment serves. Stopping the job waits for none of this.
async fn remove_deployment_then_job(
    clients: &Clients,
    settings: &Settings,
    names: &SetupNames,
    props: &SetupProperties,
    after_failure: bool,
) -> (
    Result<Option<Removal>, PartError>,
    Result<Option<job::JobTeardown>, PartError>,
) {
    let pid = names.physical_id.as_str();
    let delete_model = props
        .job
        .as_ref()
        .is_some_and(|j| j.delete_custom_model_on_delete || after_failure);
    let deployment = match &names.deployment {
        Some(spec) => {
            let until = settings.assume_role_retry.until;
            Box::pin(deployment::remove(
                &clients.bedrock,
                pid,
                spec,
                delete_model,
                until,
            ))
            .await
            .map(Some)
        }
        None => Ok(None),
    };
    let job = match (&props.job, names.job()) {
        (Some(j), Some(named)) => job::teardown(
            &clients.bedrock,
            pid,
            named,
            j.stop_job_on_delete || after_failure,
            delete_model && deployment.is_ok(),
        )
        .await
        .map(Some),
        _ => Ok(None),
    };
    (deployment, job)
}

/// Our statement in the output bucket's policy, if there is one.
async fn remove_bucket_statement(
    clients: &Clients,
    pid: &str,
    props: &SetupProperties,
) -> Result<bool, PartError> {
    let bucket = props.output_data.bucket.as_str();
    match bucket_policy::remove_statement_by_sid(&clients.s3, bucket, &bucket_statement_sid(pid))
        .await
    {
        Ok(removed) => Ok(removed),
        // Without the restriction there is nothing of ours to find, and a
        // bucket we cannot read must not block the Delete.
        Err(e) if !props.restrict_output_bucket_to_vpc => {
            warn!(error = %e, "could not check the output bucket policy");
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

/// The completion path's record, when the setup registered one.
async fn remove_pending_record(
    clients: &Clients,
    pid: &str,
    props: &SetupProperties,
) -> Result<Removal, PartError> {
    if props.owes_completion() {
        pending::remove(&clients.ssm, pid).await
    } else {
        Ok(Removal::NotFound)
    }
}

/// What each part's teardown came to.
struct Outcomes {
    deployment: Result<Option<Removal>, PartError>,
    job: Result<Option<job::JobTeardown>, PartError>,
    bucket: Result<bool, PartError>,
    endpoints: Result<Vec<String>, PartError>,
    role: Result<Removal, PartError>,
    signal: Result<Removal, PartError>,
}

impl Outcomes {
    /// The Reason, or the first error (every part was attempted anyway).
    fn summary(
        self,
        pid: &str,
        names: &SetupNames,
        bucket: &str,
        after_failure: bool,
    ) -> Result<String, PartError> {
        let mut notes = Vec::new();
        let mut errors = Vec::new();
        match (self.deployment, &names.deployment) {
            (Ok(Some(r)), Some(spec)) if r != Removal::NotFound => {
                notes.push(r.describe(&format!("{} {}", what(spec.kind), spec.name), "deleted"))
            }
            (Err(e), _) => errors.push(e),
            _ => {}
        }
        match (self.job, names.job()) {
            (Ok(Some(done)), Some((job_name, model_name))) => {
                notes.extend(job_notes(done, job_name, model_name, after_failure));
            }
            (Err(e), _) => errors.push(e),
            _ => {}
        }
        match self.bucket {
            Ok(true) => notes.push(format!("statement removed from the policy of {bucket}")),
            Ok(false) => {}
            Err(e) => errors.push(e),
        }
        match self.endpoints {
            Ok(ids) if !ids.is_empty() => {
                notes.push(format!("endpoint {} deleted", ids.join(", ")))
            }
            Ok(_) => {}
            Err(e) => errors.push(e),
        }
        match self.role {
            Ok(r) => notes.push(r.describe(&format!("role {}", names.role_name), "deleted")),
            Err(e) => errors.push(e),
        }
        match self.signal {
            Ok(Removal::Done) => notes.push("pending completion signal removed".to_string()),
            Ok(_) => {}
            Err(e) => errors.push(e),
        }
        match errors.into_iter().next() {
            Some(e) => Err(e),
            None => Ok(format!("setup {pid} deleted: {}", notes.join("; "))),
        }
    }
}

/// What the Reason says of the job and the model: a stopped job, a foreign
/// one, and what became of the model (kept unless deleted, except in the
/// undo of a failed request, where keeping is not news).
fn job_notes(
    done: job::JobTeardown,
    job_name: &str,
    model_name: &str,
    after_failure: bool,
) -> Vec<String> {
    let job = format!("job {job_name}");
    let model = format!("custom model {model_name}");
    let mut notes = Vec::new();
    if matches!(done.job, Removal::Done | Removal::NotOurs) {
        notes.push(done.job.describe(&job, "stopped"));
    }
    match done.model {
        Removal::Done => notes.push(done.model.describe(&model, "deleted")),
        _ if after_failure => {}
        _ => notes.push(Removal::Kept.describe(&model, "deleted")),
    }
    if done.model == Removal::NotOurs {
        notes.push(done.model.describe(&model, "deleted"));
    }
    notes
}
