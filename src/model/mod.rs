//! The resource model: properties, validation, identity and names. Pure: no
//! AWS client is reachable from here.

pub mod backoff;
mod checks;
pub mod customization;
pub mod deployment;
pub mod error;
pub mod identity;
pub mod job;
pub mod network;
pub mod properties;
mod reader;
pub mod s3uri;
mod sections;
pub mod signal_url;
pub mod tags;

pub use checks::{is_job_name, is_model_name, role_path_within};
pub use customization::{
    InvocationLogs, MetadataFilters, ModelKind, ReinforcementFineTuning, RftHyperParameters,
    TrainingData,
};
pub use deployment::{DeploymentConfig, DeploymentKind, DeploymentSpec};
pub use error::{PropertyError, ValidationErrors};
pub use identity::{FINGERPRINT_TAG_KEY, ORPHAN_TAG_KEY, OWNER_TAG_KEY, StackIdentity};
pub use job::{CustomizationType, Distillation, JobConfig};
pub use network::{EndpointPolicyKind, S3EndpointConfig, VpcConfig};
pub use properties::{ResourceProperties, SetupProperties};
pub use s3uri::S3Uri;
pub use sections::DEFAULT_ROLE_PATH;
pub use signal_url::SignalUrl;
pub use tags::{Tag, TagSet};
