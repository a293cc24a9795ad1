//! The test bed: the emulator (moto behind our wrapper) on a free loopback
//! port, clients that do not share the handler's code paths, and a VPC with
//! subnets and buckets to run the handler against.
// One test binary's (tests/emulated); its items are `pub` for the suites'
// modules, not an API, hence no unreachable_pub.
#![allow(unreachable_pub)]

pub mod bed;
pub mod checkout;
mod clients;
pub mod corpus;
mod emulator;
mod events;
mod fixture;
pub mod foreign;
mod in_process;
mod inventory;
pub mod json_paths;
pub mod lambda;
mod refusals;
pub mod tls_peer;

pub(crate) use checkout::{project_dir, python};

pub use clients::*;
pub use emulator::*;
pub use events::*;
pub use fixture::*;
pub use in_process::*;
pub use inventory::*;
pub use refusals::*;
