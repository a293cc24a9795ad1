//! What each part should be, built from the properties: the inputs of the
//! parts' `apply`.

use crate::cfn::Request;
use crate::model::customization::TeacherProfile;
use crate::model::identity::client_token;
use crate::model::{JobConfig, SetupProperties, StackIdentity, TagSet};
use crate::parts::endpoint::DesiredEndpoint;
use crate::parts::job::DesiredJob;
use crate::parts::network::VpcFacts;
use crate::parts::role::DesiredRole;
use crate::policy;

/// The S3 gateway endpoint on the subnets' (or the given) route tables.
pub(super) fn desired_endpoint(
    stack: &StackIdentity,
    req: &Request,
    pid: &str,
    props: &SetupProperties,
    (facts, service_name): (&VpcFacts, &str),
    take_over_from: Option<String>,
) -> DesiredEndpoint {
    let route_table_ids = if props.s3_endpoint.route_table_ids.is_empty() {
        facts.subnet_route_tables.clone()
    } else {
        props.s3_endpoint.route_table_ids.clone()
    };
    DesiredEndpoint {
        physical_id: pid.to_string(),
        vpc_id: facts.vpc_id.clone(),
        service_name: service_name.to_string(),
        route_table_ids,
        policy: policy::endpoint::endpoint_policy(props, &stack.partition).to_string(),
        tags: TagSet::owned(&props.tags, pid),
        take_over_from,
        client_token: client_token(&format!("{pid}/{}", req.request_id)),
    }
}

/// The role: trust, inline policies, boundary and tags. The grader's and
/// the teacher's policies are listed only when the job has one: neither
/// changes in place (a change to either replaces the setup), so a setup
/// without them never had them to remove.
pub(super) fn desired_role(
    stack: &StackIdentity,
    pid: &str,
    props: &SetupProperties,
    name: &str,
    teacher: Option<&TeacherProfile>,
) -> DesiredRole {
    let mut inline_policies = vec![
        (
            policy::S3_ACCESS_POLICY,
            Some(policy::s3_access::s3_access_policy(props, &stack.partition).to_string()),
        ),
        (
            policy::KMS_POLICY,
            policy::kms::kms_policy(props).map(|d| d.to_string()),
        ),
        (
            policy::VPC_POLICY,
            props
                .vpc
                .as_ref()
                .map(|v| policy::vpc_access::vpc_access_policy(stack, v).to_string()),
        ),
    ];
    let invoked = [
        (policy::GRADER_POLICY, policy::invoke::grader_policy(props)),
        (
            policy::TEACHER_POLICY,
            policy::invoke::teacher_policy(teacher),
        ),
    ];
    inline_policies.extend(
        invoked
            .into_iter()
            .filter_map(|(n, doc)| doc.map(|d| (n, Some(d.to_string())))),
    );
    DesiredRole {
        name: name.to_string(),
        path: props.role_path.clone(),
        physical_id: pid.to_string(),
        trust_policy: policy::trust::trust_policy(stack).to_string(),
        permissions_boundary: props.permissions_boundary_arn.clone(),
        tags: DesiredRole::tags_with_fingerprint(
            &props.tags,
            pid,
            &props.replacement_fingerprint(),
        ),
        inline_policies,
    }
}

/// The job as it will be submitted.
pub(super) fn desired_job(
    props: &SetupProperties,
    j: &JobConfig,
    pid: &str,
    job_name: &str,
    model_name: &str,
) -> DesiredJob {
    DesiredJob {
        physical_id: pid.to_string(),
        job_name: job_name.to_string(),
        model_name: model_name.to_string(),
        base_model: j.base_model_identifier.clone(),
        customization_type: j.customization_type,
        hyper_parameters: j.hyper_parameters.clone(),
        training: props.training_data.clone(),
        validation_uris: props
            .validation_data
            .iter()
            .map(ToString::to_string)
            .collect(),
        output_uri: props.output_data.to_string(),
        model_kms_key: j.custom_model_kms_key_arn.clone(),
        distillation: j.distillation.clone(),
        reinforcement: j.reinforcement.clone(),
        vpc: props.vpc.clone(),
        tags: TagSet::owned(&props.tags, pid),
        client_token: client_token(pid),
    }
}
