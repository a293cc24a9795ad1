//! `VpcConfig` and `S3Endpoint`: where the job runs and how its VPC reaches
//! S3.

pub(crate) const MAX_SUBNETS: usize = 16;
pub(crate) const MAX_SECURITY_GROUPS: usize = 5;
pub(crate) const MAX_ROUTE_TABLES: usize = 16;

/// `VpcConfig`: where the job runs, as on the job itself (seed 002).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VpcConfig {
    /// `SubnetIds`.
    pub subnet_ids: Vec<String>,
    /// `SecurityGroupIds`.
    pub security_group_ids: Vec<String>,
}

/// `S3Endpoint`: the S3 gateway endpoint on the VPC's route tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3EndpointConfig {
    /// Only meaningful with a VpcConfig.
    pub create: bool,
    /// Empty: the route tables of the subnets.
    pub route_table_ids: Vec<String>,
    /// `Policy`: which endpoint policy it carries.
    pub policy: EndpointPolicyKind,
}

impl Default for S3EndpointConfig {
    fn default() -> Self {
        S3EndpointConfig {
            create: true,
            route_table_ids: Vec::new(),
            policy: EndpointPolicyKind::Restricted,
        }
    }
}

/// `S3Endpoint.Policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointPolicyKind {
    /// Only the setup's three buckets are reachable through the endpoint.
    Restricted,
    /// Every bucket is reachable through the endpoint.
    FullAccess,
}

/// The properties `VpcConfig` accepts.
pub const VPC_KEYS: &[&str] = &["SubnetIds", "SecurityGroupIds"];
/// The properties `S3Endpoint` accepts.
pub const ENDPOINT_KEYS: &[&str] = &["Create", "RouteTableIds", "Policy"];
