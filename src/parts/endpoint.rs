//! The S3 gateway endpoint on the route tables.

use std::collections::BTreeSet;

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{
    ResourceType, Tag as Ec2Tag, TagSpecification, VpcEndpoint, VpcEndpointType,
};

use super::{PartError, aws_error, ec2_filter, owner_in};
use crate::model::error::plural;
use crate::model::{OWNER_TAG_KEY, TagSet};

#[derive(Debug, Clone)]
pub(crate) struct DesiredEndpoint {
    pub physical_id: String,
    pub vpc_id: String,
    pub service_name: String,
    pub route_table_ids: Vec<String>,
    pub policy: String,
    pub tags: TagSet,
    /// A setup whose endpoint on this VPC may be taken over (replacement).
    pub take_over_from: Option<String>,
    /// Per request, not per setup: EC2 remembers tokens, and a later
    /// re-creation (after `S3Endpoint.Create` went false and back) must not
    /// be answered with the deleted endpoint.
    pub client_token: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EnsuredEndpoint {
    pub id: String,
}

fn owner(e: &VpcEndpoint) -> Option<&str> {
    owner_in(e.tags().iter().filter_map(|t| t.key().zip(t.value())))
}

/// EC2 reports endpoint states in lower case, which the SDK does not map to
/// its enum; a deleted endpoint lingers in listings for a while.
fn is_gone(e: &VpcEndpoint) -> bool {
    e.state().is_some_and(|s| {
        let s = s.as_str();
        s.eq_ignore_ascii_case("deleted")
            || s.eq_ignore_ascii_case("deleting")
            || s.eq_ignore_ascii_case("failed")
            || s.eq_ignore_ascii_case("rejected")
            || s.eq_ignore_ascii_case("expired")
    })
}

/// The region's S3 gateway: its service name, read from the region's own
/// catalogue (AWS China, for one, uses two service-name prefixes, and which
/// one S3 carries is not something to guess), and every S3 gateway endpoint
/// in the region (all VPCs), narrowed later by `resolve`. Both are read at
/// once, in the first round trip, before the VPC id is known.
#[derive(Debug, Clone, Default)]
pub(crate) struct S3Gateways {
    pub service_name: String,
    pub endpoints: Vec<VpcEndpoint>,
}

pub(crate) async fn s3_gateways(ec2: &Client) -> Result<S3Gateways, PartError> {
    let catalogue = async {
        ec2.describe_vpc_endpoint_services()
            .filters(ec2_filter("service-type", ["Gateway".to_string()]))
            .send()
            .await
            .map_err(|e| aws_error("ec2:DescribeVpcEndpointServices", e))
    };
    let endpoints = async {
        ec2.describe_vpc_endpoints()
            .filters(ec2_filter("vpc-endpoint-type", ["Gateway".to_string()]))
            .send()
            .await
            .map_err(|e| aws_error("ec2:DescribeVpcEndpoints", e))
    };
    let (catalogue, endpoints) = tokio::try_join!(catalogue, endpoints)?;
    let service_name = s3_gateway_service(
        catalogue
            .service_details()
            .iter()
            .filter_map(|d| d.service_name()),
    )
    .ok_or_else(|| PartError::Aws {
        operation: "ec2:DescribeVpcEndpointServices",
        message: "the region lists no S3 gateway endpoint service".into(),
        code: None,
    })?;
    let endpoints = endpoints
        .vpc_endpoints()
        .iter()
        .filter(|e| !is_gone(e) && e.service_name() == Some(service_name.as_str()))
        .cloned()
        .collect();
    Ok(S3Gateways {
        service_name,
        endpoints,
    })
}

/// The S3 gateway among a region's gateway services: the one named
/// `<prefix>.<region>.s3`.
pub fn s3_gateway_service<'a>(names: impl IntoIterator<Item = &'a str>) -> Option<String> {
    names
        .into_iter()
        .find(|n| n.ends_with(".s3") && n.split('.').count() >= 4)
        .map(str::to_string)
}

/// Our endpoints, wherever they are.
pub(crate) async fn find_ours(
    ec2: &Client,
    physical_id: &str,
) -> Result<Vec<VpcEndpoint>, PartError> {
    let out = ec2
        .describe_vpc_endpoints()
        .filters(ec2_filter(
            &format!("tag:{OWNER_TAG_KEY}"),
            [physical_id.to_string()],
        ))
        .send()
        .await
        .map_err(|e| aws_error("ec2:DescribeVpcEndpoints", e))?;
    Ok(out
        .vpc_endpoints()
        .iter()
        .filter(|e| !is_gone(e) && owner(e) == Some(physical_id))
        .cloned()
        .collect())
}

fn ec2_tags(tags: &TagSet) -> Vec<Ec2Tag> {
    tags.iter()
        .map(|(k, v)| Ec2Tag::builder().key(k).value(v).build())
        .collect()
}

/// What `apply` will do: bring an existing endpoint (ours, or one taken
/// over) to the desired state, or create one.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    existing: Option<VpcEndpoint>,
}

/// Decides, from the region's S3 gateway endpoints, which one is ours (or
/// ours to take over), and fails naming it when another S3 gateway endpoint
/// already serves one of the route tables. Changes nothing.
pub(crate) fn resolve(
    gateways: &[VpcEndpoint],
    want: &DesiredEndpoint,
) -> Result<Resolved, PartError> {
    let in_vpc: Vec<&VpcEndpoint> = gateways
        .iter()
        .filter(|e| e.vpc_id() == Some(want.vpc_id.as_str()))
        .collect();
    let owned_by = |id: &str| {
        in_vpc
            .iter()
            .find(|e| owner(e) == Some(id))
            .map(|e| (*e).clone())
    };
    // Ours, or else the replaced setup's, handed over.
    let existing =
        owned_by(&want.physical_id).or_else(|| want.take_over_from.as_deref().and_then(owned_by));
    let wanted: BTreeSet<&str> = want.route_table_ids.iter().map(String::as_str).collect();
    for other in &in_vpc {
        if existing
            .as_ref()
            .is_some_and(|o| o.vpc_endpoint_id() == other.vpc_endpoint_id())
        {
            continue;
        }
        let clash: Vec<&str> = other
            .route_table_ids()
            .iter()
            .map(String::as_str)
            .filter(|r| wanted.contains(r))
            .collect();
        if !clash.is_empty() {
            return Err(PartError::input(
                "S3Endpoint",
                format!(
                    "route table{} {} already route{} S3 through endpoint '{}', which this resource does not own; a route table takes one S3 gateway endpoint",
                    plural(clash.len(), "", "s"),
                    clash.join(", "),
                    plural(clash.len(), "s", ""),
                    other.vpc_endpoint_id().unwrap_or("?"),
                ),
                "S3Endpoint.Create false to use the existing endpoint, or other S3Endpoint.RouteTableIds",
            ));
        }
    }
    Ok(Resolved { existing })
}

/// Creates the endpoint, or brings the resolved one to the desired route
/// tables, policy and tags.
pub(crate) async fn apply(
    ec2: &Client,
    want: &DesiredEndpoint,
    resolved: Resolved,
) -> Result<EnsuredEndpoint, PartError> {
    if let Some(existing) = resolved.existing {
        let id = existing.vpc_endpoint_id().unwrap_or_default().to_string();
        reconcile(ec2, &existing, &id, want).await?;
        return Ok(EnsuredEndpoint { id });
    }
    let out = ec2
        .create_vpc_endpoint()
        .vpc_id(&want.vpc_id)
        .service_name(&want.service_name)
        .vpc_endpoint_type(VpcEndpointType::Gateway)
        .set_route_table_ids(Some(want.route_table_ids.clone()))
        .policy_document(&want.policy)
        .client_token(&want.client_token)
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::VpcEndpoint)
                .set_tags(Some(ec2_tags(&want.tags)))
                .build(),
        )
        .send()
        .await
        .map_err(|e| aws_error("ec2:CreateVpcEndpoint", e))?;
    let id = out
        .vpc_endpoint()
        .and_then(|e| e.vpc_endpoint_id())
        .ok_or_else(|| PartError::Aws {
            operation: "ec2:CreateVpcEndpoint",
            message: "the response had no endpoint id".into(),
            code: None,
        })?
        .to_string();
    Ok(EnsuredEndpoint { id })
}

async fn reconcile(
    ec2: &Client,
    existing: &VpcEndpoint,
    id: &str,
    want: &DesiredEndpoint,
) -> Result<(), PartError> {
    // Tags first: after a takeover the owner tag must move before anything
    // else, so a failure later leaves the endpoint findable by its new owner.
    retag(ec2, existing, id, &want.tags).await?;
    match EndpointChange::between(existing, want) {
        Some(change) => modify(ec2, id, change).await,
        None => Ok(()),
    }
}

/// Puts the wanted tags on the endpoint and takes off the ones a tag set we
/// own no longer has.
async fn retag(
    ec2: &Client,
    existing: &VpcEndpoint,
    id: &str,
    tags: &TagSet,
) -> Result<(), PartError> {
    ec2.create_tags()
        .resources(id)
        .set_tags(Some(ec2_tags(tags)))
        .send()
        .await
        .map_err(|e| aws_error("ec2:CreateTags", e))?;
    let stale = tags.stale_keys(existing.tags().iter().filter_map(|t| t.key()));
    if stale.is_empty() {
        return Ok(());
    }
    ec2.delete_tags()
        .resources(id)
        .set_tags(Some(
            stale
                .iter()
                .map(|k| Ec2Tag::builder().key(k).build())
                .collect(),
        ))
        .send()
        .await
        .map_err(|e| aws_error("ec2:DeleteTags", e))?;
    Ok(())
}

/// What one ModifyVpcEndpoint must change: the policy when it differs as
/// JSON, and the route tables to add and to remove.
struct EndpointChange<'a> {
    policy: Option<&'a str>,
    add: Vec<String>,
    remove: Vec<String>,
}

impl<'a> EndpointChange<'a> {
    /// `None` when the endpoint already is as wanted.
    fn between(existing: &VpcEndpoint, want: &'a DesiredEndpoint) -> Option<Self> {
        let current: BTreeSet<&str> = existing
            .route_table_ids()
            .iter()
            .map(String::as_str)
            .collect();
        let wanted: BTreeSet<&str> = want.route_table_ids.iter().map(String::as_str).collect();
        let same_policy = existing
            .policy_document()
            .and_then(|p| serde_json::from_str::<serde_json::Value>(p).ok())
            == serde_json::from_str::<serde_json::Value>(&want.policy).ok();
        let change = EndpointChange {
            policy: (!same_policy).then_some(want.policy.as_str()),
            add: wanted.difference(&current).map(|s| s.to_string()).collect(),
            remove: current.difference(&wanted).map(|s| s.to_string()).collect(),
        };
        let nothing = change.policy.is_none() && change.add.is_empty() && change.remove.is_empty();
        (!nothing).then_some(change)
    }
}

async fn modify(ec2: &Client, id: &str, change: EndpointChange<'_>) -> Result<(), PartError> {
    let mut req = ec2.modify_vpc_endpoint().vpc_endpoint_id(id);
    if let Some(policy) = change.policy {
        req = req.policy_document(policy);
    }
    if !change.add.is_empty() {
        req = req.set_add_route_table_ids(Some(change.add));
    }
    if !change.remove.is_empty() {
        req = req.set_remove_route_table_ids(Some(change.remove));
    }
    req.send()
        .await
        .map_err(|e| aws_error("ec2:ModifyVpcEndpoint", e))?;
    Ok(())
}

/// Deletes every endpoint that carries our id; returns their ids.
pub(crate) async fn teardown(ec2: &Client, physical_id: &str) -> Result<Vec<String>, PartError> {
    let ids: Vec<String> = find_ours(ec2, physical_id)
        .await?
        .iter()
        .filter_map(|e| e.vpc_endpoint_id().map(str::to_string))
        .collect();
    if ids.is_empty() {
        return Ok(ids);
    }
    let out = ec2
        .delete_vpc_endpoints()
        .set_vpc_endpoint_ids(Some(ids.clone()))
        .send()
        .await
        .map_err(|e| aws_error("ec2:DeleteVpcEndpoints", e))?;
    let failed: Vec<String> = out
        .unsuccessful()
        .iter()
        .filter(|u| {
            u.error()
                .and_then(|e| e.code())
                .is_none_or(|c| !c.contains("NotFound"))
        })
        .filter_map(|u| u.resource_id().map(str::to_string))
        .collect();
    if !failed.is_empty() {
        return Err(PartError::Aws {
            operation: "ec2:DeleteVpcEndpoints",
            message: format!("could not delete {}", failed.join(", ")),
            code: None,
        });
    }
    Ok(ids)
}
