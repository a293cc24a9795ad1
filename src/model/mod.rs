//! The resource model: properties, validation, identity and names. Pure: no
//! AWS client is reachable from here.

pub mod backoff;
mod checks;
pub mod customization;
pub mod deployment;
pub mod error;
pub mod identity;
pub mod properties;
mod reader;
pub mod s3uri;
mod sections;
pub mod signal;
pub mod tags;

pub use customization::{
    InvocationLogs, MetadataFilters, ModelKind, ReinforcementFineTuning, RftHyperParameters,
    TrainingData,
};
pub use deployment::{DeploymentConfig, DeploymentKind, DeploymentSpec};
pub use error::{PropertyError, ValidationErrors};
pub use identity::{FINGERPRINT_TAG_KEY, ORPHAN_TAG_KEY, OWNER_TAG_KEY, StackIdentity};
pub use properties::{
    CustomizationType, Distillation, EndpointPolicyKind, JobConfig, S3EndpointConfig,
    SetupProperties, Tag, VpcConfig,
};
pub use s3uri::S3Uri;
pub use signal::SignalUrl;
pub use tags::TagSet;
