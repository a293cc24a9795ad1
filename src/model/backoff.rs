//! When to try again while waiting for AWS state that settles by itself (a
//! new service role becoming assumable by Bedrock). Pure: the caller sleeps.
//!
//! The shape follows what is waited for. IAM propagation usually takes a few
//! seconds and sometimes tens (issue 24's model: 2-15 s), so the first waits
//! are short (most of the wait is in the first seconds) and grow to a ceiling
//! low enough that a role which became assumable just after an attempt is
//! used soon after (the overshoot is at most about one ceiling plus one round
//! trip). Attempts are never closer than the operation's request-rate quota
//! allows, and none is started that the working budget could not see
//! answered.

use std::hash::{Hash, Hasher};
use std::time::Duration;

/// A retry schedule: `first`, doubling to `ceiling`, each wait drawn from
/// the upper half of its step ("equal jitter", so that handlers started
/// together spread out and a wait never collapses to nothing), and
/// attempts at least `min_spacing` apart, start to start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The step before the second attempt.
    pub first: Duration,
    /// The largest step.
    pub ceiling: Duration,
    /// The least time from one attempt's start to the next's: one over the
    /// operation's request-rate quota.
    pub min_spacing: Duration,
}

/// Why no further attempt is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiveUp {
    /// The next attempt could not be answered within the working budget.
    Budget,
}

impl Backoff {
    /// The step of the wait after the `failed`-th attempt (counted from 1),
    /// before jitter: `first`, `2 first`, `4 first`, ... up to `ceiling`.
    pub fn step(&self, failed: u32) -> Duration {
        let doublings = failed.saturating_sub(1).min(30);
        self.first
            .saturating_mul(1u32 << doublings)
            .min(self.ceiling)
    }

    /// How long to wait after the `failed`-th attempt, which took `took`,
    /// with `left` of the working budget remaining once it was answered;
    /// `jitter` in `[0, 1)` picks the point in the step's upper half.
    /// An attempt is expected to take about as long as the last one did, so
    /// none is started unless the wait and one more such attempt fit in
    /// what is left.
    pub fn wait(
        &self,
        failed: u32,
        took: Duration,
        left: Duration,
        jitter: f64,
    ) -> Result<Duration, GiveUp> {
        let step = self.step(failed);
        let jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let drawn = step.div_f64(2.0) + step.div_f64(2.0).mul_f64(jitter);
        // The quota counts starts: the attempt's own time counts towards it.
        let wait = drawn.max(self.min_spacing.saturating_sub(took));
        if wait + took > left {
            return Err(GiveUp::Budget);
        }
        Ok(wait)
    }
}

/// A value in `[0, 1)` for the `attempt`-th wait of `what` (a job name):
/// fixed per job and attempt, so that a run repeats, and different between
/// jobs, so that setups started together do not retry in step.
pub fn jitter(what: &str, attempt: u32) -> f64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    what.hash(&mut h);
    attempt.hash(&mut h);
    // The top 53 bits: exactly representable, uniformly spread in [0, 1).
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}
