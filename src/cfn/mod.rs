//! CloudFormation's side of the protocol: the request as it arrives, the
//! response body, and the PUT that answers it.

pub mod answer;
pub mod request;
pub mod response;
pub mod signal;

pub use answer::{AnswerError, Answerer};
pub use request::{Request, RequestError, ResponseUrl};
pub use response::{Outcome, Status};
pub use signal::{JobEnd, deployment_signal_body, signal_body};
