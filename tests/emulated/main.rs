//! The suites that run the handler against the AWS emulator, one module
//! each, in one test binary: the shared test bed (`support`) is compiled
//! once, linked once, and the compiler reports a helper no suite uses. Run
//! one suite with `cargo test --test emulated <suite>::`.

#[path = "../support/mod.rs"]
mod support;

mod authorization;
mod cargo_lambda;
mod completion;
mod customizations;
mod deployment;
mod hostile;
mod in_place_and_delete;
mod lambda_binary;
mod lifecycle;
mod preflight;
