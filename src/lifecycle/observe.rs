//! Reading a setup as it is, the same way wherever it is read: the VPC and
//! the job are looked up by `vpc` and `job` for an Update that changes
//! nothing (`read_back`) as for one that makes or adopts parts
//! (`ensure::lookups`).

use std::collections::BTreeMap;

use super::data::answer_data;
use crate::model::SetupProperties;
use crate::model::properties::SetupNames;
use crate::parts::job::JobObservation;
use crate::parts::network::VpcFacts;
use crate::parts::{Clients, PartError, endpoint, job, network, role};

/// The VPC of `VpcConfig`, when the setup has one.
pub(super) async fn vpc(
    clients: &Clients,
    props: &SetupProperties,
) -> Result<Option<VpcFacts>, PartError> {
    match &props.vpc {
        Some(v) => network::lookup(&clients.ec2, v).await.map(Some),
        None => Ok(None),
    }
}

/// The job and the model of the setup's names, when it has a job.
pub(super) async fn job(
    clients: &Clients,
    names: &SetupNames,
) -> Result<Option<JobObservation>, PartError> {
    match names.job() {
        Some((j, m)) => job::observe(&clients.bedrock, j, m).await.map(Some),
        None => Ok(None),
    }
}

/// The answer's Data for a setup that is whole, read without changing
/// anything; `None` when a part of ours is missing.
pub(super) async fn read_back(
    clients: &Clients,
    pid: &str,
    props: &SetupProperties,
) -> Result<Option<BTreeMap<String, String>>, PartError> {
    let names = props.names(pid);
    let endpoints = async {
        if props.wants_endpoint() {
            endpoint::find_ours(&clients.ec2, pid).await.map(Some)
        } else {
            Ok(None)
        }
    };
    let (role, vpc, endpoints, job) = tokio::try_join!(
        role::find(&clients.iam, &names.role_name),
        vpc(clients, props),
        endpoints,
        job(clients, &names)
    )?;
    let Some(role) = role.filter(|r| role::is_ours(r, pid)) else {
        return Ok(None);
    };
    let endpoint_id = match endpoints {
        Some(found) => match found.first().and_then(|e| e.vpc_endpoint_id()) {
            Some(id) => Some(id.to_string()),
            None => return Ok(None),
        },
        None => None,
    };
    let job = match (job, names.job()) {
        (Some(obs), Some((job_name, model_name))) => match obs.our_job_arn(pid) {
            Some(arn) => Some((
                arn.to_string(),
                job_name.to_string(),
                model_name.to_string(),
            )),
            None => return Ok(None),
        },
        _ => None,
    };
    Ok(Some(answer_data(
        role.arn(),
        role.role_name(),
        vpc.map(|f| f.vpc_id),
        endpoint_id,
        job,
        names.deployment.as_ref().map(|d| d.name.as_str()),
    )))
}
