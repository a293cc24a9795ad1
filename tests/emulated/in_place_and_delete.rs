//! Each kind of in-place Update changes exactly what it says and no more,
//! and each kind of Delete (the job kept running, an ended job, a managed
//! policy someone attached, properties that never validated, a foreign part
//! or model under our name) does what the README says; `lifecycle` holds
//! the main paths these vary.

use crate::support::json_paths::{with, without};
use crate::support::*;
use bedrock_setup::cfn::{Outcome, Status};
use bedrock_setup::lifecycle::run;
use serde_json::{Value, json};

const KMS_POLICY: &str = "BedrockCustomizationKmsAccess";

fn ok(o: &Outcome) {
    assert_eq!(o.status, Status::Success, "{}", o.reason);
}

struct Setup {
    emu: Emulator,
    fx: Fixture,
    pid: String,
    props: Value,
    updates: usize,
}

impl Setup {
    async fn create(props: impl FnOnce(&Fixture) -> Value) -> Setup {
        let emu = Emulator::start();
        let fx = Fixture::create(&emu).await;
        let props = props(&fx);
        let made = run(
            &emu.handler_clients().await,
            &fast_settings(),
            &create("made", props.clone()),
        )
        .await;
        ok(&made);
        Setup {
            emu,
            fx,
            pid: made.physical_id,
            props,
            updates: 0,
        }
    }

    /// An Update to `new`: in place (same id), and no job submitted.
    async fn update_in_place(&mut self, new: Value) -> Outcome {
        self.updates += 1;
        let jobs_before = self.jobs().await;
        self.emu.clear_requests().await;
        let out = run(
            &self.emu.handler_clients().await,
            &fast_settings(),
            &update(
                &format!("u{}", self.updates),
                &self.pid,
                new.clone(),
                self.props.clone(),
            ),
        )
        .await;
        ok(&out);
        assert_eq!(out.physical_id, self.pid, "in place: {}", out.reason);
        assert_eq!(self.jobs().await, jobs_before, "no new job");
        self.props = new;
        out
    }

    async fn jobs(&self) -> Vec<(String, String)> {
        inventory(&self.emu.check_clients().await, &self.fx.output_bucket)
            .await
            .jobs
    }

    async fn calls(&self) -> Vec<String> {
        self.emu.operations().await
    }

    async fn role(&self) -> aws_sdk_iam::types::Role {
        let c = self.emu.check_clients().await;
        c.iam
            .get_role()
            .role_name(&self.pid)
            .send()
            .await
            .expect("role")
            .role
            .expect("role")
    }

    async fn inline_policy(&self, name: &str) -> Option<String> {
        let c = self.emu.check_clients().await;
        c.iam
            .get_role_policy()
            .role_name(&self.pid)
            .policy_name(name)
            .send()
            .await
            .ok()
            .map(|p| urlencoding_decoded(p.policy_document()))
    }

    async fn our_endpoint(&self) -> Option<aws_sdk_ec2::types::VpcEndpoint> {
        live_endpoints(&self.emu.check_clients().await)
            .await
            .into_iter()
            .find(|e| {
                e.tags()
                    .iter()
                    .any(|t| t.value() == Some(self.pid.as_str()))
            })
    }

    async fn delete(&self, props: Value) -> Outcome {
        self.emu.clear_requests().await;
        run(
            &self.emu.handler_clients().await,
            &fast_settings(),
            &delete("gone", &self.pid, props),
        )
        .await
    }
}

fn urlencoding_decoded(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_place_updates_change_exactly_what_they_say() {
    let mut s = Setup::create(Fixture::full_properties).await;
    let check = s.emu.check_clients().await;

    // KmsKeyArns: the role's KMS policy follows.
    let other_key = check.kms.create_key().send().await.expect("key");
    let other_key = other_key
        .key_metadata()
        .and_then(|m| m.arn())
        .expect("arn")
        .to_string();
    let out = s
        .update_in_place(with(s.props.clone(), "KmsKeyArns", json!([other_key])))
        .await;
    assert!(out.reason.contains("KmsKeyArns"), "{}", out.reason);
    let kms = s.inline_policy(KMS_POLICY).await.expect("kms policy");
    assert!(
        kms.contains(&other_key) && !kms.contains(&s.fx.data_key_arn),
        "{kms}"
    );

    // PermissionsBoundaryArn: set, changed, removed.
    for name in ["boundary-a", "boundary-b"] {
        check
            .iam
            .create_policy()
            .policy_name(name)
            .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#)
            .send()
            .await
            .expect("boundary policy");
    }
    for name in ["boundary-a", "boundary-b"] {
        let arn = format!("arn:aws:iam::{ACCOUNT}:policy/{name}");
        s.update_in_place(with(s.props.clone(), "PermissionsBoundaryArn", json!(arn)))
            .await;
        let role = s.role().await;
        assert_eq!(
            role.permissions_boundary()
                .and_then(|b| b.permissions_boundary_arn()),
            Some(arn.as_str())
        );
    }
    s.update_in_place(without(s.props.clone(), "PermissionsBoundaryArn"))
        .await;
    assert!(
        s.role().await.permissions_boundary().is_none(),
        "boundary removed"
    );

    // RestrictOutputBucketToVpc: true -> false removes our statement, and back.
    let sid = bedrock_setup::model::identity::bucket_statement_sid(&s.pid);
    let sids = |inv: Inventory| inv.bucket_statement_sids;
    assert!(sids(inventory(&check, &s.fx.output_bucket).await).contains(&sid));
    s.update_in_place(with(
        s.props.clone(),
        "RestrictOutputBucketToVpc",
        json!("false"),
    ))
    .await;
    assert!(!sids(inventory(&check, &s.fx.output_bucket).await).contains(&sid));
    s.update_in_place(with(
        s.props.clone(),
        "RestrictOutputBucketToVpc",
        json!("true"),
    ))
    .await;
    assert!(sids(inventory(&check, &s.fx.output_bucket).await).contains(&sid));

    // S3Endpoint.Policy: the endpoint's policy follows.
    let restricted = s.our_endpoint().await.expect("endpoint");
    assert!(
        restricted
            .policy_document()
            .unwrap_or("")
            .contains("output-bucket")
    );
    s.update_in_place(with(
        s.props.clone(),
        "S3Endpoint.Policy",
        json!("FullAccess"),
    ))
    .await;
    let full = s.our_endpoint().await.expect("endpoint");
    assert_eq!(
        full.vpc_endpoint_id(),
        restricted.vpc_endpoint_id(),
        "the same endpoint"
    );
    assert!(
        !full
            .policy_document()
            .unwrap_or("")
            .contains("output-bucket")
    );

    // S3Endpoint.RouteTableIds: the endpoint moves to the given tables.
    s.update_in_place(with(
        s.props.clone(),
        "S3Endpoint.RouteTableIds",
        json!([s.fx.own_route_table]),
    ))
    .await;
    let moved = s.our_endpoint().await.expect("endpoint");
    assert_eq!(moved.route_table_ids(), [s.fx.own_route_table.clone()]);

    // S3Endpoint.Create: false deletes our endpoint, true makes one again.
    s.update_in_place(with(s.props.clone(), "S3Endpoint.Create", json!("false")))
        .await;
    assert!(s.our_endpoint().await.is_none(), "endpoint deleted");
    s.update_in_place(with(s.props.clone(), "S3Endpoint.Create", json!("true")))
        .await;
    assert!(s.our_endpoint().await.is_some(), "endpoint made again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_with_stop_job_on_delete_false_leaves_the_job_running() {
    let s =
        Setup::create(|fx| with(fx.full_properties(), "Job.StopJobOnDelete", json!("false"))).await;
    let out = s.delete(s.props.clone()).await;
    ok(&out);
    assert!(
        !s.calls()
            .await
            .contains(&"StopModelCustomizationJob".to_string())
    );
    let jobs = s.jobs().await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].1, "InProgress", "{jobs:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_of_an_ended_job_stops_nothing_and_keeps_the_model() {
    for end in ["Completed", "Failed", "Stopped"] {
        let s = Setup::create(Fixture::full_properties).await;
        let job_name = s.jobs().await[0].0.clone();
        s.emu.set_job_status(&job_name, end).await;
        let out = s.delete(s.props.clone()).await;
        ok(&out);
        assert!(
            !s.calls()
                .await
                .contains(&"StopModelCustomizationJob".to_string()),
            "{end}: no stop call"
        );
        assert!(
            !s.calls().await.contains(&"DeleteCustomModel".to_string()),
            "{end}: the model is kept"
        );
        assert!(out.reason.contains("kept"), "{end}: {}", out.reason);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_detaches_a_managed_policy_someone_attached_and_keeps_the_policy() {
    let s = Setup::create(Fixture::full_properties).await;
    let check = s.emu.check_clients().await;
    let policy = check
        .iam
        .create_policy()
        .policy_name("someone-elses-policy")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}"#)
        .send()
        .await
        .expect("policy");
    let arn = policy
        .policy()
        .and_then(|p| p.arn())
        .expect("arn")
        .to_string();
    check
        .iam
        .attach_role_policy()
        .role_name(&s.pid)
        .policy_arn(&arn)
        .send()
        .await
        .expect("attach");
    let out = s.delete(s.props.clone()).await;
    ok(&out);
    assert!(s.calls().await.contains(&"DetachRolePolicy".to_string()));
    assert!(
        inventory(&check, &s.fx.output_bucket)
            .await
            .roles
            .is_empty(),
        "role deleted"
    );
    check
        .iam
        .get_policy()
        .policy_arn(&arn)
        .send()
        .await
        .expect("the policy itself stays");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_whose_properties_never_validated_makes_no_call() {
    let s = Setup::create(Fixture::full_properties).await;
    let out = s
        .delete(with(
            s.props.clone(),
            "VpcConfig.SubnetIds",
            json!("not a list"),
        ))
        .await;
    ok(&out);
    assert!(
        out.reason.contains("never passed validation"),
        "{}",
        out.reason
    );
    assert!(
        s.calls().await.is_empty(),
        "no AWS call at all: {:?}",
        s.calls().await
    );
}

/// A Create refused on a foreign part, then CloudFormation's rollback Delete
/// with the same properties: the foreign part is left alone, and said so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_leaves_a_foreign_role_or_job_under_our_name_and_says_so() {
    // A role.
    let emu = Emulator::start();
    let fx = Fixture::create(&emu).await;
    let check = emu.check_clients().await;
    foreign::role(&check, "someone-elses-role").await;
    let props = with(
        fx.full_properties(),
        "RoleName",
        json!("someone-elses-role"),
    );
    let (_emu, gone) = refused_then_rolled_back_on(emu, props, "someone-elses-role").await;
    assert!(
        gone.reason
            .contains("role someone-elses-role is not ours and was left alone"),
        "{}",
        gone.reason
    );
    let theirs = check
        .iam
        .list_role_policies()
        .role_name("someone-elses-role")
        .send()
        .await
        .expect("their role is still there");
    assert_eq!(theirs.policy_names(), ["theirs"]);

    // A job.
    let emu3 = Emulator::start();
    let fx3 = Fixture::create(&emu3).await;
    let check3 = emu3.check_clients().await;
    foreign::job(&check3, "someone-elses-job", "someone-elses-model").await;
    let props = with(
        with(
            fx3.full_properties(),
            "Job.JobName",
            json!("someone-elses-job"),
        ),
        "S3Endpoint.Create",
        json!("false"),
    );
    let (_emu3, gone) = refused_then_rolled_back_on(emu3, props, "someone-elses-job").await;
    assert!(
        gone.reason
            .contains("job someone-elses-job is not ours and was left alone"),
        "{}",
        gone.reason
    );
    let job = check3
        .bedrock
        .get_model_customization_job()
        .job_identifier("someone-elses-job")
        .send()
        .await
        .expect("their job");
    assert_eq!(
        job.status().map(|s| s.as_str()),
        Some("InProgress"),
        "not stopped"
    );
}

async fn refused_then_rolled_back_on(
    emu: Emulator,
    props: Value,
    says: &str,
) -> (Emulator, Outcome) {
    let handler = emu.handler_clients().await;
    let made = run(
        &handler,
        &fast_settings(),
        &create("foreign", props.clone()),
    )
    .await;
    assert_eq!(made.status, Status::Failed, "{}", made.reason);
    assert!(made.reason.contains(says), "{}", made.reason);
    let gone = run(
        &handler,
        &fast_settings(),
        &delete("rollback", &made.physical_id, props),
    )
    .await;
    ok(&gone);
    (emu, gone)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_onto_a_foreign_part_is_refused_and_the_setup_stays() {
    let s = Setup::create(Fixture::full_properties).await;
    let check = s.emu.check_clients().await;
    foreign::role(&check, "someone-elses-role").await;
    let before = inventory(&check, &s.fx.output_bucket).await;
    let out = run(
        &s.emu.handler_clients().await,
        &fast_settings(),
        &update(
            "onto-theirs",
            &s.pid,
            with(s.props.clone(), "RoleName", json!("someone-elses-role")),
            s.props.clone(),
        ),
    )
    .await;
    assert_eq!(out.status, Status::Failed, "{}", out.reason);
    assert!(
        out.reason.contains("someone-elses-role") && out.reason.contains("not owned"),
        "{}",
        out.reason
    );
    assert_eq!(out.physical_id, s.pid, "a failed Update keeps its id");
    assert_eq!(
        inventory(&check, &s.fx.output_bucket).await,
        before,
        "nothing changed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subnets_and_the_model_name_are_replacements() {
    // Each on its own setup: after a replacement CloudFormation deletes the
    // old setup, and never updates it again.
    for (i, path) in ["VpcConfig.SubnetIds", "Job.CustomModelName"]
        .into_iter()
        .enumerate()
    {
        let s = Setup::create(Fixture::full_properties).await;
        let value = match path {
            "VpcConfig.SubnetIds" => json!([s.fx.subnets[0]]),
            _ => json!("another-model-name"),
        };
        let new = with(s.props.clone(), path, value);
        let handler = s.emu.handler_clients().await;
        let out = run(
            &handler,
            &fast_settings(),
            &update(&format!("r{i}"), &s.pid, new, s.props.clone()),
        )
        .await;
        ok(&out);
        assert_ne!(out.physical_id, s.pid, "{path}: a new setup");
        assert!(out.reason.contains("replaces"), "{path}: {}", out.reason);
        let roles = inventory(&s.emu.check_clients().await, &s.fx.output_bucket)
            .await
            .roles;
        assert!(
            roles.contains(&s.pid) && roles.contains(&out.physical_id),
            "{path}: both live until CloudFormation's Delete of the old: {roles:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replacement_meeting_someone_elses_endpoint_fails_naming_it() {
    let s =
        Setup::create(|fx| with(fx.full_properties(), "S3Endpoint.Create", json!("false"))).await;
    let check = s.emu.check_clients().await;
    let theirs = foreign::s3_endpoint(&check, &s.fx.vpc_id, &s.fx.own_route_table).await;
    let before = inventory(&check, &s.fx.output_bucket).await;
    let new = with(
        with(s.props.clone(), "S3Endpoint.Create", json!("true")),
        "Job.HyperParameters",
        json!({ "epochCount": "3" }),
    );
    let out = run(
        &s.emu.handler_clients().await,
        &fast_settings(),
        &update("replace", &s.pid, new, s.props.clone()),
    )
    .await;
    assert_eq!(out.status, Status::Failed, "{}", out.reason);
    assert!(
        out.reason.contains(&theirs) && out.reason.contains("S3Endpoint.Create"),
        "{}",
        out.reason
    );
    assert_eq!(out.physical_id, s.pid);
    assert_eq!(
        inventory(&check, &s.fx.output_bucket).await.endpoints,
        before.endpoints,
        "their endpoint untouched"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_custom_model_under_our_name_is_refused_on_create() {
    use bedrock_setup::model::StackIdentity;
    use bedrock_setup::model::identity::{derived_model_name, physical_id_for};
    let emu = Emulator::start();
    let fx = Fixture::create(&emu).await;
    let stack = StackIdentity::from_stack_id(STACK_ID).expect("stack");
    let ours = derived_model_name(&physical_id_for(&stack, LOGICAL_ID, "made"));
    // Someone else's training already produced a model under that name.
    foreign::job(&emu.check_clients().await, "someone-elses-job", &ours).await;
    emu.clear_requests().await;
    let out = run(
        &emu.handler_clients().await,
        &fast_settings(),
        &create("made", fx.full_properties()),
    )
    .await;
    assert_eq!(out.status, Status::Failed, "{}", out.reason);
    assert!(
        out.reason.contains(&format!("custom model '{ours}'"))
            && out.reason.contains("Job.CustomModelName"),
        "{}",
        out.reason
    );
    let mutating = emu.mutating_operations().await;
    assert!(mutating.is_empty(), "{mutating:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_create_whose_job_was_submitted_stops_it_and_removes_its_model() {
    let emu = Emulator::start();
    let fx = Fixture::create(&emu).await;
    // The bucket statement's write is slow (the job is submitted meanwhile),
    // then its confirmation cannot read the policy: the Create fails after
    // the job went in. The flags ask to keep the model.
    emu.add_faults(json!([
        { "service": "s3", "operation": "GetBucketPolicy", "kind": "error500", "skip": 1, "times": -1 },
        { "service": "s3", "operation": "PutBucketPolicy", "kind": "delay", "delay_ms": 2500, "times": 1 }
    ]))
    .await;
    let props = with(
        fx.full_properties(),
        "Job.DeleteCustomModelOnDelete",
        json!("false"),
    );
    let out = run(
        &emu.handler_clients().await,
        &fast_settings(),
        &create("doomed", props.clone()),
    )
    .await;
    assert_eq!(out.status, Status::Failed, "{}", out.reason);
    let calls: Vec<String> = emu.operations().await;
    assert!(
        calls.contains(&"CreateModelCustomizationJob".to_string()),
        "the job went in: {calls:?}"
    );
    assert!(
        calls.contains(&"StopModelCustomizationJob".to_string()),
        "and was stopped: {calls:?}"
    );
    assert!(
        calls.contains(&"DeleteCustomModel".to_string()),
        "its model removed whatever the flags: {calls:?}"
    );
    // CloudFormation's rollback Delete, with AWS healthy again, leaves nothing.
    emu.clear_faults().await;
    let gone = run(
        &emu.handler_clients().await,
        &fast_settings(),
        &delete("rollback", &out.physical_id, props),
    )
    .await;
    ok(&gone);
    let inv = inventory(&emu.check_clients().await, &fx.output_bucket).await;
    assert!(
        inv.roles.is_empty() && inv.endpoints.is_empty() && inv.models.is_empty(),
        "{inv:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_leaves_a_foreign_model_under_our_name_and_says_so() {
    use bedrock_setup::model::StackIdentity;
    use bedrock_setup::model::identity::{derived_model_name, physical_id_for};
    let emu = Emulator::start();
    let fx = Fixture::create(&emu).await;
    let check = emu.check_clients().await;
    let stack = StackIdentity::from_stack_id(STACK_ID).expect("stack");
    let ours = derived_model_name(&physical_id_for(&stack, LOGICAL_ID, "foreign"));
    foreign::job(&check, "someone-elses-job", &ours).await;
    // Even asked to delete models, the Delete leaves one that is not ours.
    let props = with(
        fx.full_properties(),
        "Job.DeleteCustomModelOnDelete",
        json!("true"),
    );
    let (_emu, gone) = refused_then_rolled_back_on(emu, props, &ours).await;
    assert!(
        gone.reason.contains(&format!(
            "custom model {ours} is not ours and was left alone"
        )),
        "{}",
        gone.reason
    );
    check
        .bedrock
        .get_custom_model()
        .model_identifier(&ours)
        .send()
        .await
        .expect("their model is still there");
}
