//! `Deployment` (SPEC section 8), end to end: the real bootstrap against the
//! emulator, whose deployments are served shaped like Bedrock's API
//! (tests/emulator/deployments.py) and judged like every other call.

use std::time::Duration;

use crate::support::bed::{Bed, job_state_change, scheduled, str_of};
use crate::support::*;
use serde_json::{Value, json};

fn with_deployment(mut props: Value, deployment: Value) -> Value {
    props["Deployment"] = deployment;
    props
}

/// Several setups in one VPC would contend for its route tables; these
/// tests are about the completion path, not the network.
fn without_network(mut props: Value) -> Value {
    if let Some(p) = props.as_object_mut() {
        for key in ["VpcConfig", "S3Endpoint", "RestrictOutputBucketToVpc"] {
            p.remove(key);
        }
    }
    props
}

/// The deployment's ARN and status under `name`, read with the test's own
/// credentials; `None` when there is none.
async fn deployment(bed: &Bed, name: &str) -> Option<(String, String)> {
    let check = bed.emu.check_clients().await;
    check
        .bedrock
        .get_custom_model_deployment()
        .custom_model_deployment_identifier(name)
        .send()
        .await
        .ok()
        .map(|d| {
            (
                d.custom_model_deployment_arn().to_string(),
                d.status().as_str().to_string(),
            )
        })
}

async fn creates(bed: &Bed, op: &str) -> usize {
    bed.emu
        .operations()
        .await
        .iter()
        .filter(|o| o.as_str() == op)
        .count()
}

async fn made_with_job(bed: &mut Bed, props: &Value) -> (String, String, String) {
    let made = bed.cfn("Create", None, props, None).await;
    assert_eq!(made["Status"], "SUCCESS", "{made}");
    let pid = str_of(&made, "PhysicalResourceId").to_string();
    let job_name = str_of(&made["Data"], "JobName").to_string();
    let (job_arn, _) = bed.job_arn(&job_name).await;
    (pid, job_name, job_arn)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_deployment_for_a_completed_job_and_the_signal_waits_until_it_is_active() {
    let mut bed = Bed::start("deploy-once").await;
    let props = with_deployment(
        bed.props_with_signal("wait-d1"),
        json!({"Type": "OnDemand"}),
    );
    let made = bed.cfn("Create", None, &props, None).await;
    assert_eq!(made["Status"], "SUCCESS", "{made}");
    let pid = str_of(&made, "PhysicalResourceId").to_string();
    let name = format!("{pid}-deploy");
    assert_eq!(made["Data"]["DeploymentName"], json!(name), "{made}");
    let job_name = str_of(&made["Data"], "JobName").to_string();
    let (job_arn, _) = bed.job_arn(&job_name).await;
    assert_eq!(
        deployment(&bed, &name).await,
        None,
        "deployed before the job ended"
    );

    bed.emu.set_job_status(&job_name, "Completed").await;
    bed.invoke(job_state_change(&job_name, &job_arn, "Completed"))
        .await;
    let (arn, status) = deployment(&bed, &name)
        .await
        .expect("deployed on the event");
    assert_eq!(status, "Creating");
    // Repeated events and sweeps while it is being created: no second
    // deployment, and no signal yet.
    bed.invoke(job_state_change(&job_name, &job_arn, "Completed"))
        .await;
    bed.invoke(scheduled()).await;
    assert_eq!(creates(&bed, "CreateCustomModelDeployment").await, 1);
    assert!(bed.signals.answers().is_empty(), "signalled before Active");

    bed.emu
        .set_deployment_status("deployment", &name, "Active", "")
        .await;
    bed.invoke(scheduled()).await;
    let signals = bed.signals.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(signals.len(), 1);
    let s = signals[0].json();
    assert_eq!(s["Status"], "SUCCESS", "{s}");
    assert_eq!(s["Data"], json!(arn), "the ARN to invoke");
    assert_eq!(s["UniqueId"], json!(job_name));
    assert_eq!(bed.pending(&pid).await, None, "settled");

    bed.invoke(scheduled()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(bed.signals.answers().len(), 1, "signalled twice");
    assert_eq!(creates(&bed, "CreateCustomModelDeployment").await, 1);
    assert!(bed.emu.take_violations().await.is_empty());
    bed.assert_logs_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_event_and_an_event_racing_a_sweep_make_one_deployment() {
    let mut bed = Bed::start("deploy-race").await;
    let props = with_deployment(
        bed.fx.full_properties(),
        json!({"Type": "Provisioned", "ModelUnits": "1", "Name": "race-throughput"}),
    );
    let (pid, job_name, job_arn) = made_with_job(&mut bed, &props).await;
    bed.emu.set_job_status(&job_name, "Completed").await;
    // Two Lambda instances at once: the event in one, the sweep in another.
    let first = InProcess::new(bed.emu.handler_clients().await).await;
    let second = InProcess::new(bed.emu.handler_clients().await).await;
    let deadline = std::time::SystemTime::now() + Duration::from_secs(60);
    let (a, b) = tokio::join!(
        first
            .handler
            .handle(job_state_change(&job_name, &job_arn, "Completed"), deadline),
        second.handler.handle(scheduled(), deadline)
    );
    assert!(a.is_ok() && b.is_ok(), "{a:?} {b:?}");
    let check = bed.emu.check_clients().await;
    let found = check
        .bedrock
        .get_provisioned_model_throughput()
        .provisioned_model_id("race-throughput")
        .send()
        .await
        .expect("one throughput");
    assert_eq!(found.model_units(), 1);
    assert!(
        creates(&bed, "CreateProvisionedModelThroughput").await >= 1,
        "asked for"
    );
    bed.emu
        .set_deployment_status("throughput", "race-throughput", "InService", "")
        .await;
    bed.invoke(scheduled()).await;
    assert_eq!(bed.pending(&pid).await, None, "settled once InService");
    let deleted = bed.cfn("Delete", Some(&pid), &props, None).await;
    assert_eq!(deleted["Status"], "SUCCESS", "{deleted}");
    assert!(
        str_of(&deleted, "Reason").contains("provisioned throughput race-throughput deleted"),
        "{deleted}"
    );
    assert!(bed.emu.take_violations().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_or_stopped_job_deploys_nothing_and_a_failed_deployment_is_signalled() {
    let mut bed = Bed::start("deploy-failed").await;
    let props = with_deployment(
        bed.props_with_signal("wait-d3"),
        json!({"Type": "OnDemand"}),
    );
    let (_, job_name, _) = made_with_job(&mut bed, &props).await;
    bed.emu
        .set_job_status_with_message(&job_name, "Failed", "bad records")
        .await;
    bed.invoke(scheduled()).await;
    let signals = bed.signals.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(signals[0].json()["Status"], "FAILURE");
    assert_eq!(creates(&bed, "CreateCustomModelDeployment").await, 0);

    // A second setup whose job completes but whose deployment fails.
    let mut other = Bed::start("deploy-fails").await;
    let props = with_deployment(
        other.props_with_signal("wait-d4"),
        json!({"Type": "OnDemand", "Name": "doomed"}),
    );
    let (_, job_name, _) = made_with_job(&mut other, &props).await;
    other.emu.set_job_status(&job_name, "Completed").await;
    other.invoke(scheduled()).await;
    other
        .emu
        .set_deployment_status(
            "deployment",
            "doomed",
            "Failed",
            "quota of model units reached",
        )
        .await;
    other.invoke(scheduled()).await;
    let signals = other.signals.wait_for(1, Duration::from_secs(5)).await;
    let s = signals[0].json();
    assert_eq!(s["Status"], "FAILURE", "{s}");
    assert!(
        str_of(&s, "Reason").contains("quota of model units reached"),
        "{s}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_place_add_change_and_remove_act_at_once_when_the_model_exists() {
    let mut bed = Bed::start("deploy-in-place").await;
    let plain = bed.fx.full_properties();
    let (pid, job_name, _) = made_with_job(&mut bed, &plain).await;
    bed.emu.set_job_status(&job_name, "Completed").await;

    let added = with_deployment(plain.clone(), json!({"Type": "OnDemand", "Name": "first"}));
    let up = bed.cfn("Update", Some(&pid), &added, Some(&plain)).await;
    assert_eq!(up["Status"], "SUCCESS", "{up}");
    assert_eq!(str_of(&up, "PhysicalResourceId"), pid, "in place");
    assert!(deployment(&bed, "first").await.is_some(), "made at once");
    bed.emu
        .set_deployment_status("deployment", "first", "Active", "")
        .await;

    let changed = with_deployment(plain.clone(), json!({"Type": "OnDemand", "Name": "second"}));
    let up = bed.cfn("Update", Some(&pid), &changed, Some(&added)).await;
    assert_eq!(up["Status"], "SUCCESS", "{up}");
    assert_eq!(deployment(&bed, "first").await, None, "the old one removed");
    assert!(
        deployment(&bed, "second").await.is_some(),
        "the new one made"
    );
    bed.emu
        .set_deployment_status("deployment", "second", "Active", "")
        .await;

    let up = bed.cfn("Update", Some(&pid), &plain, Some(&changed)).await;
    assert_eq!(up["Status"], "SUCCESS", "{up}");
    assert_eq!(deployment(&bed, "second").await, None, "removed");
    assert!(bed.emu.take_violations().await.is_empty());
}

/// A deployment of `model_name`'s model under `name`, made by someone else
/// (the test's own credentials, no owner tag).
async fn foreign_deployment(bed: &Bed, model_name: &str, name: &str) {
    let check = bed.emu.check_clients().await;
    let model = check
        .bedrock
        .get_custom_model()
        .model_identifier(model_name)
        .send()
        .await
        .expect("model");
    check
        .bedrock
        .create_custom_model_deployment()
        .model_deployment_name(name)
        .model_arn(model.model_arn())
        .send()
        .await
        .expect("foreign deployment");
}

async fn role_tags(bed: &Bed, role: &str) -> String {
    let check = bed.emu.check_clients().await;
    let tags = check
        .iam
        .list_role_tags()
        .role_name(role)
        .send()
        .await
        .expect("role tags");
    format!("{:?}", tags.tags())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_name_someone_else_holds_fails_before_anything_changes() {
    let mut bed = Bed::start("deploy-name-taken").await;
    let plain = bed.fx.full_properties();
    let made = bed.cfn("Create", None, &plain, None).await;
    assert_eq!(made["Status"], "SUCCESS", "{made}");
    let pid = str_of(&made, "PhysicalResourceId").to_string();
    let role = str_of(&made["Data"], "RoleName").to_string();
    let job_name = str_of(&made["Data"], "JobName").to_string();
    bed.emu.set_job_status(&job_name, "Completed").await;
    foreign_deployment(&bed, &format!("{pid}-model"), "taken").await;
    let tags_before = role_tags(&bed, &role).await;

    // In place, beside a change that would otherwise be applied.
    let mut wanted = with_deployment(plain.clone(), json!({"Type": "OnDemand", "Name": "taken"}));
    wanted["Tags"] = json!([{"Key": "team", "Value": "changed"}]);
    let up = bed.cfn("Update", Some(&pid), &wanted, Some(&plain)).await;
    assert_eq!(up["Status"], "FAILED", "{up}");
    let reason = str_of(&up, "Reason");
    assert!(
        reason.contains("taken") && reason.contains("choose another Deployment.Name"),
        "{up}"
    );
    assert!(reason.contains("nothing was changed"), "{up}");
    assert_eq!(
        role_tags(&bed, &role).await,
        tags_before,
        "the tag change not applied"
    );
    assert_eq!(bed.pending(&pid).await, None, "no record registered");

    // On Create: refused with the pre-flight, before the role exists.
    let create = bed.cfn("Create", None, &wanted, None).await;
    assert_eq!(create["Status"], "FAILED", "{create}");
    assert!(
        str_of(&create, "Reason").contains("choose another Deployment.Name"),
        "{create}"
    );
    assert_eq!(
        creates(&bed, "CreateRole").await,
        1,
        "only the first setup's role"
    );
    assert_eq!(
        creates(&bed, "CreateCustomModelDeployment").await,
        1,
        "only the foreign one"
    );
    assert!(bed.emu.take_violations().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_removes_an_active_or_creating_deployment_first_and_never_a_foreign_one() {
    let mut bed = Bed::start("deploy-delete").await;
    let mut props = with_deployment(bed.fx.full_properties(), json!({"Type": "OnDemand"}));
    props["Job"]["DeleteCustomModelOnDelete"] = json!("true");
    let (pid, job_name, _) = made_with_job(&mut bed, &props).await;
    let name = format!("{pid}-deploy");
    bed.emu.set_job_status(&job_name, "Completed").await;
    bed.invoke(scheduled()).await;
    // Still Creating at Delete: Bedrock refuses to delete it until it is
    // Active (here after 2 s), and the model only once it is gone.
    bed.emu.set_deployments_ready_after(2).await;
    // And the delete's answer is lost after it took effect: the SDK's retry
    // finds nothing tagged ours and IAM refuses it, as real IAM would.
    bed.emu
        .add_faults(json!([{ "service": "bedrock", "operation": "DeleteCustomModelDeployment", "kind": "drop_after", "times": 1 }]))
        .await;
    let deleted = bed.cfn("Delete", Some(&pid), &props, None).await;
    assert_eq!(deleted["Status"], "SUCCESS", "{deleted}");
    assert!(
        str_of(&deleted, "Reason").contains(&format!("custom model deployment {name} deleted")),
        "{deleted}"
    );
    assert_eq!(deployment(&bed, &name).await, None);
    assert!(
        str_of(&deleted, "Reason").contains(&format!("custom model {pid}-model deleted")),
        "the model went too: {deleted}"
    );
    let fired = bed.emu.requests().await.iter().any(|r| {
        r["operation"] == json!("DeleteCustomModelDeployment") && r["fault"] == json!("drop_after")
    });
    assert!(fired, "the lost answer was never injected");
    let refused = bed.emu.take_violations().await;
    assert!(!refused.is_empty(), "the retried delete reached IAM");
    for v in refused {
        assert!(
            v["kind"] == "denied" && v["operation"] == "DeleteCustomModelDeployment",
            "only the retried delete is refused: {v}"
        );
    }

    // A deployment under our name that is someone else's stays.
    let mut other = Bed::start("deploy-foreign").await;
    let props = with_deployment(
        other.fx.full_properties(),
        json!({"Type": "OnDemand", "Name": "taken"}),
    );
    let (pid, _, _) = made_with_job(&mut other, &props).await;
    foreign_deployment(&other, &format!("{pid}-model"), "taken").await;
    let deleted = other.cfn("Delete", Some(&pid), &props, None).await;
    assert_eq!(deleted["Status"], "SUCCESS", "{deleted}");
    assert!(
        str_of(&deleted, "Reason").contains("taken is not ours and was left alone"),
        "{deleted}"
    );
    assert!(deployment(&other, "taken").await.is_some(), "left alone");
    assert!(other.emu.take_violations().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_on_the_event_path_end_in_one_deployment_and_one_signal() {
    let mut bed = Bed::start("deploy-faults").await;
    let props = with_deployment(bed.props_with_signal("wait-f"), json!({"Type": "OnDemand"}));
    let (pid, job_name, _) = made_with_job(&mut bed, &props).await;
    let name = format!("{pid}-deploy");
    bed.emu.set_job_status(&job_name, "Completed").await;
    // Each scenario outlasts the SDK's own retries, so the sweep it hits
    // fails; the next sweep carries on from where it stopped.
    let before_active = [
        ("ssm", "GetParametersByPath", "throttle"),
        ("ssm", "GetParametersByPath", "error500"),
        ("bedrock", "GetModelCustomizationJob", "throttle"),
        ("bedrock", "GetModelCustomizationJob", "error500"),
        ("bedrock", "CreateCustomModelDeployment", "throttle"),
        ("bedrock", "CreateCustomModelDeployment", "error500"),
        // The deployment is made, its answer lost: the SDK's retry carries
        // the same token and gets the same ARN.
        ("bedrock", "CreateCustomModelDeployment", "drop_after"),
        ("bedrock", "GetCustomModelDeployment", "throttle"),
        ("bedrock", "GetCustomModelDeployment", "delay"),
    ];
    for (service, operation, kind) in before_active {
        fire(&mut bed, service, operation, kind).await;
        assert!(
            bed.signals.answers().is_empty(),
            "signalled before Active ({operation} {kind})"
        );
    }
    bed.emu
        .set_deployment_status("deployment", &name, "Active", "")
        .await;
    // Signalled, but the record cannot be removed: kept, and the next sweep
    // (slow to list the records) signals the same again and removes it.
    fire(&mut bed, "ssm", "DeleteParameter", "error500").await;
    assert!(
        bed.pending(&pid).await.is_some(),
        "kept while it could not be removed"
    );
    fire(&mut bed, "ssm", "GetParametersByPath", "delay").await;
    assert_eq!(
        bed.pending(&pid).await,
        None,
        "settled once the faults cleared"
    );
    bed.invoke(scheduled()).await;

    let (arn, _) = deployment(&bed, &name).await.expect("the deployment");
    let signals: Vec<Value> = bed.signals.answers().iter().map(|s| s.json()).collect();
    assert!(!signals.is_empty(), "signalled");
    assert!(
        signals.iter().all(|s| *s == signals[0]),
        "a signal repeated with different content: {signals:?}"
    );
    assert_eq!(signals[0]["Status"], "SUCCESS");
    assert_eq!(signals[0]["Data"], json!(arn));
    assert!(bed.emu.take_violations().await.is_empty());
}

/// Injects one fault, runs a sweep, proves the fault fired, clears it.
async fn fire(bed: &mut Bed, service: &str, operation: &str, kind: &str) {
    bed.emu.clear_requests().await;
    bed.emu
        .add_faults(json!([{ "service": service, "operation": operation, "kind": kind, "delay_ms": 1500, "times": 4 }]))
        .await;
    bed.invoke(scheduled()).await;
    bed.emu.clear_faults().await;
    let fired = bed
        .emu
        .requests()
        .await
        .iter()
        .any(|r| r["operation"] == json!(operation) && r["fault"] == json!(kind));
    assert!(fired, "{operation} {kind} never fired");
}

/// A setup with an on-demand deployment and a signal to `handle`, its job
/// Completed, the deployment requested by a sweep and then Active: the next
/// sweep signals. Its physical id and the deployment's name.
async fn deployed_with_a_signal(bed: &mut Bed, handle: &str) -> (String, String) {
    let props = with_deployment(bed.props_with_signal(handle), json!({"Type": "OnDemand"}));
    let (pid, job_name, _) = made_with_job(bed, &props).await;
    let name = format!("{pid}-deploy");
    bed.emu.set_job_status(&job_name, "Completed").await;
    bed.invoke(scheduled()).await;
    bed.emu
        .set_deployment_status("deployment", &name, "Active", "")
        .await;
    (pid, name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signal_put_that_keeps_failing_is_sent_by_a_later_sweep_once() {
    let mut bed = Bed::start("deploy-signal-put").await;
    // More 503s than one invocation's attempts: the first sweep gives up.
    bed.signals = crate::support::lambda::ResponseReceiver::start(10).await;
    let (pid, name) = deployed_with_a_signal(&mut bed, "wait-p").await;
    bed.invoke(scheduled()).await;
    assert!(bed.signals.answers().is_empty(), "every attempt failed");
    assert!(bed.signals.attempts() >= 2, "retried within the invocation");
    assert!(bed.pending(&pid).await.is_some(), "left pending");
    bed.invoke(scheduled()).await;
    let signals = bed.signals.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(signals.len(), 1);
    assert!(bed.signals.attempts() > 10, "the 503s were answered");
    let (arn, _) = deployment(&bed, &name).await.expect("the deployment");
    assert_eq!(signals[0].json()["Data"], json!(arn));
    assert_eq!(bed.pending(&pid).await, None);
    bed.invoke(scheduled()).await;
    assert_eq!(bed.signals.answers().len(), 1, "signalled twice");
    assert_eq!(creates(&bed, "CreateCustomModelDeployment").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signal_put_that_hangs_is_tried_again_and_sent_once() {
    let mut bed = Bed::start("deploy-signal-hang").await;
    // The first PUT is held open past the HTTP client's 10 s timeout.
    bed.signals =
        crate::support::lambda::ResponseReceiver::start_stalling(1, Duration::from_secs(30)).await;
    let (pid, name) = deployed_with_a_signal(&mut bed, "wait-h").await;
    bed.invoke(scheduled()).await;
    assert_eq!(bed.signals.attempts(), 2, "the hung attempt, then one more");
    let signals = bed.signals.answers();
    assert_eq!(signals.len(), 1);
    let (arn, _) = deployment(&bed, &name).await.expect("the deployment");
    assert_eq!(signals[0].json()["Data"], json!(arn));
    assert_eq!(bed.pending(&pid).await, None, "settled");
    bed.invoke(scheduled()).await;
    assert_eq!(bed.signals.answers().len(), 1, "signalled twice");
    assert!(bed.emu.take_violations().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_on_registering_the_record_end_in_one_record_or_a_failure_that_rolls_back() {
    let mut bed = Bed::start("deploy-register").await;
    // Each within the SDK's four attempts (a hung attempt is cut off by
    // its 20 s attempt timeout): the Create succeeds all the same.
    let recovered = [
        ("throttle", 3, 0),
        ("error500", 3, 0),
        // Registered, its answer lost: the retry overwrites it with the same.
        ("drop_after", 1, 0),
        ("delay", 3, 1500),
        ("hang", 1, 25_000),
    ];
    let mut made = Vec::new();
    for (i, (kind, times, delay_ms)) in recovered.into_iter().enumerate() {
        let handle = format!("wait-r{i}");
        let props = without_network(with_deployment(
            bed.props_with_signal(&handle),
            json!({"Type": "OnDemand"}),
        ));
        bed.emu.clear_requests().await;
        bed.emu
            .add_faults(json!([{ "service": "ssm", "operation": "PutParameter", "kind": kind, "delay_ms": delay_ms, "times": times }]))
            .await;
        let (pid, job_name, _) = made_with_job(&mut bed, &props).await;
        bed.emu.clear_faults().await;
        let fired = bed
            .emu
            .requests()
            .await
            .iter()
            .any(|r| r["operation"] == json!("PutParameter") && r["fault"] == json!(kind));
        assert!(fired, "PutParameter {kind} never fired");
        assert!(
            bed.pending(&pid).await.is_some(),
            "registered despite {kind}"
        );
        made.push((pid, job_name, handle));
    }

    // Past the SDK's attempts: the Create fails, and its rollback Delete
    // leaves nothing behind.
    let props = without_network(with_deployment(
        bed.props_with_signal("wait-x"),
        json!({"Type": "OnDemand"}),
    ));
    bed.emu
        .add_faults(json!([{ "service": "ssm", "operation": "PutParameter", "kind": "throttle", "times": 4 }]))
        .await;
    let failed = bed.cfn("Create", None, &props, None).await;
    bed.emu.clear_faults().await;
    assert_eq!(failed["Status"], "FAILED", "{failed}");
    assert!(
        str_of(&failed, "Reason").contains("ssm:PutParameter"),
        "{failed}"
    );
    let pid = str_of(&failed, "PhysicalResourceId").to_string();
    let rolled_back = bed.cfn("Delete", Some(&pid), &props, None).await;
    assert_eq!(rolled_back["Status"], "SUCCESS", "{rolled_back}");
    assert_eq!(bed.pending(&pid).await, None, "no record left");
    let check = bed.emu.check_clients().await;
    let roles = check.iam.list_roles().send().await.expect("roles");
    assert!(
        roles
            .roles()
            .iter()
            .all(|r| !r.role_name().starts_with(&pid)),
        "the failed setup's role left behind"
    );

    // Then the completion path: one deployment and one signal per setup.
    for (_, job_name, _) in &made {
        bed.emu.set_job_status(job_name, "Completed").await;
    }
    bed.invoke(scheduled()).await;
    for (pid, _, _) in &made {
        bed.emu
            .set_deployment_status("deployment", &format!("{pid}-deploy"), "Active", "")
            .await;
    }
    bed.invoke(scheduled()).await;
    bed.invoke(scheduled()).await;
    assert_eq!(
        creates(&bed, "CreateCustomModelDeployment").await,
        made.len()
    );
    let signals = bed.signals.answers();
    assert_eq!(signals.len(), made.len(), "one signal per setup");
    for (pid, _, handle) in &made {
        let (arn, _) = deployment(&bed, &format!("{pid}-deploy"))
            .await
            .expect("the deployment");
        let sent: Vec<_> = signals
            .iter()
            .filter(|s| s.path_and_query.contains(&format!("/{handle}?")))
            .collect();
        assert_eq!(sent.len(), 1, "{handle}");
        assert_eq!(sent[0].json()["Data"], json!(arn));
        assert_eq!(bed.pending(pid).await, None, "settled");
    }
    assert!(bed.emu.take_violations().await.is_empty());
}
