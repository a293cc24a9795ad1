//! The pure core: properties, identity, policy documents, merge, the
//! lifecycle decision and the answer body. No emulator needed, except the
//! policy linter, which runs from the project virtualenv.

mod backoff;
#[path = "../support/checkout.rs"]
mod checkout;
mod common;
#[path = "../support/corpus.rs"]
mod corpus;
mod customizations;
mod deployment;
mod fuzz;
mod identity;
#[path = "../support/json_paths.rs"]
mod json_paths;
mod packaging;
mod plan;
mod policies;
mod properties;
mod response;
mod schema;
mod sdk;
