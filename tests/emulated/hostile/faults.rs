//! Seeded fault injection on every AWS operation of Create, Update and
//! Delete: each fault fires, the request ends as its kind must, and after
//! CloudFormation's next step nothing of ours is left and nothing of theirs
//! is touched.

use std::time::Duration;

use super::owners_bucket_policy;
use crate::support::*;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{Value, json};

const SEED: [u8; 32] = *b"bedrock-customization-setup-seed";

/// How the emulator misbehaves on the chosen calls.
const KINDS: [&str; 7] = [
    // AWS's own error answers, retryable both.
    "throttle",
    "error500",
    // The connection dropped before the call took effect, or after.
    "drop",
    "drop_after",
    // A slow answer inside every timeout.
    "delay",
    // A slow answer past the per-attempt timeout: the SDK gives up on the
    // attempt and retries, while the call still lands, late.
    "timeout",
    // No answer at all: only the deadline guard ends the invocation.
    "deadline",
];

/// What a deadline scenario's invocation has to work in (Lambda's remaining
/// time less the guard's margin): room for the calls before the hung one,
/// and less than the SDK's four timed-out attempts, so the guard fires.
const DEADLINE_BUDGET: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Create,
    UpdateInPlace,
    Replace,
    Delete,
}

impl Stage {
    /// How the README counts this stage's scenarios.
    fn readme_label(self) -> &'static str {
        match self {
            Stage::Create => "in Create",
            Stage::UpdateInPlace => "in an in-place Update",
            Stage::Replace => "in a replacement",
            Stage::Delete => "in Delete",
        }
    }
}

#[derive(Debug, Clone)]
struct Scenario {
    stage: Stage,
    service: String,
    operation: String,
    kind: &'static str,
    /// Faulty answers in a row; -1: every call from `skip` on.
    times: i64,
    /// Good calls of the operation first (fewer than a clean run makes, so
    /// the fault always fires).
    skip: u32,
}

/// What the faulted request must end in.
#[derive(Debug, PartialEq, Eq)]
enum Expected {
    /// What a fault-free run gets: fewer failures than the SDK's attempts,
    /// or only slowness, are retried or waited away.
    Success,
    /// FAILED, the operation named in the Reason.
    FailedNaming,
    /// FAILED by the deadline guard, before Lambda's deadline.
    OutOfTime,
}

impl Scenario {
    fn expected(&self) -> Expected {
        match (self.kind, self.times) {
            ("deadline", _) => Expected::OutOfTime,
            ("delay", _) => Expected::Success,
            (_, t) if t > 0 => Expected::Success,
            _ => Expected::FailedNaming,
        }
    }

    /// The emulator's fault rule.
    fn rule(&self) -> Value {
        let (kind, delay) = match self.kind {
            "delay" => ("delay", Duration::from_millis(300)),
            "timeout" => ("delay", TEST_ATTEMPT_TIMEOUT + Duration::from_millis(500)),
            "deadline" => ("hang", Duration::from_secs(120)),
            other => (other, Duration::ZERO),
        };
        json!([{ "service": self.service, "operation": self.operation, "kind": kind,
                 "times": self.times, "skip": self.skip, "delay_ms": delay.as_millis() as u64 }])
    }
}

/// Every (operation, fault kind) of a stage, each with a seeded number of
/// faulty answers (transient: fewer than the SDK's four attempts; or
/// persistent) after a seeded number of good calls.
fn scenarios(stage: Stage, ops: &[Operation], runner: &mut TestRunner) -> Vec<Scenario> {
    let mut out = Vec::new();
    for op in ops {
        for kind in KINDS {
            let shape = (
                proptest::sample::select(vec![1i64, 2, 3, -1]),
                0u32..op.calls,
            );
            let (times, skip) = shape.new_tree(runner).expect("strategy").current();
            out.push(Scenario {
                stage,
                service: op.service.clone(),
                operation: op.operation.clone(),
                kind,
                times: if kind == "deadline" { -1 } else { times },
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

/// Someone else's resources on the handler's path: a role under its IAM
/// path, an S3 gateway endpoint on a neighbouring route table of its VPC and
/// one in another VPC, a job and its model in its region, and the owner's
/// statement in the output bucket's policy.
struct Foreign {
    roles: [&'static str; 2],
    job: &'static str,
    model: &'static str,
    /// Their state when the bed was made; compared after every scenario.
    before: Value,
}

impl Foreign {
    async fn place(emu: &Emulator, fx: &Fixture) -> Foreign {
        let check = emu.check_clients().await;
        let roles = ["someone-elses-role", "demo-stack-Customization-theirs"];
        foreign::role(&check, roles[0]).await;
        foreign::role_under(&check, &deployment().role_path, roles[1]).await;
        let (other_vpc, _, other_table) = foreign::vpc_with_subnet(&check, "10.7").await;
        foreign::s3_endpoint(&check, &other_vpc, &other_table).await;
        let neighbour = check
            .ec2
            .create_route_table()
            .vpc_id(&fx.vpc_id)
            .send()
            .await
            .expect("neighbouring route table");
        let neighbour = neighbour
            .route_table()
            .and_then(|t| t.route_table_id())
            .expect("table id");
        foreign::s3_endpoint(&check, &fx.vpc_id, neighbour).await;
        let (job, model) = (
            "demo-stack-Customization-their-job",
            "demo-stack-Customization-their-model",
        );
        foreign::job(&check, job, model).await;
        owners_bucket_policy(&check, &fx.output_bucket).await;
        let mut f = Foreign {
            roles,
            job,
            model,
            before: Value::Null,
        };
        f.before = f.state(&check, fx).await;
        assert_eq!(
            f.before["endpoints"].as_object().map(|o| o.len()),
            Some(2),
            "two foreign endpoints: {}",
            f.before
        );
        f
    }

    /// Everything about their resources the handler could change.
    async fn state(&self, c: &bedrock_setup::parts::Clients, fx: &Fixture) -> Value {
        let mut roles = serde_json::Map::new();
        for name in self.roles {
            let role = c.iam.get_role().role_name(name).send().await;
            let role = role.expect("their role").role.expect("role");
            let inline = c.iam.list_role_policies().role_name(name).send().await;
            let mut policies = serde_json::Map::new();
            for p in inline.expect("their inline policies").policy_names() {
                let doc = c
                    .iam
                    .get_role_policy()
                    .role_name(name)
                    .policy_name(p)
                    .send()
                    .await
                    .expect("their policy");
                policies.insert(p.clone(), json!(doc.policy_document()));
            }
            let attached = c
                .iam
                .list_attached_role_policies()
                .role_name(name)
                .send()
                .await
                .expect("their attached policies");
            let attached: Vec<_> = attached
                .attached_policies()
                .iter()
                .map(|a| a.policy_arn().unwrap_or_default().to_string())
                .collect();
            let tags: Vec<_> = role.tags().iter().map(|t| (t.key(), t.value())).collect();
            roles.insert(
                name.to_string(),
                json!({ "path": role.path(), "trust": role.assume_role_policy_document(),
                        "boundary": role.permissions_boundary().and_then(|b| b.permissions_boundary_arn()),
                        "tags": tags, "inline": policies, "attached": attached }),
            );
        }
        let mut endpoints = serde_json::Map::new();
        for e in live_endpoints(c).await {
            let tags: Vec<_> = e.tags().iter().map(|t| (t.key(), t.value())).collect();
            if tags
                .iter()
                .any(|(k, _)| *k == Some(bedrock_setup::model::OWNER_TAG_KEY))
            {
                continue;
            }
            let mut tables = e.route_table_ids().to_vec();
            tables.sort();
            let policy: Value = e
                .policy_document()
                .map(|d| serde_json::from_str(d).expect("endpoint policy is JSON"))
                .unwrap_or(Value::Null);
            endpoints.insert(
                e.vpc_endpoint_id().unwrap_or_default().to_string(),
                json!({ "vpc": e.vpc_id(), "tables": tables, "policy": policy, "tags": tags,
                        "state": e.state().map(|s| s.as_str().to_ascii_lowercase()) }),
            );
        }
        let job = c
            .bedrock
            .get_model_customization_job()
            .job_identifier(self.job)
            .send()
            .await
            .expect("their job");
        let model = c
            .bedrock
            .get_custom_model()
            .model_identifier(self.model)
            .send()
            .await
            .expect("their model");
        let bucket_policy =
            c.s3.get_bucket_policy()
                .bucket(&fx.output_bucket)
                .send()
                .await
                .expect("the bucket policy");
        let bucket_policy: Value =
            serde_json::from_str(bucket_policy.policy().expect("a document")).expect("JSON");
        json!({
            "roles": roles,
            "endpoints": endpoints,
            "job": { "status": job.status().map(|s| s.as_str()), "tags": bedrock_tags(c, job.job_arn()).await },
            "model": { "arn": model.model_arn(), "tags": bedrock_tags(c, model.model_arn()).await },
            "bucket_policy": bucket_policy,
        })
    }
}

/// A Bedrock job's or model's tags, in order.
async fn bedrock_tags(c: &bedrock_setup::parts::Clients, arn: &str) -> Vec<(String, String)> {
    let out = c
        .bedrock
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .expect("their tags");
    out.tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

/// Everything that must hold once CloudFormation has cleaned up: nothing of
/// ours left, and theirs exactly as it was.
async fn assert_clean(emu: &Emulator, fx: &Fixture, theirs: &Foreign, what: &str) {
    let check = emu.check_clients().await;
    let inv = inventory(&check, &fx.output_bucket).await;
    let mut their_roles: Vec<String> = theirs.roles.iter().map(|r| r.to_string()).collect();
    their_roles.sort();
    assert_eq!(inv.roles, their_roles, "{what}: roles left: {inv:?}");
    let ours: Vec<_> = inv.endpoints.iter().filter(|(_, t)| t[0] != "-").collect();
    assert!(ours.is_empty(), "{what}: endpoints left: {inv:?}");
    assert!(
        inv.jobs
            .iter()
            .all(|(name, s)| name == theirs.job || s != "InProgress"),
        "{what}: jobs still running: {inv:?}"
    );
    assert_eq!(
        inv.models,
        vec![theirs.model.to_string()],
        "{what}: models left: {inv:?}"
    );
    let now = theirs.state(&check, fx).await;
    assert_eq!(
        now, theirs.before,
        "{what}: someone else's resources changed"
    );
}

/// An operation a stage calls, and how often a clean run calls it.
#[derive(Debug)]
struct Operation {
    service: String,
    operation: String,
    calls: u32,
}

/// The operations a stage calls, read from two clean runs: an operation
/// both made, as often as the fewer did. On a loaded machine a request the
/// SDK gave up on may reach the emulator late, in the next run's log.
async fn operations_of(
    emu: &Emulator,
    hp: &InProcess,
    props: &Value,
    stage: Stage,
) -> Vec<Operation> {
    let first = clean_run_calls(emu, hp, props, stage, "a").await;
    let second = clean_run_calls(emu, hp, props, stage, "b").await;
    first
        .into_iter()
        .filter_map(|(key, n)| second.get(&key).map(|m| (key, n.min(*m))))
        .map(|((service, operation), calls)| Operation {
            service,
            operation,
            calls,
        })
        .collect()
}

/// How often a clean run of a stage calls each (service, operation).
async fn clean_run_calls(
    emu: &Emulator,
    hp: &InProcess,
    props: &Value,
    stage: Stage,
    run: &str,
) -> std::collections::BTreeMap<(String, String), u32> {
    let probe = |step: &str| format!("probe-{run}-{step}");
    let pid = match stage {
        Stage::Create => None,
        _ => {
            let a = hp.send("Create", &probe("create"), None, props, None).await;
            // A probe Create that failed leaves nothing for the stage to act
            // on, and the stage's calls would be only its reads.
            if a["Status"] != "SUCCESS" {
                panic!(
                    "clean {stage:?}, its Create: {a}\n{}",
                    recent_requests(emu).await
                );
            }
            Some(a["PhysicalResourceId"].as_str().expect("pid").to_string())
        }
    };
    emu.wait_idle().await;
    emu.clear_requests().await;
    let (kind, new, old) = stage_request(stage, props);
    let answer = hp
        .send(kind, &probe("stage"), pid.as_deref(), &new, old.as_ref())
        .await;
    if answer["Status"] != "SUCCESS" {
        panic!("clean {stage:?}: {answer}\n{}", recent_requests(emu).await);
    }
    let mut calls: std::collections::BTreeMap<(String, String), u32> = Default::default();
    // First attempts only: a retry of a slow call (the machine is shared) is
    // not a call a fault can be scheduled on.
    for r in emu.requests().await.iter().filter(|r| r["attempt"] == 1) {
        let key = (
            r["service"].as_str().expect("service").to_string(),
            r["operation"].as_str().expect("operation").to_string(),
        );
        *calls.entry(key).or_default() += 1;
    }
    // Leave nothing behind for the scenarios.
    let new_pid = answer["PhysicalResourceId"]
        .as_str()
        .unwrap_or("")
        .to_string();
    match stage {
        Stage::Create | Stage::UpdateInPlace => {
            hp.send("Delete", &probe("del"), Some(&new_pid), props, None)
                .await;
        }
        Stage::Replace => {
            hp.send("Delete", &probe("del-old"), pid.as_deref(), props, None)
                .await;
            hp.send("Delete", &probe("del-new"), Some(&new_pid), &new, None)
                .await;
        }
        Stage::Delete => {}
    }
    emu.wait_idle().await;
    calls
}

/// The emulator's view of the last requests, for a failure message: when
/// each arrived and how long it was served, so a timeout shows whether the
/// time went in the emulator or before a request reached it.
async fn recent_requests(emu: &Emulator) -> String {
    let log = emu.requests().await;
    let t0 = log.first().and_then(|r| r["at"].as_f64()).unwrap_or(0.0);
    let lines: Vec<String> = log
        .iter()
        .rev()
        .take(24)
        .rev()
        .map(|r| {
            let at = r["at"].as_f64().unwrap_or(0.0);
            let served = r["end"]
                .as_f64()
                .map_or("no answer".to_string(), |end| format!("{:.2} s", end - at));
            format!(
                "  +{:.2} s {}:{} attempt {}: {served}",
                at - t0,
                r["service"].as_str().unwrap_or("?"),
                r["operation"].as_str().unwrap_or("?"),
                r["attempt"]
            )
        })
        .collect();
    format!("the emulator's last requests:\n{}", lines.join("\n"))
}

/// The request a stage sends to a setup made with `props`: its type, its
/// properties and its old properties.
fn stage_request(stage: Stage, props: &Value) -> (&'static str, Value, Option<Value>) {
    let (tagged, retrain) = changed_props(props);
    match stage {
        Stage::Create => ("Create", props.clone(), None),
        Stage::UpdateInPlace => ("Update", tagged, Some(props.clone())),
        Stage::Replace => ("Update", retrain, Some(props.clone())),
        Stage::Delete => ("Delete", props.clone(), None),
    }
}

fn changed_props(props: &Value) -> (Value, Value) {
    let mut tagged = props.clone();
    tagged["Tags"] =
        json!([{ "Key": "team", "Value": "research" }, { "Key": "cost-center", "Value": "42" }]);
    let mut retrain = props.clone();
    retrain["Job"]["HyperParameters"]["epochCount"] = json!("7");
    (tagged, retrain)
}

/// The faulted request, with the time Lambda gives it.
async fn send_faulted(
    hp: &InProcess,
    s: &Scenario,
    n: usize,
    props: &Value,
    base: Option<&str>,
) -> Value {
    let remaining = if s.kind == "deadline" {
        bedrock_setup::handler::DEADLINE_MARGIN + DEADLINE_BUDGET
    } else {
        Duration::from_secs(120)
    };
    let (kind, new, old) = stage_request(s.stage, props);
    let rid = format!("s{n}-faulted");
    hp.send_within(remaining, (kind, &rid, base), &new, old.as_ref())
        .await
}

/// The fault fired, as often as asked, and the answer is the one its kind
/// must end in; returns that.
async fn assert_fault_judged(
    emu: &Emulator,
    s: &Scenario,
    faulted: &Value,
    what: &str,
) -> Expected {
    let log = emu.requests().await;
    let calls: Vec<&Value> = log
        .iter()
        .filter(|r| r["service"] == s.service.as_str() && r["operation"] == s.operation.as_str())
        .collect();
    let delivered = calls.iter().filter(|r| r.get("fault").is_some()).count();
    assert!(
        delivered >= 1,
        "{what}: the fault was never delivered: {calls:?}; answer {faulted}; calls made: {:?}",
        log.iter()
            .map(|r| format!("{}:{}#{}", r["service"], r["operation"], r["attempt"]))
            .collect::<Vec<_>>()
    );
    // A retry may meet a different answer than the fault (the call took
    // effect and the service now says so), so never more than asked.
    if s.times > 0 {
        assert!(
            delivered <= s.times as usize,
            "{what}: delivered {delivered} of {} faults: {calls:?}",
            s.times
        );
    }
    // Real IAM refuses a retried delete whose first attempt took effect: the
    // resource, and with it the tag our permissions require, is gone. Only
    // that refusal is expected, and only after a call that took effect; the
    // handler must then see the delete done.
    let refused = emu.take_violations().await;
    for v in &refused {
        let retried_after_effect = matches!(s.kind, "drop_after" | "timeout")
            && v["kind"] == "denied"
            && v["service"] == s.service.as_str()
            && v["operation"] == s.operation.as_str();
        assert!(
            retried_after_effect,
            "{what}: a request real AWS would refuse: {v}"
        );
    }
    let expected = if refused.is_empty() {
        s.expected()
    } else {
        Expected::Success
    };
    let status = faulted["Status"].as_str().unwrap_or("");
    let reason = faulted["Reason"].as_str().unwrap_or("");
    match expected {
        Expected::Success => assert_eq!(
            status, "SUCCESS",
            "{what}: a transient fault, or a call that took effect, must end as a fault-free run does: {faulted}"
        ),
        Expected::FailedNaming => {
            assert_eq!(status, "FAILED", "{what}: a persistent fault: {faulted}");
            assert!(
                reason.contains(&s.operation),
                "{what}: the Reason must name {}: {reason}",
                s.operation
            );
        }
        Expected::OutOfTime => {
            assert_eq!(status, "FAILED", "{what}: a call never answered: {faulted}");
            assert!(
                reason.contains("ran out of time"),
                "{what}: the deadline guard's Reason: {reason}"
            );
        }
    }
    expected
}

/// One scenario, then what CloudFormation would do next, then the checks.
async fn run_scenario(
    emu: &Emulator,
    fx: &Fixture,
    theirs: &Foreign,
    hp: &InProcess,
    n: usize,
    s: &Scenario,
) -> Expected {
    let props = fault_props(fx);
    let (tagged, retrain) = changed_props(&props);
    let what = format!("scenario {n} {s:?}");
    let rid = |step: &str| format!("s{n}-{step}");
    let status = |a: &Value| a["Status"].as_str().unwrap_or("").to_string();
    let pid_of = |a: &Value| a["PhysicalResourceId"].as_str().unwrap_or("").to_string();

    let base = if s.stage == Stage::Create {
        None
    } else {
        let a = hp.send("Create", &rid("base"), None, &props, None).await;
        assert_eq!(status(&a), "SUCCESS", "{what}: clean create: {a}");
        Some(pid_of(&a))
    };
    // A request the SDK gave up on may still arrive late: not into this log.
    emu.wait_idle().await;
    emu.clear_requests().await;
    emu.add_faults(s.rule()).await;
    let faulted = send_faulted(hp, s, n, &props, base.as_deref()).await;
    emu.clear_faults().await;
    // Late effects of slow calls land before anything is judged.
    emu.wait_idle().await;
    assert!(
        !pid_of(&faulted).is_empty(),
        "{what}: no physical id in {faulted}"
    );
    let expected = assert_fault_judged(emu, s, &faulted, &what).await;
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
    assert_clean(emu, fx, theirs, &what).await;
    expected
}

/// The README's count of a stage's fault scenarios ("… seeded fault
/// scenarios (126 in Create, …)"), so the figure it states is the one run.
fn readme_count(stage: Stage) -> usize {
    let readme = std::fs::read_to_string(project_dir().join("README.md")).expect("README.md");
    let list = readme
        .split_once("seeded fault scenarios (")
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(list, _)| list)
        .expect(
            "the README counts the fault scenarios: \"seeded fault scenarios (N in Create, …)\"",
        );
    list.split(',')
        .find_map(|part| {
            let (n, label) = part.trim().split_once(' ')?;
            (label == stage.readme_label()).then(|| n.parse().ok())?
        })
        .unwrap_or_else(|| {
            panic!(
                "the README's list has no count {}: {list}",
                stage.readme_label()
            )
        })
}

/// Each stage's scenarios run in this many lanes at once, each lane on its
/// own emulator and operations: most of the slow-answer scenarios wait, and
/// waiting lanes overlap.
const LANES: usize = 2;

/// One lane of a stage: the scenarios on every `LANES`-th operation, in
/// order; the outcome each was judged to need.
async fn fault_lane(stage: Stage, seed_offset: u8, lane: usize) -> Vec<Expected> {
    let emu = off_the_workers(Emulator::start).await;
    let fx = Fixture::create(&emu).await;
    let theirs = Foreign::place(&emu, &fx).await;
    let hp = InProcess::new(fast_retry_clients(&emu.endpoint).await).await;
    let ops = operations_of(&emu, &hp, &fault_props(&fx), stage).await;
    assert!(ops.len() >= 8, "{stage:?} calls {ops:?}");
    assert_clean(&emu, &fx, &theirs, "after the probe").await;
    let mut seed = SEED;
    seed[0] ^= seed_offset;
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
    );
    // The whole stage's list, the same in every lane, then this lane's part.
    let all = scenarios(stage, &ops, &mut runner);
    let mine = all.iter().enumerate().filter(|(n, _)| {
        let op = n / KINDS.len();
        op % LANES == lane
    });
    let mut outcomes = Vec::new();
    for (n, s) in mine {
        outcomes.push(run_scenario(&emu, &fx, &theirs, &hp, n, s).await);
    }
    // Dropping it reads its violations and stops it, which blocks too.
    off_the_workers(move || drop(emu)).await;
    outcomes
}

/// Runs blocking work (starting or stopping an emulator: a child process and
/// a socket read, seconds on a busy machine) on tokio's blocking pool. On the
/// runtime's two workers it would stall the other lanes' handlers, whose
/// per-attempt timeouts keep counting meanwhile: a clean probe could then
/// time out for no reason of its own. A panic comes out as the panic.
async fn off_the_workers<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(f).await {
        Ok(v) => v,
        Err(e) => match e.try_into_panic() {
            Ok(p) => std::panic::resume_unwind(p),
            Err(e) => panic!("blocking work cancelled: {e}"),
        },
    }
}

/// Every stage's scenarios, the lanes all at once. Each lane's failure is
/// reported with its scenario; the counts are printed and must be the
/// README's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_scenarios_in_every_stage() {
    let stages = [
        (Stage::Create, 1),
        (Stage::UpdateInPlace, 2),
        (Stage::Replace, 3),
        (Stage::Delete, 4),
    ];
    let mut lanes = Vec::new();
    for (stage, seed) in stages {
        for lane in 0..LANES {
            lanes.push((stage, lane, tokio::spawn(fault_lane(stage, seed, lane))));
        }
    }
    let mut failures = Vec::new();
    let mut outcomes: Vec<(Stage, Expected)> = Vec::new();
    for (stage, lane, handle) in lanes {
        match handle.await {
            Ok(done) => outcomes.extend(done.into_iter().map(|e| (stage, e))),
            Err(e) => {
                let why = e.try_into_panic().map_or_else(
                    |e| e.to_string(),
                    |p| {
                        p.downcast_ref::<String>()
                            .cloned()
                            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                            .unwrap_or_default()
                    },
                );
                failures.push(format!("{stage:?} lane {lane}: {why}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    for (stage, _) in stages {
        let count = |e: Option<Expected>| {
            outcomes
                .iter()
                .filter(|(s, x)| *s == stage && e.as_ref().is_none_or(|e| e == x))
                .count()
        };
        eprintln!(
            "{stage:?}: {} fault scenarios passed ({} ending SUCCESS, {} FAILED naming the operation, {} cut off by the deadline guard)",
            count(None),
            count(Some(Expected::Success)),
            count(Some(Expected::FailedNaming)),
            count(Some(Expected::OutOfTime)),
        );
        assert_eq!(
            count(None),
            readme_count(stage),
            "the README's count of {stage:?} fault scenarios"
        );
    }
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
    emu.add_faults(json!([{ "service": "iam", "operation": "PutRolePolicy", "kind": "hang", "delay_ms": 20000, "times": -1 }]))
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
