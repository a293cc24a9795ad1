//! The handler behind `Custom::BedrockCustomizationSetup`.
//!
//! Pure core: `model` (properties, validation, identity), `policy` (the
//! documents), `plan` (what an event must do). Edges: `parts` (one module per
//! AWS part), `lifecycle` (the orchestrator), `cfn` (request, answer).

pub mod cfn;
pub mod completion;
pub mod handler;
pub mod http;
pub mod lifecycle;
pub mod model;
pub mod parts;
pub mod plan;
pub mod policy;
