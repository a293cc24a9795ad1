//! The completion signal, end to end: the real bootstrap under the fake
//! Lambda Runtime API, against the emulator, receiving the CloudFormation
//! events and the EventBridge events (Bedrock's job state change, shaped like
//! AWS's documented sample, and the scheduled sweep), and signalling a local
//! WaitConditionHandle URL.

use std::time::Duration;

use crate::support::lambda::*;
use crate::support::*;
use serde_json::json;

use crate::support::bed::{Bed, job_state_change, scheduled, str_of};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_completed_job_is_signalled_once_with_its_model() {
    let mut bed = Bed::start("signal-completed").await;
    let props = bed.props_with_signal("wait-1");
    let made = bed.cfn("Create", None, &props, None).await;
    assert_eq!(made["Status"], "SUCCESS", "{made}");
    let pid = str_of(&made, "PhysicalResourceId").to_string();
    let job_name = made["Data"]["JobName"]
        .as_str()
        .expect("job name")
        .to_string();
    let stored = bed
        .pending(&pid)
        .await
        .expect("a pending signal is registered");
    assert!(stored.contains(&job_name));

    // Not yet ended: an event changes nothing.
    let (job_arn, model_arn) = bed.job_arn(&job_name).await;
    bed.invoke(job_state_change(&job_name, &job_arn, "InProgress"))
        .await;
    assert!(
        bed.signals.answers().is_empty(),
        "signalled before the job ended"
    );

    bed.emu.set_job_status(&job_name, "Completed").await;
    let reported = bed
        .invoke(job_state_change(&job_name, &job_arn, "Completed"))
        .await;
    assert!(matches!(reported, Reported::Response(_)), "{reported:?}");
    let signals = bed.signals.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(signals.len(), 1);
    let s = signals[0].json();
    assert_eq!(s["Status"], "SUCCESS", "{s}");
    assert_eq!(s["UniqueId"], json!(job_name));
    assert_eq!(s["Data"], json!(model_arn));
    assert!(signals[0].content_type.as_deref().is_none_or(str::is_empty));
    assert!(
        signals[0].path_and_query.contains("wait-1")
            && signals[0].path_and_query.contains(SIGNATURE)
    );
    assert_eq!(bed.pending(&pid).await, None, "removed once signalled");

    // A repeated event (or a sweep) sends nothing more.
    bed.invoke(job_state_change(&job_name, &job_arn, "Completed"))
        .await;
    bed.invoke(scheduled()).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(bed.signals.answers().len(), 1, "signalled twice");
    bed.assert_logs_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_event_is_recovered_by_the_sweep_and_a_failure_carries_bedrocks_message() {
    let mut bed = Bed::start("signal-sweep").await;
    let props = bed.props_with_signal("wait-2");
    let made = bed.cfn("Create", None, &props, None).await;
    let job_name = made["Data"]["JobName"]
        .as_str()
        .expect("job name")
        .to_string();
    // The job fails; Bedrock's event never arrives.
    bed.emu
        .set_job_status_with_message(&job_name, "Failed", "Training data has 3 malformed records")
        .await;
    bed.invoke(scheduled()).await;
    let signals = bed.signals.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(signals.len(), 1, "the sweep signals the ended job");
    let s = signals[0].json();
    assert_eq!(s["Status"], "FAILURE", "{s}");
    assert_eq!(s["UniqueId"], json!(job_name));
    assert!(
        str_of(&s, "Reason").contains("Training data has 3 malformed records"),
        "{s}"
    );
    bed.assert_logs_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_for_a_job_that_is_not_ours_is_ignored() {
    let mut bed = Bed::start("signal-foreign").await;
    let check = bed.emu.check_clients().await;
    // Submitted directly, without our tags.
    foreign::job(&check, "someone-elses-job", "someone-elses-model").await;
    bed.emu
        .set_job_status("someone-elses-job", "Completed")
        .await;
    let (arn, _) = bed.job_arn("someone-elses-job").await;
    let reported = bed
        .invoke(job_state_change("someone-elses-job", &arn, "Completed"))
        .await;
    assert!(
        matches!(reported, Reported::Response(_)),
        "no error: {reported:?}"
    );
    // And one whose job does not exist at all.
    let reported = bed
        .invoke(job_state_change("no-such-job", &arn, "Completed"))
        .await;
    assert!(
        matches!(reported, Reported::Response(_)),
        "no error: {reported:?}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(bed.signals.answers().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_signal_url_changes_in_place_and_delete_removes_the_pending_signal() {
    let mut bed = Bed::start("signal-delete").await;
    let props = bed.props_with_signal("wait-3");
    let made = bed.cfn("Create", None, &props, None).await;
    let pid = str_of(&made, "PhysicalResourceId").to_string();

    // A new handle: in place, same setup, the new URL pending.
    let moved = bed.props_with_signal("wait-4");
    let updated = bed.cfn("Update", Some(&pid), &moved, Some(&props)).await;
    assert_eq!(updated["Status"], "SUCCESS", "{updated}");
    assert_eq!(str_of(&updated, "PhysicalResourceId"), pid, "in place");
    assert!(
        str_of(&updated, "Reason").contains("Job.CompletionSignalUrl"),
        "{updated}"
    );
    let stored = bed.pending(&pid).await.expect("pending");
    assert!(stored.contains("wait-4") && !stored.contains("wait-3"));

    let deleted = bed.cfn("Delete", Some(&pid), &moved, None).await;
    assert_eq!(deleted["Status"], "SUCCESS", "{deleted}");
    assert!(
        str_of(&deleted, "Reason").contains("pending completion signal removed"),
        "{deleted}"
    );
    assert_eq!(bed.pending(&pid).await, None);
    bed.assert_logs_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_that_ended_before_its_signal_was_registered_is_signalled_by_the_sweep() {
    let mut bed = Bed::start("signal-late").await;
    let plain = bed.fx.full_properties();
    let made = bed.cfn("Create", None, &plain, None).await;
    let pid = str_of(&made, "PhysicalResourceId").to_string();
    let job_name = made["Data"]["JobName"]
        .as_str()
        .expect("job name")
        .to_string();
    let (job_arn, model_arn) = bed.job_arn(&job_name).await;
    bed.emu.set_job_status(&job_name, "Completed").await;
    // Its event came and went with nothing registered.
    bed.invoke(job_state_change(&job_name, &job_arn, "Completed"))
        .await;
    assert!(bed.signals.answers().is_empty());

    // The stack adds a wait condition afterwards: in place, then the sweep.
    let with_signal = bed.props_with_signal("wait-late");
    let updated = bed
        .cfn("Update", Some(&pid), &with_signal, Some(&plain))
        .await;
    assert_eq!(updated["Status"], "SUCCESS", "{updated}");
    assert_eq!(str_of(&updated, "PhysicalResourceId"), pid);
    bed.invoke(scheduled()).await;
    let signals = bed.signals.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(signals.len(), 1);
    let s = signals[0].json();
    assert_eq!(s["Status"], "SUCCESS", "{s}");
    assert_eq!(s["Data"], json!(model_arn));
    assert_eq!(bed.pending(&pid).await, None);
    bed.assert_logs_clean();
}
