//! The answer's Data, which stacks read with `!GetAtt`.

use std::collections::BTreeMap;

/// The answer's Data (`!GetAtt`), the same whichever way it was found.
pub(super) fn answer_data(
    role_arn: &str,
    role_name: &str,
    vpc_id: Option<String>,
    endpoint_id: Option<String>,
    job: Option<(String, String, String)>,
    deployment_name: Option<&str>,
) -> BTreeMap<String, String> {
    let mut data = BTreeMap::new();
    data.insert("RoleArn".to_string(), role_arn.to_string());
    data.insert("RoleName".to_string(), role_name.to_string());
    if let Some(v) = vpc_id {
        data.insert("VpcId".to_string(), v);
    }
    if let Some(e) = endpoint_id {
        data.insert("S3EndpointId".to_string(), e);
    }
    if let Some((arn, job_name, model_name)) = job {
        data.insert("JobArn".to_string(), arn);
        data.insert("JobName".to_string(), job_name);
        data.insert("CustomModelName".to_string(), model_name);
    }
    if let Some(d) = deployment_name {
        data.insert("DeploymentName".to_string(), d.to_string());
    }
    data
}
