//! CloudFormation's side of the protocol: the request as it arrives, the
//! response body, and the PUT that answers it (the completion signal, sent
//! to a WaitConditionHandle, is in `crate::completion`).

pub mod answer;
pub mod request;
pub mod response;

pub use answer::{AnswerError, Answerer};
pub use request::{Request, RequestError, ResponseUrl};
pub use response::{Outcome, Status};
