//! Setups made at once on one output bucket keep exactly their own
//! statements, and the owner's.

use std::collections::BTreeSet;

use super::owners_bucket_policy;
use crate::support::*;
use bedrock_setup::lifecycle::run;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_setups_on_one_bucket_keep_exactly_their_statements() {
    let emu = Emulator::start();
    let fx = Fixture::create(&emu).await;
    let check = emu.check_clients().await;
    let handler = emu.handler_clients().await;
    let user = owners_bucket_policy(&check, &fx.output_bucket).await;
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
