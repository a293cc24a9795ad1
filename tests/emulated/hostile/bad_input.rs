//! Every kind of bad input fails naming the property, with no mutating call.

use crate::support::corpus::corpus;
use crate::support::*;
use bedrock_setup::lifecycle::run;

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

    let cases = corpus(&fx.corpus_names(&other_subnet));
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
