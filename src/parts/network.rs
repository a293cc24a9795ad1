//! Read-only VPC lookups: the subnets' VPC and their route tables.

use std::collections::BTreeSet;

use aws_sdk_ec2::Client;
use aws_sdk_ec2::operation::describe_route_tables::DescribeRouteTablesOutput;
use aws_sdk_ec2::operation::describe_security_groups::DescribeSecurityGroupsOutput;
use aws_sdk_ec2::operation::describe_subnets::DescribeSubnetsOutput;

use super::{PartError, aws_error, ec2_filter};
use crate::model::VpcConfig;
use crate::model::error::plural;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VpcFacts {
    pub vpc_id: String,
    /// The route tables serving the subnets (each subnet's own, or the
    /// VPC's main table where it has none), sorted.
    pub subnet_route_tables: Vec<String>,
}

/// Looks up the one VPC the subnets and security groups share, and the
/// route tables serving the subnets, in one round trip.
pub(crate) async fn lookup(ec2: &Client, vpc: &VpcConfig) -> Result<VpcFacts, PartError> {
    let subnets = async {
        ec2.describe_subnets()
            .set_subnet_ids(Some(vpc.subnet_ids.clone()))
            .send()
            .await
            .map_err(|e| not_found_or(e, "VpcConfig.SubnetIds", "ec2:DescribeSubnets"))
    };
    let groups = async {
        ec2.describe_security_groups()
            .set_group_ids(Some(vpc.security_group_ids.clone()))
            .send()
            .await
            .map_err(|e| {
                not_found_or(
                    e,
                    "VpcConfig.SecurityGroupIds",
                    "ec2:DescribeSecurityGroups",
                )
            })
    };
    let associated = async {
        ec2.describe_route_tables()
            .filters(ec2_filter("association.subnet-id", vpc.subnet_ids.clone()))
            .send()
            .await
            .map_err(|e| aws_error("ec2:DescribeRouteTables", e))
    };
    // Every VPC's main table (one each): read now rather than after the
    // VPC id is known, saving a round trip when a subnet uses it.
    let mains = async {
        ec2.describe_route_tables()
            .filters(ec2_filter("association.main", ["true".to_string()]))
            .send()
            .await
            .map_err(|e| aws_error("ec2:DescribeRouteTables", e))
    };
    let (subnets, groups, associated, mains) =
        tokio::try_join!(subnets, groups, associated, mains)?;
    let vpc_id = the_one_vpc(vpc, &subnets, &groups)?;
    let subnet_route_tables = serving_tables(vpc, &vpc_id, &associated, &mains)?;
    Ok(VpcFacts {
        vpc_id,
        subnet_route_tables,
    })
}

/// The VPC every subnet and security group is in: each subnet must exist,
/// and all must share one VPC.
fn the_one_vpc(
    vpc: &VpcConfig,
    subnets: &DescribeSubnetsOutput,
    groups: &DescribeSecurityGroupsOutput,
) -> Result<String, PartError> {
    let mut members: Vec<(String, String)> = subnets
        .subnets()
        .iter()
        .map(|s| {
            (
                s.subnet_id().unwrap_or_default().to_string(),
                s.vpc_id().unwrap_or_default().to_string(),
            )
        })
        .collect();
    for id in &vpc.subnet_ids {
        if !members.iter().any(|(s, _)| s == id) {
            return Err(PartError::input(
                "VpcConfig.SubnetIds",
                format!("subnet '{id}' was not found in this account and region"),
                "ids that exist in this account and region",
            ));
        }
    }
    members.extend(groups.security_groups().iter().map(|g| {
        (
            g.group_id().unwrap_or_default().to_string(),
            g.vpc_id().unwrap_or_default().to_string(),
        )
    }));
    let distinct: BTreeSet<&str> = members.iter().map(|(_, v)| v.as_str()).collect();
    if distinct.len() != 1 {
        let listing: Vec<String> = members.iter().map(|(r, v)| format!("{r} in {v}")).collect();
        return Err(PartError::input(
            "VpcConfig",
            format!(
                "the subnets and security groups must all be in one VPC, but {}",
                listing.join(", ")
            ),
            "subnets and groups of a single VPC",
        ));
    }
    Ok(members[0].1.clone())
}

/// The route tables serving the subnets: each subnet's own, or the VPC's
/// main table where it has none; sorted.
fn serving_tables(
    vpc: &VpcConfig,
    vpc_id: &str,
    associated: &DescribeRouteTablesOutput,
    mains: &DescribeRouteTablesOutput,
) -> Result<Vec<String>, PartError> {
    let own: Vec<(&str, &str)> = associated
        .route_tables()
        .iter()
        .flat_map(|t| {
            let id = t.route_table_id().unwrap_or_default();
            t.associations()
                .iter()
                .filter_map(move |a| a.subnet_id().map(|s| (s, id)))
        })
        .collect();
    let mut tables = BTreeSet::new();
    let mut on_main = Vec::new();
    for subnet in &vpc.subnet_ids {
        match own.iter().find(|(s, _)| s == subnet) {
            Some((_, t)) => {
                tables.insert(t.to_string());
            }
            None => on_main.push(subnet.clone()),
        }
    }
    if !on_main.is_empty() {
        let main = mains
            .route_tables()
            .iter()
            .find(|t| t.vpc_id() == Some(vpc_id))
            .and_then(|t| t.route_table_id())
            .ok_or_else(|| {
                PartError::input(
                    "S3Endpoint",
                    format!(
                        "subnet{} {} use{} no route table and VPC '{vpc_id}' has no main route table",
                        plural(on_main.len(), "", "s"),
                        on_main.join(", "),
                        plural(on_main.len(), "s", ""),
                    ),
                    "S3Endpoint.RouteTableIds given",
                )
            })?;
        tables.insert(main.to_string());
    }
    Ok(tables.into_iter().collect())
}

fn not_found_or<E>(
    err: aws_sdk_ec2::error::SdkError<E>,
    property: &str,
    op: &'static str,
) -> PartError
where
    E: aws_sdk_ec2::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    use aws_sdk_ec2::error::ProvideErrorMetadata;
    match err.code() {
        Some(code) if code.ends_with(".NotFound") || code.ends_with(".Malformed") => {
            PartError::input(
                property,
                err.message().unwrap_or(code).to_string(),
                "ids that exist in this account and region",
            )
        }
        _ => aws_error(op, err),
    }
}
