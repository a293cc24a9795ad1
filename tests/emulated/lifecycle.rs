//! The whole lifecycle, run by the real handler code against the emulator,
//! with the resulting state read through independent clients.

use crate::support::*;
use bedrock_setup::cfn::{Outcome, Status};
use bedrock_setup::lifecycle::run;
use bedrock_setup::model::OWNER_TAG_KEY;
use serde_json::{Value, json};

fn assert_success(o: &Outcome) {
    assert_eq!(
        o.status,
        Status::Success,
        "expected SUCCESS, got: {}",
        o.reason
    );
}

fn assert_failed(o: &Outcome) {
    assert_eq!(
        o.status,
        Status::Failed,
        "expected FAILED, got SUCCESS: {}",
        o.reason
    );
}

async fn role_tags(c: &bedrock_setup::parts::Clients, name: &str) -> Vec<(String, String)> {
    let role = c
        .iam
        .get_role()
        .role_name(name)
        .send()
        .await
        .expect("role")
        .role
        .expect("role");
    let mut t: Vec<(String, String)> = role
        .tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect();
    t.sort();
    t
}

async fn bucket_policy(c: &bedrock_setup::parts::Clients, bucket: &str) -> Option<Value> {
    c.s3.get_bucket_policy()
        .bucket(bucket)
        .send()
        .await
        .ok()
        .and_then(|p| p.policy().and_then(|s| serde_json::from_str(s).ok()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_create_makes_every_part() {
    let emu = Emulator::start();
    let fx = Fixture::create(&emu).await;
    let handler = emu.handler_clients().await;
    let check = emu.check_clients().await;

    let out = run(
        &handler,
        &fast_settings(),
        &create("req-create-1", fx.full_properties()),
    )
    .await;
    assert_success(&out);
    let pid = out.physical_id.clone();
    assert!(pid.starts_with("demo-stack-Customization-"), "{pid}");

    // Role: path, trust, tags, the three inline policies.
    let role_name = out.data["RoleName"].clone();
    let role = check
        .iam
        .get_role()
        .role_name(&role_name)
        .send()
        .await
        .expect("role")
        .role
        .expect("role");
    assert_eq!(role.path(), "/bedrock-customization/");
    assert_eq!(out.data["RoleArn"], role.arn());
    let trust: Value = serde_json::from_str(&urlencoding_decode(
        role.assume_role_policy_document().expect("trust"),
    ))
    .expect("trust json");
    assert_eq!(
        trust["Statement"][0]["Principal"]["Service"],
        "bedrock.amazonaws.com"
    );
    assert_eq!(
        trust["Statement"][0]["Condition"]["StringEquals"]["aws:SourceAccount"],
        ACCOUNT
    );
    let tags = role_tags(&check, &role_name).await;
    assert!(tags.contains(&(OWNER_TAG_KEY.to_string(), pid.clone())));
    assert!(tags.contains(&("team".to_string(), "ml".to_string())));
    let mut inline = check
        .iam
        .list_role_policies()
        .role_name(&role_name)
        .send()
        .await
        .expect("policies")
        .policy_names()
        .to_vec();
    inline.sort();
    assert_eq!(
        inline,
        [
            "BedrockCustomizationKmsAccess",
            "BedrockCustomizationS3Access",
            "BedrockCustomizationVpcAccess"
        ]
    );

    // Endpoint on the subnet's own table and the main table, restricted.
    let inv = inventory(&check, &fx.output_bucket).await;
    assert_eq!(inv.endpoints.len(), 1, "{inv:?}");
    let (ep_id, owner_and_tables) = &inv.endpoints[0];
    assert_eq!(&out.data["S3EndpointId"], ep_id);
    let mut want_tables = [fx.main_route_table.clone(), fx.own_route_table.clone()];
    want_tables.sort();
    assert_eq!(owner_and_tables[0], pid);
    assert_eq!(owner_and_tables[1..], want_tables[..]);
    let ep = check
        .ec2
        .describe_vpc_endpoints()
        .vpc_endpoint_ids(ep_id)
        .send()
        .await
        .expect("ep");
    let ep_policy: Value = serde_json::from_str(ep.vpc_endpoint_ids_policy()).expect("ep policy");
    assert_eq!(ep_policy["Statement"].as_array().map(Vec::len), Some(2));
    assert_eq!(out.data["VpcId"], fx.vpc_id);

    // Bucket: our deny statement, naming the VPC.
    let policy = bucket_policy(&check, &fx.output_bucket)
        .await
        .expect("bucket policy");
    let st = &policy["Statement"][0];
    assert_eq!(st["Effect"], "Deny");
    assert_eq!(
        st["Condition"]["StringNotEquals"]["aws:sourceVpc"],
        fx.vpc_id
    );

    // Job: submitted with the role, the VPC and our tags.
    let job_name = out.data["JobName"].clone();
    let job = check
        .bedrock
        .get_model_customization_job()
        .job_identifier(&job_name)
        .send()
        .await
        .expect("job");
    assert_eq!(job.role_arn(), role.arn());
    assert_eq!(
        job.hyper_parameters()
            .and_then(|h| h.get("epochCount"))
            .map(String::as_str),
        Some("2")
    );
    let vpc = job.vpc_config().expect("job vpc");
    assert_eq!(vpc.subnet_ids(), fx.subnets.as_slice());
    let jtags = check
        .bedrock
        .list_tags_for_resource()
        .resource_arn(job.job_arn())
        .send()
        .await
        .expect("tags");
    assert!(
        jtags
            .tags()
            .iter()
            .any(|t| t.key() == OWNER_TAG_KEY && t.value() == pid)
    );
    assert_eq!(out.data["JobArn"], job.job_arn());
    assert!(out.data.contains_key("CustomModelName"));
}

/// EC2 returns the policy as a string; IAM URL-encodes documents.
trait EndpointPolicy {
    fn vpc_endpoint_ids_policy(&self) -> &str;
}
impl EndpointPolicy for aws_sdk_ec2::operation::describe_vpc_endpoints::DescribeVpcEndpointsOutput {
    fn vpc_endpoint_ids_policy(&self) -> &str {
        self.vpc_endpoints()[0].policy_document().unwrap_or("{}")
    }
}

/// IAM returns documents URL-encoded.
fn urlencoding_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_in_place_then_replacement_then_delete_of_old_leaves_new_whole() {
    let emu = Emulator::start();
    let fx = Fixture::create(&emu).await;
    let handler = emu.handler_clients().await;
    let check = emu.check_clients().await;
    let props = fx.full_properties();
    let created = run(&handler, &fast_settings(), &create("req-1", props.clone())).await;
    assert_success(&created);
    let pid = created.physical_id.clone();

    // In place: tags change, the id stays.
    let mut tagged = props.clone();
    tagged["Tags"] =
        json!([{ "Key": "team", "Value": "research" }, { "Key": "cost-center", "Value": "42" }]);
    let upd = run(
        &handler,
        &fast_settings(),
        &update("req-2", &pid, tagged.clone(), props.clone()),
    )
    .await;
    assert_success(&upd);
    assert_eq!(upd.physical_id, pid);
    assert!(upd.reason.contains("Tags"), "{}", upd.reason);
    let tags = role_tags(&check, &created.data["RoleName"]).await;
    assert!(
        tags.contains(&("team".into(), "research".into())),
        "{tags:?}"
    );
    assert!(tags.contains(&("cost-center".into(), "42".into())));
    let job = check
        .bedrock
        .get_model_customization_job()
        .job_identifier(&created.data["JobName"])
        .send()
        .await
        .expect("job");
    let jtags = check
        .bedrock
        .list_tags_for_resource()
        .resource_arn(job.job_arn())
        .send()
        .await
        .expect("tags");
    assert!(
        jtags
            .tags()
            .iter()
            .any(|t| t.key() == "team" && t.value() == "research")
    );
    let inv = inventory(&check, &fx.output_bucket).await;
    assert_eq!(
        inv.jobs.len(),
        1,
        "in-place must not submit another job: {inv:?}"
    );

    // Replacement: hyperparameters change; a new id, the endpoint handed over.
    let mut retrain = tagged.clone();
    retrain["Job"]["HyperParameters"]["epochCount"] = json!("5");
    let rep = run(
        &handler,
        &fast_settings(),
        &update("req-3", &pid, retrain.clone(), tagged.clone()),
    )
    .await;
    assert_success(&rep);
    let new_pid = rep.physical_id.clone();
    assert_ne!(new_pid, pid);
    assert_eq!(
        rep.data["S3EndpointId"], created.data["S3EndpointId"],
        "endpoint handed over, not recreated"
    );
    let inv = inventory(&check, &fx.output_bucket).await;
    assert_eq!(inv.endpoints.len(), 1, "{inv:?}");
    assert_eq!(
        inv.endpoints[0].1[0], new_pid,
        "endpoint re-tagged to the new setup"
    );
    assert_eq!(inv.jobs.len(), 2, "{inv:?}");
    assert_eq!(inv.bucket_statement_sids.len(), 2, "{inv:?}");

    // CloudFormation deletes the old setup: the new one stays whole.
    let del = run(
        &handler,
        &fast_settings(),
        &delete("req-4", &pid, tagged.clone()),
    )
    .await;
    assert_success(&del);
    let inv = inventory(&check, &fx.output_bucket).await;
    assert_eq!(inv.roles, vec![rep.data["RoleName"].clone()]);
    assert_eq!(inv.endpoints.len(), 1);
    assert_eq!(inv.endpoints[0].1[0], new_pid);
    assert_eq!(
        inv.bucket_statement_sids,
        vec![bedrock_setup::model::identity::bucket_statement_sid(
            &new_pid
        )]
    );
    let old_job = inv
        .jobs
        .iter()
        .find(|(n, _)| n == &created.data["JobName"])
        .expect("old job listed");
    assert_eq!(old_job.1, "Stopped", "old job stopped on delete");
    let new_job = inv
        .jobs
        .iter()
        .find(|(n, _)| n == &rep.data["JobName"])
        .expect("new job listed");
    assert_eq!(new_job.1, "InProgress");

    // And the new one can be deleted in turn; models are kept by default.
    let del2 = run(
        &handler,
        &fast_settings(),
        &delete("req-5", &new_pid, retrain),
    )
    .await;
    assert_success(&del2);
    let inv = inventory(&check, &fx.output_bucket).await;
    assert!(
        inv.roles.is_empty() && inv.endpoints.is_empty() && inv.bucket_statement_sids.is_empty(),
        "{inv:?}"
    );
    assert_eq!(
        inv.models.len(),
        2,
        "custom models survive unless DeleteCustomModelOnDelete: {inv:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_with_model_deletion_and_placeholder_delete_changes_nothing() {
    let emu = Emulator::start();
    let fx = Fixture::create(&emu).await;
    let handler = emu.handler_clients().await;
    let check = emu.check_clients().await;
    let mut props = fx.full_properties();
    props["Job"]["DeleteCustomModelOnDelete"] = json!("TRUE");
    let created = run(&handler, &fast_settings(), &create("req-1", props.clone())).await;
    assert_success(&created);

    // A placeholder id (CloudFormation's, after a Create that never
    // answered with ours): SUCCESS, no mutating call.
    emu.clear_requests().await;
    let placeholder = run(
        &handler,
        &fast_settings(),
        &delete(
            "req-2",
            "demo-stack-Customization-1ABCDEF2GHIJ",
            props.clone(),
        ),
    )
    .await;
    assert_success(&placeholder);
    let mutating: Vec<Value> = emu
        .requests()
        .await
        .into_iter()
        .filter(|r| is_mutating(r["operation"].as_str().unwrap_or("")))
        .collect();
    assert!(
        mutating.is_empty(),
        "placeholder delete must not change anything: {mutating:?}"
    );
    let before = inventory(&check, &fx.output_bucket).await;
    assert_eq!(before.roles.len(), 1);

    let del = run(
        &handler,
        &fast_settings(),
        &delete("req-3", &created.physical_id, props.clone()),
    )
    .await;
    assert_success(&del);
    let after = inventory(&check, &fx.output_bucket).await;
    assert!(after.roles.is_empty(), "{after:?}");
    assert!(after.endpoints.is_empty(), "{after:?}");
    assert!(after.bucket_statement_sids.is_empty(), "{after:?}");
    assert!(
        after.models.is_empty(),
        "model deleted when asked: {after:?}"
    );
    assert!(
        bucket_policy(&check, &fx.output_bucket).await.is_none(),
        "policy with only our statement is deleted"
    );

    // Deleting again: everything already gone is success.
    let again = run(
        &handler,
        &fast_settings(),
        &delete("req-4", &created.physical_id, props),
    )
    .await;
    assert_success(&again);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_create_makes_no_duplicates() {
    let emu = Emulator::start();
    let fx = Fixture::create(&emu).await;
    let handler = emu.handler_clients().await;
    let check = emu.check_clients().await;
    let req = create("req-same", fx.full_properties());
    let first = run(&handler, &fast_settings(), &req).await;
    assert_success(&first);
    let second = run(&handler, &fast_settings(), &req).await;
    assert_success(&second);
    assert_eq!(first.physical_id, second.physical_id);
    assert_eq!(first.data, second.data);
    let inv = inventory(&check, &fx.output_bucket).await;
    assert_eq!(inv.roles.len(), 1, "{inv:?}");
    assert_eq!(inv.endpoints.len(), 1, "{inv:?}");
    assert_eq!(inv.bucket_statement_sids.len(), 1, "{inv:?}");
    assert_eq!(inv.jobs.len(), 1, "{inv:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_role_refused_and_untouched_user_statements_survive() {
    let emu = Emulator::start();
    let fx = Fixture::create(&emu).await;
    let handler = emu.handler_clients().await;
    let check = emu.check_clients().await;

    // Someone else's role under the name the stack asks for.
    foreign::role(&check, "taken-role").await;
    // And the bucket owner's own statement.
    let user_policy = json!({
        "Version": "2012-10-17",
        "Statement": [{ "Sid": "OwnerReads", "Effect": "Allow", "Principal": { "AWS": "arn:aws:iam::123456789012:root" },
                        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::output-bucket/*" }]
    });
    check
        .s3
        .put_bucket_policy()
        .bucket(&fx.output_bucket)
        .policy(user_policy.to_string())
        .send()
        .await
        .expect("bucket policy");

    let mut props = fx.full_properties();
    props["RoleName"] = json!("taken-role");
    let refused = run(&handler, &fast_settings(), &create("req-1", props)).await;
    assert_failed(&refused);
    assert!(
        refused.reason.contains("taken-role") && refused.reason.contains("not owned"),
        "{}",
        refused.reason
    );
    assert!(
        refused.reason.contains("nothing was changed"),
        "{}",
        refused.reason
    );
    let role = check
        .iam
        .get_role()
        .role_name("taken-role")
        .send()
        .await
        .expect("role")
        .role
        .expect("role");
    assert!(role.tags().is_empty(), "foreign role must not be tagged");
    let names = check
        .iam
        .list_role_policies()
        .role_name("taken-role")
        .send()
        .await
        .expect("p")
        .policy_names()
        .to_vec();
    assert_eq!(names, ["theirs"]);
    let inv = inventory(&check, &fx.output_bucket).await;
    assert!(
        inv.endpoints.is_empty(),
        "failed create removes what it made: {inv:?}"
    );
    assert_eq!(inv.bucket_statement_sids, vec!["OwnerReads".to_string()]);
    assert_eq!(
        bucket_policy(&check, &fx.output_bucket).await,
        Some(user_policy.clone())
    );

    // A good Create, then Delete: the owner's statement survives both.
    let ok = run(
        &handler,
        &fast_settings(),
        &create("req-2", fx.full_properties()),
    )
    .await;
    assert_success(&ok);
    let during = bucket_policy(&check, &fx.output_bucket)
        .await
        .expect("policy");
    assert_eq!(during["Statement"][0], user_policy["Statement"][0]);
    assert_eq!(during["Statement"].as_array().map(Vec::len), Some(2));
    let del = run(
        &handler,
        &fast_settings(),
        &delete("req-3", &ok.physical_id, fx.full_properties()),
    )
    .await;
    assert_success(&del);
    assert_eq!(
        bucket_policy(&check, &fx.output_bucket).await,
        Some(user_policy)
    );
    assert!(
        check
            .iam
            .get_role()
            .role_name("taken-role")
            .send()
            .await
            .is_ok(),
        "foreign role still there"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_endpoint_on_route_table_is_named_and_nothing_is_left() {
    let emu = Emulator::start();
    let fx = Fixture::create(&emu).await;
    let handler = emu.handler_clients().await;
    let check = emu.check_clients().await;
    let their_id = foreign::s3_endpoint(&check, &fx.vpc_id, &fx.own_route_table).await;

    let out = run(
        &handler,
        &fast_settings(),
        &create("req-1", fx.full_properties()),
    )
    .await;
    assert_failed(&out);
    assert!(out.reason.contains(&their_id), "{}", out.reason);
    assert!(out.reason.contains("S3Endpoint.Create"), "{}", out.reason);
    assert!(out.reason.contains("nothing was changed"), "{}", out.reason);
    let inv = inventory(&check, &fx.output_bucket).await;
    assert!(inv.roles.is_empty(), "{inv:?}");
    assert_eq!(inv.endpoints.len(), 1, "only theirs: {inv:?}");
    assert!(inv.bucket_statement_sids.is_empty(), "{inv:?}");

    // With Create false the same stack succeeds and leaves their endpoint be.
    let mut props = fx.full_properties();
    props["S3Endpoint"]["Create"] = json!("false");
    let ok = run(&handler, &fast_settings(), &create("req-2", props)).await;
    assert_success(&ok);
    assert!(!ok.data.contains_key("S3EndpointId"));
}

/// A full Create (request `req-1`) whose first `times` job submissions
/// meet the emulator's fault `kind`.
async fn create_with_submission_fault(
    emu: &Emulator,
    fx: &Fixture,
    handler: &bedrock_setup::parts::Clients,
    kind: &str,
    times: i64,
) -> Outcome {
    emu.add_faults(json!([{ "service": "bedrock", "operation": "CreateModelCustomizationJob", "kind": kind, "times": times }])).await;
    run(
        handler,
        &fast_settings(),
        &create("req-1", fx.full_properties()),
    )
    .await
}

/// Every CreateModelCustomizationJob the emulator saw.
async fn job_submissions(emu: &Emulator) -> Vec<Value> {
    emu.requests()
        .await
        .into_iter()
        .filter(|r| r["operation"] == "CreateModelCustomizationJob")
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_submission_retries_iam_propagation_and_failed_create_cleans_up() {
    let emu = Emulator::start();
    let fx = Fixture::create(&emu).await;
    let handler = emu.handler_clients().await;
    let check = emu.check_clients().await;

    // Two "could not assume role" answers, then the real call.
    let ok = create_with_submission_fault(&emu, &fx, &handler, "assume_role", 2).await;
    assert_success(&ok);
    assert_eq!(job_submissions(&emu).await.len(), 3);

    // A job that can never be submitted: FAILED, and nothing left behind,
    // while the first setup is untouched.
    let before = inventory(&check, &fx.output_bucket).await;
    emu.add_faults(json!([{ "service": "bedrock", "operation": "CreateModelCustomizationJob", "kind": "assume_role", "times": -1 }])).await;
    let mut other = fx.full_properties();
    other["S3Endpoint"]["Create"] = json!("false");
    let failed = run(&handler, &fast_settings(), &create("req-2", other)).await;
    assert_failed(&failed);
    assert!(failed.reason.contains("assume"), "{}", failed.reason);
    assert!(failed.reason.contains("removed again"), "{}", failed.reason);
    assert_eq!(inventory(&check, &fx.output_bucket).await, before);
}

/// Settings as deployed (the default retry schedule), with a working
/// budget ending `budget` from now.
fn settings_with_budget(budget: std::time::Duration) -> bedrock_setup::lifecycle::Settings {
    let mut settings = bedrock_setup::lifecycle::Settings::default();
    settings.assume_role_retry.until = Some(tokio::time::Instant::now() + budget);
    settings
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_job_is_submitted_once_iam_has_propagated_the_new_role() {
    // The emulator makes the new role assumable 3 s after its last write,
    // as IAM's propagation does, and answers Bedrock's "could not assume"
    // until then.
    let emu = Emulator::start();
    let fx = Fixture::create(&emu).await;
    let handler = emu.handler_clients().await;
    emu.set_latency_model(json!({ "seed": 1, "propagation_s": [3, 3] }))
        .await;
    let out = run(
        &handler,
        &settings_with_budget(std::time::Duration::from_secs(30)),
        &create("propagating", fx.full_properties()),
    )
    .await;
    assert_success(&out);
    let roles = emu.propagation().await;
    assert_eq!(roles.len(), 1, "{roles:?}");
    let role = &roles[0];
    assert_eq!(role["role"], out.data["RoleName"], "{role}");
    let (ready, accepted) = (
        role["ready"].as_f64().expect("ready"),
        role["accepted"]
            .as_f64()
            .expect("a submission was accepted"),
    );
    assert!(
        accepted >= ready,
        "submitted before the role propagated: {role}"
    );
    // At least one refusal, not a count: how many attempts fall inside the
    // propagation window depends on how fast this machine made the rest of
    // the setup after the role's last write.
    let refused = role["refused"].as_u64().expect("refused");
    assert!(
        refused >= 1,
        "the first attempt came before propagation: {role}"
    );
    assert_eq!(
        job_submissions(&emu).await.len() as u64,
        refused + 1,
        "one accepted submission after the refused ones"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_that_propagates_after_the_budget_fails_the_create_in_time_and_cleans_up() {
    let emu = Emulator::start();
    let fx = Fixture::create(&emu).await;
    let handler = emu.handler_clients().await;
    let check = emu.check_clients().await;
    emu.set_latency_model(json!({ "seed": 1, "propagation_s": [60, 60] }))
        .await;
    // The retry's own limit, which starts at the first submission: a
    // deadline set before the run would also spend itself on making the
    // role and the endpoint, so how many attempts fit would depend on how
    // fast this machine is (CI once saw one). The request's deadline is the
    // same cut-off, tested through the handler below.
    let mut settings = bedrock_setup::lifecycle::Settings::default();
    settings.assume_role_retry.total = std::time::Duration::from_secs(4);
    let out = run(
        &handler,
        &settings,
        &create("never-in-time", fx.full_properties()),
    )
    .await;
    assert_failed(&out);
    // The retry gave up at the budget and said why (not the handler's
    // cut-off), and what it made is gone again.
    assert!(
        out.reason
            .contains("could not assume the new service role in"),
        "{}",
        out.reason
    );
    assert!(out.reason.contains("removed again"), "{}", out.reason);
    assert_eq!(
        inventory(&check, &fx.output_bucket).await,
        Inventory::default()
    );
    let attempts = job_submissions(&emu).await.len();
    assert!(attempts >= 3, "{attempts} attempts in the budget");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wait_for_propagation_ends_inside_service_timeout_with_time_to_clean_up() {
    // Through the handler, settings as deployed (two minutes of retries):
    // the resource's 30 s ServiceTimeout is the budget that binds, and the
    // retry stops early enough that the failed Create removes what it made
    // and says why, instead of being cut off.
    let emu = Emulator::start();
    let fx = Fixture::create(&emu).await;
    let check = emu.check_clients().await;
    emu.set_latency_model(json!({ "seed": 1, "propagation_s": [120, 120] }))
        .await;
    let hp = InProcess::with_settings(
        emu.handler_clients().await,
        bedrock_setup::lifecycle::Settings::default(),
    )
    .await;
    let mut props = fx.full_properties();
    props["ServiceTimeout"] = json!("30");
    let answer = hp
        .send_within(
            std::time::Duration::from_secs(600),
            ("Create", "bounded-by-service-timeout", None),
            &props,
            None,
        )
        .await;
    assert_eq!(answer["Status"], "FAILED", "{answer}");
    let reason = answer["Reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("could not assume the new service role in"),
        "{reason}"
    );
    assert!(reason.contains("removed again"), "{reason}");
    assert!(!reason.contains("ran out of time"), "{reason}");
    assert_eq!(
        inventory(&check, &fx.output_bucket).await,
        Inventory::default()
    );
}

/// Bedrock answers a repeated token with the first call's result, but a
/// submission can still meet its own job under the name: a repeat whose
/// token the service no longer holds. The job it made is adopted, not
/// refused as someone else's, and not submitted twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submission_answered_conflict_adopts_the_job_it_made() {
    let emu = Emulator::start();
    let fx = Fixture::create(&emu).await;
    let handler = emu.handler_clients().await;
    let check = emu.check_clients().await;
    let ok = create_with_submission_fault(&emu, &fx, &handler, "conflict_after", 1).await;
    assert_success(&ok);
    let submissions = job_submissions(&emu).await;
    assert_eq!(submissions.len(), 1, "{submissions:?}");
    assert_eq!(submissions[0]["fault"], "conflict_after");
    let inv = inventory(&check, &fx.output_bucket).await;
    assert_eq!(inv.jobs.len(), 1, "{inv:?}");
    let job = check
        .bedrock
        .get_model_customization_job()
        .job_identifier(&inv.jobs[0].0)
        .send()
        .await
        .expect("the job");
    assert_eq!(ok.data["JobArn"], job.job_arn());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subnets_of_two_vpcs_fail_naming_them_and_nothing_is_made() {
    let emu = Emulator::start();
    let fx = Fixture::create(&emu).await;
    let handler = emu.handler_clients().await;
    let check = emu.check_clients().await;
    let (other_vpc_id, other_subnet, _) = foreign::vpc_with_subnet(&check, "10.1").await;
    let mut props = fx.full_properties();
    props["VpcConfig"]["SubnetIds"] = json!([fx.subnets[0], other_subnet]);
    let out = run(&handler, &fast_settings(), &create("req-1", props)).await;
    assert_failed(&out);
    assert!(
        out.reason.contains("one VPC") && out.reason.contains(&other_vpc_id),
        "{}",
        out.reason
    );
    let inv = inventory(&check, &fx.output_bucket).await;
    assert!(
        inv.roles.is_empty() && inv.endpoints.is_empty() && inv.jobs.is_empty(),
        "{inv:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replacement_with_fixed_names_is_refused_and_rollback_update_is_in_place() {
    let emu = Emulator::start();
    let fx = Fixture::create(&emu).await;
    let handler = emu.handler_clients().await;
    let check = emu.check_clients().await;
    let mut props = fx.full_properties();
    props["RoleName"] = json!("my-fixed-role");
    props["Job"]["JobName"] = json!("my-fixed-job");
    let created = run(&handler, &fast_settings(), &create("req-1", props.clone())).await;
    assert_success(&created);
    let before = inventory(&check, &fx.output_bucket).await;

    let mut changed = props.clone();
    changed["Job"]["HyperParameters"]["epochCount"] = json!("9");
    let refused = run(
        &handler,
        &fast_settings(),
        &update(
            "req-2",
            &created.physical_id,
            changed.clone(),
            props.clone(),
        ),
    )
    .await;
    assert_failed(&refused);
    assert_eq!(refused.physical_id, created.physical_id);
    assert!(
        refused.reason.contains("RoleName 'my-fixed-role'")
            && refused.reason.contains("Job.JobName 'my-fixed-job'"),
        "{}",
        refused.reason
    );
    assert_eq!(inventory(&check, &fx.output_bucket).await, before);

    // CloudFormation's rollback: old properties back, the failed ones as
    // "old". The deployed setup already matches: in place, same id.
    let rollback = run(
        &handler,
        &fast_settings(),
        &update("req-3", &created.physical_id, props, changed),
    )
    .await;
    assert_success(&rollback);
    assert_eq!(rollback.physical_id, created.physical_id);
    assert_eq!(inventory(&check, &fx.output_bucket).await, before);
}
