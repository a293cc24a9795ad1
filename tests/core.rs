//! The pure core: properties, identity, policy documents, merge, the
//! lifecycle decision and the answer body. No emulator needed, except the
//! policy linter, which runs from the project virtualenv.

#[path = "core/common.rs"]
mod common;
#[path = "core/fuzz.rs"]
mod fuzz;
#[path = "core/identity.rs"]
mod identity;
#[path = "support/json_paths.rs"]
mod json_paths;
#[path = "core/plan.rs"]
mod plan;
#[path = "core/policies.rs"]
mod policies;
#[path = "core/properties.rs"]
mod properties;
#[path = "core/response.rs"]
mod response;
#[path = "core/sdk.rs"]
mod sdk;
