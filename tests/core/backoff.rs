//! The retry schedule for waits on AWS state (src/model/backoff.rs): first
//! waits, growth, ceiling, the quota's spacing and the budget.

use std::time::Duration;

use bedrock_setup::model::backoff::{Backoff, GiveUp, jitter};

const MS: fn(u64) -> Duration = Duration::from_millis;

fn schedule() -> Backoff {
    Backoff {
        first: MS(250),
        ceiling: MS(1000),
        min_spacing: MS(500),
    }
}

#[test]
fn steps_start_short_double_and_stop_at_the_ceiling() {
    let b = schedule();
    let steps: Vec<u64> = (1..=6).map(|n| b.step(n).as_millis() as u64).collect();
    assert_eq!(steps, [250, 500, 1000, 1000, 1000, 1000]);
    // No overflow however long the wait has gone on.
    assert_eq!(b.step(u32::MAX), MS(1000));
}

#[test]
fn each_wait_lies_in_the_upper_half_of_its_step() {
    let b = Backoff {
        min_spacing: Duration::ZERO,
        ..schedule()
    };
    let plenty = Duration::from_secs(60);
    for n in 1..=8 {
        let step = b.step(n);
        for j in [0.0, 0.25, 0.5, 0.999] {
            let w = b.wait(n, MS(100), plenty, j).expect("within budget");
            assert!(
                w >= step / 2 && w <= step,
                "attempt {n}, jitter {j}: {w:?} of {step:?}"
            );
        }
        assert_eq!(b.wait(n, MS(100), plenty, 0.0), Ok(step / 2));
        assert_eq!(b.wait(n, MS(100), plenty, 1.0), Ok(step));
    }
    // Whatever the jitter source gives, the wait stays in range.
    for j in [f64::NAN, -3.0, 7.0, f64::INFINITY] {
        let w = b.wait(2, MS(100), plenty, j).expect("within budget");
        assert!(w >= MS(250) && w <= MS(500), "{j}: {w:?}");
    }
}

#[test]
fn attempts_are_never_closer_than_the_quotas_spacing() {
    let b = schedule();
    let plenty = Duration::from_secs(60);
    // A quick refusal (40 ms) after the first attempt: 125-250 ms would put
    // the next start under 500 ms after this one's, so the wait grows.
    assert_eq!(b.wait(1, MS(40), plenty, 0.0), Ok(MS(460)));
    // A slow one (600 ms) already spaced the attempts: the step decides.
    assert_eq!(b.wait(1, MS(600), plenty, 0.0), Ok(MS(125)));
    for n in 1..20 {
        for took in [0, 50, 200, 499, 800] {
            let w = b
                .wait(n, MS(took), plenty, jitter("job", n))
                .expect("budget");
            assert!(
                w + MS(took) >= MS(500),
                "attempt {n}, took {took} ms: {w:?}"
            );
        }
    }
}

#[test]
fn no_attempt_is_started_that_the_budget_could_not_see_answered() {
    let b = schedule();
    // Next wait 500-1000 ms and an attempt of about 300 ms: 1.3 s at most.
    assert_eq!(b.wait(3, MS(300), MS(700), 0.0), Err(GiveUp::Budget));
    assert_eq!(b.wait(3, MS(300), MS(800), 0.0), Ok(MS(500)));
    assert_eq!(b.wait(3, MS(300), Duration::ZERO, 0.0), Err(GiveUp::Budget));
}

#[test]
fn the_schedule_over_a_slow_propagation_keeps_within_the_quota_and_the_ceiling() {
    // Attempts of 200 ms each until a role propagates at 15 s (the slowest
    // in the bench's model): how many, and the longest gap between them.
    let b = schedule();
    let took = MS(200);
    let (mut t, mut attempts, mut longest) = (Duration::ZERO, 0u32, Duration::ZERO);
    while t < Duration::from_secs(15) {
        attempts += 1;
        let w = b
            .wait(
                attempts,
                took,
                Duration::from_secs(120),
                jitter("setup-job", attempts),
            )
            .expect("budget");
        longest = longest.max(w + took);
        t += took + w;
    }
    assert!(
        attempts <= 30,
        "{attempts} attempts in 15 s: two a second at most"
    );
    assert!(
        attempts >= 12,
        "{attempts} attempts: waits that grow past the ceiling?"
    );
    assert!(
        longest <= MS(1200),
        "the longest gap {longest:?} exceeds ceiling + attempt"
    );
}

#[test]
fn jitter_is_fixed_per_job_and_attempt_and_spread_between_jobs() {
    assert_eq!(jitter("a-job", 3), jitter("a-job", 3));
    let values: Vec<f64> = (0..200).map(|i| jitter(&format!("job-{i}"), 1)).collect();
    assert!(values.iter().all(|v| (0.0..1.0).contains(v)));
    let low = values.iter().filter(|v| **v < 0.5).count();
    assert!((60..=140).contains(&low), "{low} of 200 below one half");
}
