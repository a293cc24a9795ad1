//! `Deployment` (SPEC section 8): its validation and the pure decisions of
//! the completion path and of an in-place Update.

use bedrock_setup::model::deployment::{
    DeploymentChange, DeploymentStatus, FoundDeployment, NextStep, change_for,
    derived_deployment_name, next_step,
};
use bedrock_setup::model::{DeploymentKind, DeploymentSpec};
use serde_json::{Value, json};

use crate::common::*;

fn with_deployment(d: Value) -> Value {
    with(full(), "Deployment", d)
}

#[test]
fn deployment_types_units_and_names() {
    let p = parse_ok(&with_deployment(json!({"Type": "OnDemand"})));
    let d = p.deployment.expect("deployment");
    assert_eq!(d.kind, DeploymentKind::OnDemand);
    assert_eq!(d.name, None);
    let p = parse_ok(&with_deployment(
        json!({"Type": "Provisioned", "ModelUnits": "2", "Name": "my-throughput"}),
    ));
    let d = p.deployment.expect("deployment");
    assert_eq!(d.kind, DeploymentKind::Provisioned { model_units: 2 });
    assert_eq!(d.name.as_deref(), Some("my-throughput"));
    assert!(parse_ok(&full()).deployment.is_none());

    for (bad, property) in [
        (json!({}), "Deployment.Type"),
        (json!({"Type": "Serverless"}), "Deployment.Type"),
        (json!({"Type": "Provisioned"}), "Deployment.ModelUnits"),
        (
            json!({"Type": "Provisioned", "ModelUnits": "0"}),
            "Deployment.ModelUnits",
        ),
        (
            json!({"Type": "Provisioned", "ModelUnits": "x"}),
            "Deployment.ModelUnits",
        ),
        (
            json!({"Type": "OnDemand", "ModelUnits": "1"}),
            "Deployment.ModelUnits",
        ),
        (
            json!({"Type": "OnDemand", "Name": "a--b"}),
            "Deployment.Name",
        ),
        (
            json!({"Type": "OnDemand", "Name": "a".repeat(64)}),
            "Deployment.Name",
        ),
        (
            json!({"Type": "OnDemand", "Commitment": "OneMonth"}),
            "Deployment.Commitment",
        ),
        (json!("OnDemand"), "Deployment"),
    ] {
        let e = parse_err(&with_deployment(bad.clone()));
        assert!(e.mentions(property), "{bad}: {e}");
    }
    let e = parse_err(&with(
        without(full(), "Job"),
        "Deployment",
        json!({"Type": "OnDemand"}),
    ));
    assert!(e.mentions("Deployment"), "{e}");
    assert!(e.to_string().contains("without a Job"), "{e}");
}

#[test]
fn the_derived_name_fits_the_api_for_the_longest_physical_id() {
    let pid = "a".repeat(56);
    let name = derived_deployment_name(&pid);
    assert!(
        name.len() <= 63 && bedrock_setup::model::is_model_name(&name),
        "{name}"
    );
}

fn spec(kind: DeploymentKind, name: &str) -> DeploymentSpec {
    DeploymentSpec {
        kind,
        name: name.to_string(),
    }
}

#[test]
fn the_token_is_one_per_setup_model_and_deployment() {
    let s = spec(DeploymentKind::OnDemand, "d");
    let t = s.client_token("pid", "arn:model");
    assert_eq!(
        t,
        s.client_token("pid", "arn:model"),
        "same in every instance"
    );
    assert_eq!(t.len(), 32);
    assert_ne!(t, s.client_token("other", "arn:model"));
    assert_ne!(t, s.client_token("pid", "arn:model2"));
    assert_ne!(
        t,
        spec(DeploymentKind::Provisioned { model_units: 1 }, "d").client_token("pid", "arn:model")
    );
    let p1 = spec(DeploymentKind::Provisioned { model_units: 1 }, "d");
    let p2 = spec(DeploymentKind::Provisioned { model_units: 2 }, "d");
    assert_ne!(p1.client_token("pid", "m"), p2.client_token("pid", "m"));
}

#[test]
fn a_spec_survives_the_pending_record() {
    for s in [
        spec(DeploymentKind::OnDemand, "d"),
        spec(DeploymentKind::Provisioned { model_units: 3 }, "t"),
    ] {
        assert_eq!(DeploymentSpec::from_json(&s.to_json()), Some(s));
    }
    for bad in [
        json!({}),
        json!({"type": "Provisioned", "name": "t"}),
        json!({"type": "Provisioned", "units": 0, "name": "t"}),
        json!({"type": "X", "name": "t"}),
    ] {
        assert_eq!(DeploymentSpec::from_json(&bad), None, "{bad}");
    }
}

#[test]
fn next_steps_of_the_completion_path() {
    let s = spec(DeploymentKind::OnDemand, "d");
    let found = |status: DeploymentStatus, owner: Option<&str>| FoundDeployment {
        arn: "arn:d".to_string(),
        status,
        owner: owner.map(str::to_string),
    };
    assert_eq!(next_step("pid", &s, None), NextStep::Create);
    assert_eq!(
        next_step(
            "pid",
            &s,
            Some(&found(DeploymentStatus::Creating, Some("pid")))
        ),
        NextStep::Wait
    );
    assert_eq!(
        next_step(
            "pid",
            &s,
            Some(&found(DeploymentStatus::Ready, Some("pid")))
        ),
        NextStep::Ready("arn:d".to_string())
    );
    match next_step(
        "pid",
        &s,
        Some(&found(
            DeploymentStatus::Failed("no capacity".into()),
            Some("pid"),
        )),
    ) {
        NextStep::Fail(m) => assert!(m.contains("no capacity"), "{m}"),
        other => panic!("{other:?}"),
    }
    for owner in [None, Some("someone-else")] {
        match next_step("pid", &s, Some(&found(DeploymentStatus::Ready, owner))) {
            NextStep::Fail(m) => assert!(m.contains("not owned by this resource"), "{m}"),
            other => panic!("a foreign deployment is never signalled as ours: {other:?}"),
        }
    }
}

#[test]
fn statuses_of_both_apis() {
    assert_eq!(
        DeploymentStatus::from_bedrock("Active", None),
        DeploymentStatus::Ready
    );
    assert_eq!(
        DeploymentStatus::from_bedrock("InService", None),
        DeploymentStatus::Ready
    );
    assert_eq!(
        DeploymentStatus::from_bedrock("Creating", None),
        DeploymentStatus::Creating
    );
    assert_eq!(
        DeploymentStatus::from_bedrock("Updating", None),
        DeploymentStatus::Creating
    );
    assert_eq!(
        DeploymentStatus::from_bedrock("Failed", Some("quota")),
        DeploymentStatus::Failed("quota".to_string())
    );
}

#[test]
fn in_place_changes() {
    let a = spec(DeploymentKind::OnDemand, "a");
    let b = spec(DeploymentKind::Provisioned { model_units: 1 }, "a");
    let c = spec(DeploymentKind::Provisioned { model_units: 2 }, "a");
    assert_eq!(change_for(None, None), DeploymentChange::Keep);
    assert_eq!(change_for(Some(&a), Some(&a)), DeploymentChange::Keep);
    assert_eq!(
        change_for(None, Some(&a)),
        DeploymentChange::Change {
            remove: None,
            make: Some(a.clone())
        }
    );
    assert_eq!(
        change_for(Some(&a), None),
        DeploymentChange::Change {
            remove: Some(a.clone()),
            make: None
        }
    );
    // Model units cannot change on a throughput: remade.
    assert_eq!(
        change_for(Some(&b), Some(&c)),
        DeploymentChange::Change {
            remove: Some(b.clone()),
            make: Some(c.clone())
        }
    );
    let p = parse_ok(&with_deployment(json!({"Type": "OnDemand"})));
    let old = parse_ok(&full());
    assert_eq!(
        p.replacement_fingerprint(),
        old.replacement_fingerprint(),
        "never a replacement"
    );
}
