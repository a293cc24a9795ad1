//! Hostile conditions: a bad-input corpus with zero mutating calls,
//! concurrent setups on one bucket, and seeded fault injection on every AWS
//! operation of Create, Update and Delete.

mod support;

use std::collections::BTreeSet;

use bedrock_setup::lifecycle::run;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{Value, json};
use support::json_paths::{with, without};
use support::*;

// ---------------------------------------------------------------- corpus

/// (what the Reason must name, the malformed properties)
fn corpus(fx: &Fixture, other_vpc_subnet: &str) -> Vec<(&'static str, Value)> {
    let full = fx.full_properties();
    let no_vpc = without(
        without(without(full.clone(), "VpcConfig"), "S3Endpoint"),
        "RestrictOutputBucketToVpc",
    );
    let many = |n: usize, f: &dyn Fn(usize) -> Value| Value::Array((0..n).map(f).collect());
    let big_hp: serde_json::Map<String, Value> =
        (0..51).map(|i| (format!("p{i}"), json!("1"))).collect();
    vec![
        ("ResourceProperties", json!("TrainingDataUri=s3://a/b")),
        ("ResourceProperties", json!([full.clone()])),
        ("ResourceProperties", Value::Null),
        ("TrainingDataUri", without(full.clone(), "TrainingDataUri")),
        (
            "TrainingDataUri",
            with(
                full.clone(),
                "TrainingDataUri",
                json!(["s3://training-bucket/a"]),
            ),
        ),
        (
            "TrainingDataUri",
            with(full.clone(), "TrainingDataUri", json!("")),
        ),
        (
            "TrainingDataUri",
            with(
                full.clone(),
                "TrainingDataUri",
                json!("https://training-bucket/a"),
            ),
        ),
        (
            "TrainingDataUri",
            with(
                full.clone(),
                "TrainingDataUri",
                json!("s3://Training_Bucket/a"),
            ),
        ),
        (
            "OutputDataUri",
            with(full.clone(), "OutputDataUri", json!(5)),
        ),
        (
            "OutputDataUri",
            with(
                full.clone(),
                "OutputDataUri",
                json!("s3://output-bucket/out/*"),
            ),
        ),
        (
            "OutputDataUri",
            with(
                full.clone(),
                "OutputDataUri",
                json!({ "Bucket": "output-bucket" }),
            ),
        ),
        (
            "ValidationDataUris",
            with(
                full.clone(),
                "ValidationDataUris",
                json!("s3://training-bucket/v"),
            ),
        ),
        (
            "ValidationDataUris",
            with(
                full.clone(),
                "ValidationDataUris",
                many(11, &|i| json!(format!("s3://training-bucket/v{i}"))),
            ),
        ),
        (
            "ValidationDataUris[0]",
            with(full.clone(), "ValidationDataUris", json!([123])),
        ),
        (
            "RoleName",
            with(full.clone(), "RoleName", json!("r".repeat(65))),
        ),
        (
            "RoleName",
            with(full.clone(), "RoleName", json!(["a-role"])),
        ),
        (
            "RoleName",
            with(full.clone(), "RoleName", json!("bad name!")),
        ),
        (
            "RolePath",
            with(full.clone(), "RolePath", json!("no-slashes")),
        ),
        (
            "PermissionsBoundaryArn",
            with(
                full.clone(),
                "PermissionsBoundaryArn",
                json!("arn:aws-cn:iam::123456789012:policy/b"),
            ),
        ),
        (
            "PermissionsBoundaryArn",
            with(
                full.clone(),
                "PermissionsBoundaryArn",
                json!("arn:aws:s3:::bucket"),
            ),
        ),
        (
            "KmsKeyArns",
            with(
                full.clone(),
                "KmsKeyArns",
                json!(
                    "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
                ),
            ),
        ),
        (
            "KmsKeyArns[0]",
            with(
                full.clone(),
                "KmsKeyArns",
                json!(["arn:aws:kms:us-east-1:123456789012:alias/my-key"]),
            ),
        ),
        (
            "KmsKeyArns[0]",
            with(
                full.clone(),
                "KmsKeyArns",
                json!([
                    "arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
                ]),
            ),
        ),
        (
            "KmsKeyArns",
            with(
                full.clone(),
                "KmsKeyArns",
                json!([
                    "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                    "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
                ]),
            ),
        ),
        (
            "VpcConfig",
            with(full.clone(), "VpcConfig", json!(fx.subnets[0].clone())),
        ),
        (
            "VpcConfig.SubnetIds",
            with(full.clone(), "VpcConfig.SubnetIds", json!([])),
        ),
        (
            "VpcConfig.SubnetIds",
            with(
                full.clone(),
                "VpcConfig.SubnetIds",
                many(17, &|i| json!(format!("subnet-{i:08x}"))),
            ),
        ),
        (
            "VpcConfig.SubnetIds",
            with(
                full.clone(),
                "VpcConfig.SubnetIds",
                json!([fx.subnets[0], fx.subnets[0]]),
            ),
        ),
        (
            "VpcConfig.SubnetIds[0]",
            with(full.clone(), "VpcConfig.SubnetIds", json!(["subnet-xyz"])),
        ),
        (
            "VpcConfig.SecurityGroupIds",
            with(
                full.clone(),
                "VpcConfig.SecurityGroupIds",
                many(6, &|i| json!(format!("sg-{i:08x}"))),
            ),
        ),
        (
            "VpcConfig.Subnets",
            with(
                full.clone(),
                "VpcConfig.Subnets",
                json!(["subnet-0123abcd"]),
            ),
        ),
        (
            "VpcConfig",
            with(
                full.clone(),
                "VpcConfig.SubnetIds",
                json!([fx.subnets[0], other_vpc_subnet]),
            ),
        ),
        (
            "VpcConfig.SubnetIds",
            with(
                full.clone(),
                "VpcConfig.SubnetIds",
                json!(["subnet-0123456789abcdef9"]),
            ),
        ),
        (
            "S3Endpoint.Create",
            with(full.clone(), "S3Endpoint.Create", json!("yes")),
        ),
        (
            "S3Endpoint.Policy",
            with(full.clone(), "S3Endpoint.Policy", json!("Open")),
        ),
        (
            "S3Endpoint.RouteTableIds[0]",
            with(full.clone(), "S3Endpoint.RouteTableIds", json!(["rtb-1"])),
        ),
        (
            "S3Endpoint",
            with(no_vpc.clone(), "S3Endpoint", json!({ "Create": "true" })),
        ),
        (
            "RestrictOutputBucketToVpc",
            with(full.clone(), "RestrictOutputBucketToVpc", json!("1")),
        ),
        (
            "RestrictOutputBucketToVpc",
            with(no_vpc.clone(), "RestrictOutputBucketToVpc", json!("true")),
        ),
        (
            "Job",
            with(full.clone(), "Job", json!("amazon.titan-text-express-v1")),
        ),
        (
            "Job.BaseModelIdentifier",
            without(full.clone(), "Job.BaseModelIdentifier"),
        ),
        (
            "Job.BaseModelIdentifier",
            with(
                full.clone(),
                "Job.BaseModelIdentifier",
                json!("amazon titan"),
            ),
        ),
        (
            "Job.JobName",
            with(full.clone(), "Job.JobName", json!("j".repeat(64))),
        ),
        (
            "Job.JobName",
            with(full.clone(), "Job.JobName", json!("-starts-with-dash")),
        ),
        (
            "Job.CustomModelName",
            with(full.clone(), "Job.CustomModelName", json!("double--dash")),
        ),
        (
            "Job.CustomizationType",
            with(full.clone(), "Job.CustomizationType", json!("RLHF")),
        ),
        (
            "Job.HyperParameters",
            with(full.clone(), "Job.HyperParameters", Value::Object(big_hp)),
        ),
        (
            "Job.HyperParameters.epochCount",
            with(
                full.clone(),
                "Job.HyperParameters.epochCount",
                json!("9".repeat(300)),
            ),
        ),
        (
            "Job.HyperParameters.epochCount",
            with(full.clone(), "Job.HyperParameters.epochCount", json!([2])),
        ),
        (
            "Job.CustomModelKmsKeyArn",
            with(
                full.clone(),
                "Job.CustomModelKmsKeyArn",
                json!(
                    "arn:aws-cn:kms:cn-north-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
                ),
            ),
        ),
        (
            "Job.StopJobOnDelete",
            with(full.clone(), "Job.StopJobOnDelete", json!("maybe")),
        ),
        (
            "Job.DeleteCustomModelOnDelete",
            with(full.clone(), "Job.DeleteCustomModelOnDelete", json!(0)),
        ),
        ("Job.Epochs", with(full.clone(), "Job.Epochs", json!("2"))),
        ("Tags", with(full.clone(), "Tags", json!("team=ml"))),
        (
            "Tags",
            with(
                full.clone(),
                "Tags",
                json!([{ "Key": "a", "Value": "1" }, { "Key": "a", "Value": "2" }]),
            ),
        ),
        (
            "Tags[0].Key",
            with(
                full.clone(),
                "Tags",
                json!([{ "Key": "aws:owner", "Value": "me" }]),
            ),
        ),
        (
            "Tags",
            with(
                full.clone(),
                "Tags",
                many(49, &|i| json!({ "Key": format!("k{i}"), "Value": "v" })),
            ),
        ),
        ("Colour", with(full.clone(), "Colour", json!("blue"))),
        (
            "trainingDataUri",
            with(
                full.clone(),
                "trainingDataUri",
                json!("s3://training-bucket/a"),
            ),
        ),
        ("ServiceToken", without(full.clone(), "ServiceToken")),
        (
            "OutputDataUri",
            with(
                full.clone(),
                "OutputDataUri",
                json!("s3://no-such-bucket-here/out/"),
            ),
        ),
        (
            "RoleName",
            with(full.clone(), "RoleName", json!("someone-elses-role")),
        ),
        (
            "S3Endpoint",
            with(full.clone(), "VpcConfig.SubnetIds", json!([fx.subnets[1]])),
        ),
        (
            "Job.JobName",
            with(
                with(full, "Job.JobName", json!("someone-elses-job")),
                "S3Endpoint.Create",
                json!("false"),
            ),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_corpus_fails_naming_the_property_with_no_mutating_call() {
    let emu = Emulator::start();
    let fx = Fixture::create(&emu).await;
    let check = emu.check_clients().await;
    let handler = emu.handler_clients().await;
    // What the corpus collides with: another VPC, someone else's role, job
    // and an S3 gateway endpoint on the main route table.
    let (_, other_subnet, _) = foreign::vpc_with_subnet(&check, "10.9").await;
    foreign::role(&check, "someone-elses-role").await;
    foreign::s3_endpoint(&check, &fx.vpc_id, &fx.main_route_table).await;
    // Submitted directly, without our tags.
    foreign::job(&check, "someone-elses-job", "someone-elses-model").await;

    let cases = corpus(&fx, &other_subnet);
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let mut problems = Vec::new();
    for (i, (property, props)) in cases.iter().enumerate() {
        emu.clear_requests().await;
        let out = run(
            &handler,
            &fast_settings(),
            &create(&format!("corpus-{i}"), props.clone()),
        )
        .await;
        let mutating: Vec<String> = emu
            .requests()
            .await
            .iter()
            .filter_map(|r| {
                r["operation"]
                    .as_str()
                    .filter(|op| is_mutating(op))
                    .map(str::to_string)
            })
            .collect();
        if out.status != bedrock_setup::cfn::Status::Failed {
            problems.push(format!("#{i} {property}: answered SUCCESS"));
        } else if !out.reason.contains(property) {
            problems.push(format!(
                "#{i}: Reason does not name {property}: {}",
                out.reason
            ));
        }
        if !mutating.is_empty() {
            problems.push(format!("#{i} {property}: mutating calls {mutating:?}"));
        }
        if out.physical_id.is_empty() {
            problems.push(format!("#{i} {property}: no physical id returned"));
        }
    }
    // The one bucket outside the deployment's OutputBucketPattern is refused
    // by IAM before it is known not to exist; nothing else was refused.
    for v in emu.take_violations().await {
        let detail = v["detail"].as_str().unwrap_or_default();
        if !(v["operation"] == "GetBucketPolicy"
            && detail.contains("arn:aws:s3:::no-such-bucket-here"))
        {
            problems.push(format!("refused by real AWS: {v}"));
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {} cases misbehaved:\n{}",
        problems.len(),
        cases.len(),
        problems.join("\n")
    );
}

// ----------------------------------------------------------- concurrency

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_setups_on_one_bucket_keep_exactly_their_statements() {
    let emu = Emulator::start();
    let fx = Fixture::create(&emu).await;
    let check = emu.check_clients().await;
    let handler = emu.handler_clients().await;
    let user = json!({ "Version": "2012-10-17", "Statement": [{ "Sid": "OwnerStatement", "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket", "Resource": "arn:aws:s3:::output-bucket" }] });
    check
        .s3
        .put_bucket_policy()
        .bucket(&fx.output_bucket)
        .policy(user.to_string())
        .send()
        .await
        .expect("policy");
    // Widen the read-modify-write window so the writers really interleave.
    emu.add_faults(json!([{ "service": "s3", "operation": "PutBucketPolicy", "kind": "delay", "delay_ms": 150, "times": -1 }])).await;
    let mut props = fx.full_properties();
    props["S3Endpoint"]["Create"] = json!("false");
    props.as_object_mut().expect("obj").remove("Job");

    for round in 0..4 {
        let ids: Vec<String> = (0..3).map(|k| format!("round{round}-setup{k}")).collect();
        let outs = futures_util::future::join_all(ids.iter().map(|id| {
            let (handler, props) = (&handler, props.clone());
            async move { run(handler, &fast_settings(), &create(id, props)).await }
        }))
        .await;
        let pids: Vec<String> = outs
            .iter()
            .map(|o| {
                assert_eq!(
                    o.status,
                    bedrock_setup::cfn::Status::Success,
                    "{}",
                    o.reason
                );
                o.physical_id.clone()
            })
            .collect();
        let sids: BTreeSet<String> = inventory(&check, &fx.output_bucket)
            .await
            .bucket_statement_sids
            .into_iter()
            .collect();
        let mut want: BTreeSet<String> = pids
            .iter()
            .map(|p| bedrock_setup::model::identity::bucket_statement_sid(p))
            .collect();
        want.insert("OwnerStatement".into());
        assert_eq!(
            sids, want,
            "round {round}: every concurrent Create keeps its statement"
        );

        let dels = futures_util::future::join_all(pids.iter().enumerate().map(|(k, pid)| {
            let (handler, props) = (&handler, props.clone());
            async move {
                run(
                    handler,
                    &fast_settings(),
                    &delete(&format!("round{round}-del{k}"), pid, props),
                )
                .await
            }
        }))
        .await;
        for d in &dels {
            assert_eq!(
                d.status,
                bedrock_setup::cfn::Status::Success,
                "{}",
                d.reason
            );
        }
        let policy = check
            .s3
            .get_bucket_policy()
            .bucket(&fx.output_bucket)
            .send()
            .await
            .expect("policy");
        let now: Value = serde_json::from_str(policy.policy().unwrap_or("{}")).expect("json");
        assert_eq!(
            now, user,
            "round {round}: concurrent Deletes remove exactly their statements"
        );
    }
}

// --------------------------------------------------------------- faults

const SEED: [u8; 32] = *b"bedrock-customization-setup-seed";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Create,
    UpdateInPlace,
    Replace,
    Delete,
}

#[derive(Debug, Clone)]
struct Scenario {
    stage: Stage,
    service: String,
    operation: String,
    kind: &'static str,
    times: i64,
    skip: u32,
}

/// Every (operation, fault kind) of a stage, each with a seeded number of
/// faulty answers (a transient one the SDK retries away, or a persistent
/// one) and a seeded number of good calls first.
fn scenarios(stage: Stage, ops: &[(String, String)], runner: &mut TestRunner) -> Vec<Scenario> {
    let shape = (proptest::sample::select(vec![1i64, 2, 3, -1]), 0u32..2);
    let mut out = Vec::new();
    for (service, operation) in ops {
        for kind in ["throttle", "error500", "drop", "drop_after", "delay"] {
            let (times, skip) = shape.new_tree(runner).expect("strategy").current();
            out.push(Scenario {
                stage,
                service: service.clone(),
                operation: operation.clone(),
                kind,
                times,
                skip,
            });
        }
    }
    out
}

fn fault_props(fx: &Fixture) -> Value {
    let mut p = fx.full_properties();
    // Models are kept by default; here they must go so "nothing left" holds.
    p["Job"]["DeleteCustomModelOnDelete"] = json!("true");
    p
}

/// Everything that must hold once CloudFormation has cleaned up.
async fn assert_clean(emu: &Emulator, fx: &Fixture, user_policy: &Value, what: &str) {
    let check = emu.check_clients().await;
    let inv = inventory(&check, &fx.output_bucket).await;
    assert_eq!(
        inv.roles,
        vec!["someone-elses-role".to_string()],
        "{what}: roles left: {inv:?}"
    );
    let ours: Vec<_> = inv.endpoints.iter().filter(|(_, t)| t[0] != "-").collect();
    assert!(ours.is_empty(), "{what}: endpoints left: {inv:?}");
    assert_eq!(
        inv.endpoints.len(),
        1,
        "{what}: the foreign endpoint must stay: {inv:?}"
    );
    assert!(
        inv.jobs.iter().all(|(_, s)| s != "InProgress"),
        "{what}: jobs still running: {inv:?}"
    );
    assert!(inv.models.is_empty(), "{what}: models left: {inv:?}");
    let policy = check
        .s3
        .get_bucket_policy()
        .bucket(&fx.output_bucket)
        .send()
        .await
        .expect("policy");
    let now: Value = serde_json::from_str(policy.policy().unwrap_or("{}")).expect("json");
    assert_eq!(
        &now, user_policy,
        "{what}: the user's bucket policy changed"
    );
    let role = check
        .iam
        .get_role()
        .role_name("someone-elses-role")
        .send()
        .await
        .expect("role")
        .role
        .expect("role");
    assert!(role.tags().is_empty(), "{what}: foreign role was tagged");
    let inline = check
        .iam
        .list_role_policies()
        .role_name("someone-elses-role")
        .send()
        .await
        .expect("p");
    assert_eq!(
        inline.policy_names(),
        ["theirs"],
        "{what}: foreign role's policies changed"
    );
}

/// The setup the fault runs meet: the fixture, plus resources that are not
/// ours and must never change.
async fn fault_bed() -> (Emulator, Fixture, Value) {
    let emu = Emulator::start();
    let fx = Fixture::create(&emu).await;
    let check = emu.check_clients().await;
    foreign::role(&check, "someone-elses-role").await;
    let (other_vpc, _, other_table) = foreign::vpc_with_subnet(&check, "10.7").await;
    foreign::s3_endpoint(&check, &other_vpc, &other_table).await;
    let user = json!({ "Version": "2012-10-17", "Statement": [{ "Sid": "OwnerStatement", "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket", "Resource": "arn:aws:s3:::output-bucket" }] });
    check
        .s3
        .put_bucket_policy()
        .bucket(&fx.output_bucket)
        .policy(user.to_string())
        .send()
        .await
        .expect("policy");
    (emu, fx, user)
}

/// The (service, operation) pairs a stage calls, read from a clean run.
async fn operations_of(
    emu: &Emulator,
    hp: &InProcess,
    props: &Value,
    stage: Stage,
) -> Vec<(String, String)> {
    let pid = match stage {
        Stage::Create => None,
        _ => {
            let a = hp.send("Create", "probe-create", None, props, None).await;
            Some(a["PhysicalResourceId"].as_str().expect("pid").to_string())
        }
    };
    emu.clear_requests().await;
    let (tagged, retrain) = changed_props(props);
    let answer = match stage {
        Stage::Create => hp.send("Create", "probe", None, props, None).await,
        Stage::UpdateInPlace => {
            hp.send("Update", "probe", pid.as_deref(), &tagged, Some(props))
                .await
        }
        Stage::Replace => {
            hp.send("Update", "probe", pid.as_deref(), &retrain, Some(props))
                .await
        }
        Stage::Delete => {
            hp.send("Delete", "probe", pid.as_deref(), props, None)
                .await
        }
    };
    assert_eq!(answer["Status"], "SUCCESS", "clean {stage:?}: {answer}");
    let ops: BTreeSet<(String, String)> = emu
        .requests()
        .await
        .iter()
        .map(|r| {
            (
                r["service"].as_str().unwrap_or("").to_string(),
                r["operation"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    // Leave nothing behind for the scenarios.
    let new_pid = answer["PhysicalResourceId"]
        .as_str()
        .unwrap_or("")
        .to_string();
    match stage {
        Stage::Create | Stage::UpdateInPlace => {
            hp.send("Delete", "probe-del", Some(&new_pid), props, None)
                .await;
        }
        Stage::Replace => {
            hp.send("Delete", "probe-del-old", pid.as_deref(), props, None)
                .await;
            hp.send("Delete", "probe-del-new", Some(&new_pid), &retrain, None)
                .await;
        }
        Stage::Delete => {}
    }
    ops.into_iter().collect()
}

fn changed_props(props: &Value) -> (Value, Value) {
    let mut tagged = props.clone();
    tagged["Tags"] =
        json!([{ "Key": "team", "Value": "research" }, { "Key": "cost-center", "Value": "42" }]);
    let mut retrain = props.clone();
    retrain["Job"]["HyperParameters"]["epochCount"] = json!("7");
    (tagged, retrain)
}

/// One scenario, then what CloudFormation would do next, then the checks.
async fn run_scenario(
    emu: &Emulator,
    fx: &Fixture,
    user: &Value,
    hp: &InProcess,
    n: usize,
    s: &Scenario,
) {
    let props = fault_props(fx);
    let (tagged, retrain) = changed_props(&props);
    let what = format!("scenario {n} {s:?}");
    let rid = |step: &str| format!("s{n}-{step}");
    let rule = json!([{ "service": s.service, "operation": s.operation, "kind": s.kind, "times": s.times, "skip": s.skip, "delay_ms": 300 }]);
    let status = |a: &Value| a["Status"].as_str().unwrap_or("").to_string();
    let pid_of = |a: &Value| a["PhysicalResourceId"].as_str().unwrap_or("").to_string();

    let base = if s.stage == Stage::Create {
        None
    } else {
        let a = hp.send("Create", &rid("base"), None, &props, None).await;
        assert_eq!(status(&a), "SUCCESS", "{what}: clean create: {a}");
        Some(pid_of(&a))
    };
    emu.add_faults(rule).await;
    let faulted = match s.stage {
        Stage::Create => hp.send("Create", &rid("create"), None, &props, None).await,
        Stage::UpdateInPlace => {
            hp.send(
                "Update",
                &rid("update"),
                base.as_deref(),
                &tagged,
                Some(&props),
            )
            .await
        }
        Stage::Replace => {
            hp.send(
                "Update",
                &rid("replace"),
                base.as_deref(),
                &retrain,
                Some(&props),
            )
            .await
        }
        Stage::Delete => {
            hp.send("Delete", &rid("delete"), base.as_deref(), &props, None)
                .await
        }
    };
    emu.clear_faults().await;
    assert!(
        !pid_of(&faulted).is_empty(),
        "{what}: no physical id in {faulted}"
    );
    let ok = status(&faulted) == "SUCCESS";
    // CloudFormation's next steps, with AWS healthy again.
    let mut follow_up = Vec::new();
    match (s.stage, ok) {
        // A stack whose Delete failed is deleted again by its user.
        (Stage::Create, _) | (Stage::Delete, false) => {
            follow_up.push(("Delete", pid_of(&faulted), props.clone(), None))
        }
        (Stage::UpdateInPlace, true) => {
            follow_up.push(("Delete", pid_of(&faulted), tagged.clone(), None))
        }
        (Stage::UpdateInPlace, false) | (Stage::Replace, false) => {
            let old = if s.stage == Stage::Replace {
                retrain.clone()
            } else {
                tagged.clone()
            };
            assert_eq!(
                Some(pid_of(&faulted)),
                base,
                "{what}: a failed update keeps its id"
            );
            follow_up.push(("Update", pid_of(&faulted), props.clone(), Some(old)));
            follow_up.push(("Delete", pid_of(&faulted), props.clone(), None));
        }
        (Stage::Replace, true) => {
            follow_up.push((
                "Delete",
                base.clone().unwrap_or_default(),
                props.clone(),
                None,
            ));
            follow_up.push(("Delete", pid_of(&faulted), retrain.clone(), None));
        }
        (Stage::Delete, true) => {}
    }
    for (i, (kind, pid, p, old)) in follow_up.iter().enumerate() {
        let a = hp
            .send(
                kind,
                &rid(&format!("follow{i}")),
                Some(pid),
                p,
                old.as_ref(),
            )
            .await;
        assert_eq!(
            status(&a),
            "SUCCESS",
            "{what}: follow-up {kind} after {}: {a}",
            faulted["Reason"]
        );
    }
    assert_clean(emu, fx, user, &what).await;
}

async fn fault_stage(stage: Stage, seed_offset: u8) {
    let (emu, fx, user) = fault_bed().await;
    let hp = InProcess::new(fast_retry_clients(&emu.endpoint).await).await;
    let ops = operations_of(&emu, &hp, &fault_props(&fx), stage).await;
    assert!(ops.len() >= 8, "{stage:?} calls {ops:?}");
    let mut seed = SEED;
    seed[0] ^= seed_offset;
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
    );
    let all = scenarios(stage, &ops, &mut runner);
    for (n, s) in all.iter().enumerate() {
        run_scenario(&emu, &fx, &user, &hp, n, s).await;
    }
    eprintln!(
        "{stage:?}: {} fault scenarios over {} operations passed",
        all.len(),
        ops.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_during_create() {
    fault_stage(Stage::Create, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_during_update_in_place() {
    fault_stage(Stage::UpdateInPlace, 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_during_replacement() {
    fault_stage(Stage::Replace, 3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_during_delete() {
    fault_stage(Stage::Delete, 4).await;
}

// --------------------------------------------------- deadline in a replacement

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replacement_cut_off_by_the_deadline_is_removed_by_the_rollback() {
    let emu = Emulator::start();
    let fx = Fixture::create(&emu).await;
    let check = emu.check_clients().await;
    let hp = InProcess::new(fast_retry_clients(&emu.endpoint).await).await;
    let props = fx.full_properties();
    let created = hp.send("Create", "dl-create", None, &props, None).await;
    assert_eq!(created["Status"], "SUCCESS", "{created}");
    let pid = created["PhysicalResourceId"]
        .as_str()
        .expect("pid")
        .to_string();
    let before = inventory(&check, &fx.output_bucket).await;

    // The replacement's role policies hang far past the invocation's deadline.
    emu.add_faults(json!([{ "service": "iam", "operation": "PutRolePolicy", "kind": "delay", "delay_ms": 20000, "times": -1 }]))
        .await;
    let mut retrain = props.clone();
    retrain["Job"]["HyperParameters"]["epochCount"] = json!("8");
    let url = hp.receiver.url("dl-replace");
    let ev = event_json(
        "Update",
        &url,
        "dl-replace",
        Some(&pid),
        &retrain,
        Some(&props),
    );
    let deadline = std::time::SystemTime::now() + std::time::Duration::from_secs(8);
    hp.handler.handle(ev, deadline).await.expect("answered");
    let answer = hp.receiver.answers().last().expect("an answer").json();
    assert_eq!(answer["Status"], "FAILED");
    assert!(
        answer["Reason"]
            .as_str()
            .unwrap_or("")
            .contains("ran out of time"),
        "{answer}"
    );
    assert_eq!(
        answer["PhysicalResourceId"],
        pid.as_str(),
        "a failed update keeps its id"
    );
    let cut_off = inventory(&check, &fx.output_bucket).await;
    assert_eq!(
        cut_off.roles.len(),
        2,
        "the cut-off replacement left its role: {cut_off:?}"
    );

    // CloudFormation's rollback: the old properties again, in place.
    emu.clear_faults().await;
    let rollback = hp
        .send("Update", "dl-rollback", Some(&pid), &props, Some(&retrain))
        .await;
    assert_eq!(rollback["Status"], "SUCCESS", "{rollback}");
    assert_eq!(rollback["PhysicalResourceId"], pid.as_str());
    let after = inventory(&check, &fx.output_bucket).await;
    assert_eq!(after.roles, before.roles, "the replacement's role is gone");
    assert_eq!(
        after.endpoints, before.endpoints,
        "the endpoint is the old setup's again"
    );
    assert_eq!(after.bucket_statement_sids, before.bucket_statement_sids);
    let role = check
        .iam
        .get_role()
        .role_name(&before.roles[0])
        .send()
        .await
        .expect("role")
        .role
        .expect("role");
    assert!(
        role.tags()
            .iter()
            .all(|t| t.key() != bedrock_setup::model::ORPHAN_TAG_KEY),
        "the orphan mark is cleared"
    );
}
