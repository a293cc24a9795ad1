//! Setups run through the lifecycle in-process against the emulator, and
//! the doomed ones among them: each must be refused naming its property,
//! with no call that changes anything.

use bedrock_setup::cfn::{Outcome, Status};
use bedrock_setup::lifecycle::run;
use serde_json::Value;

use super::{Emulator, create, fast_settings};

/// A Create of `props`, with the emulator's request log cleared first.
pub async fn create_with(emu: &Emulator, id: &str, props: Value) -> Outcome {
    emu.clear_requests().await;
    run(
        &emu.handler_clients().await,
        &fast_settings(),
        &create(id, props),
    )
    .await
}

/// Each case (the property, what the Reason says of it, the properties) as
/// a Create: what was not refused naming the property before any change, or
/// made a call that changes something, one line per problem.
pub async fn refused_before_any_change(
    emu: &Emulator,
    cases: Vec<(&str, &str, Value)>,
) -> Vec<String> {
    let mut problems = Vec::new();
    for (i, (property, says, props)) in cases.into_iter().enumerate() {
        let out = create_with(emu, &format!("doomed-{i}"), props).await;
        let calls = emu.mutating_operations().await;
        if out.status != Status::Failed
            || !out.reason.contains(&format!("{property}: "))
            || !out.reason.contains(says)
            || !out.reason.contains("nothing was changed")
        {
            problems.push(format!("#{i} {property}: {:?} {}", out.status, out.reason));
        }
        if !calls.is_empty() {
            problems.push(format!("#{i} {property}: mutating calls {calls:?}"));
        }
    }
    problems
}
