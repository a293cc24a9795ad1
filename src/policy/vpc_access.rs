//! The ENI permissions of seed 002, with the stack's region, account,
//! subnets and security groups filled in.

use serde_json::{Value, json};

use super::document;
use crate::model::{StackIdentity, VpcConfig};

/// The service role's VPC policy (seed 002): the ENI permissions a job in the VPC needs.
pub fn vpc_access_policy(stack: &StackIdentity, vpc: &VpcConfig) -> Value {
    let ec2 = |kind: &str, id: &str| {
        format!(
            "arn:{}:ec2:{}:{}:{kind}/{id}",
            stack.partition, stack.region, stack.account
        )
    };
    let eni = ec2("network-interface", "*");
    let jobs = stack.job_arn_pattern();
    let subnets: Vec<String> = vpc.subnet_ids.iter().map(|s| ec2("subnet", s)).collect();
    let mut subnets_and_groups = subnets.clone();
    subnets_and_groups.extend(
        vpc.security_group_ids
            .iter()
            .map(|g| ec2("security-group", g)),
    );
    document(vec![
        json!({
            "Effect": "Allow",
            "Action": [
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeVpcs",
                "ec2:DescribeDhcpOptions",
                "ec2:DescribeSubnets",
                "ec2:DescribeSecurityGroups"
            ],
            "Resource": "*"
        }),
        json!({
            "Effect": "Allow",
            "Action": ["ec2:CreateNetworkInterface"],
            "Resource": [eni],
            "Condition": {
                "StringEquals": { "aws:RequestTag/BedrockManaged": ["true"] },
                "ArnEquals": { "aws:RequestTag/BedrockModelCustomizationJobArn": [jobs] }
            }
        }),
        json!({
            "Effect": "Allow",
            "Action": ["ec2:CreateNetworkInterface"],
            "Resource": subnets_and_groups
        }),
        json!({
            "Effect": "Allow",
            "Action": [
                "ec2:CreateNetworkInterfacePermission",
                "ec2:DeleteNetworkInterface",
                "ec2:DeleteNetworkInterfacePermission"
            ],
            "Resource": "*",
            "Condition": {
                "ArnEquals": {
                    "ec2:Subnet": subnets,
                    "ec2:ResourceTag/BedrockModelCustomizationJobArn": [jobs]
                },
                "StringEquals": { "ec2:ResourceTag/BedrockManaged": "true" }
            }
        }),
        json!({
            "Effect": "Allow",
            "Action": ["ec2:CreateTags"],
            "Resource": eni,
            "Condition": {
                "StringEquals": { "ec2:CreateAction": ["CreateNetworkInterface"] },
                "ForAllValues:StringEquals": {
                    "aws:TagKeys": ["BedrockManaged", "BedrockModelCustomizationJobArn"]
                }
            }
        }),
    ])
}
