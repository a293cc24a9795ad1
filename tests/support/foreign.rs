//! Someone else's resources, made without our tags: what the handler must
//! refuse to take and never change.

use bedrock_setup::parts::Clients;

/// Another VPC with one subnet and one route table: (vpc, subnet, table).
pub async fn vpc_with_subnet(c: &Clients, cidr_prefix: &str) -> (String, String, String) {
    let vpc = c
        .ec2
        .create_vpc()
        .cidr_block(format!("{cidr_prefix}.0.0/16"))
        .send()
        .await
        .expect("vpc");
    let vpc_id = vpc
        .vpc()
        .and_then(|v| v.vpc_id())
        .expect("vpc id")
        .to_string();
    let subnet = c
        .ec2
        .create_subnet()
        .vpc_id(&vpc_id)
        .cidr_block(format!("{cidr_prefix}.1.0/24"))
        .send()
        .await
        .expect("subnet");
    let subnet_id = subnet
        .subnet()
        .and_then(|s| s.subnet_id())
        .expect("subnet id")
        .to_string();
    let table = c
        .ec2
        .create_route_table()
        .vpc_id(&vpc_id)
        .send()
        .await
        .expect("route table");
    let table_id = table
        .route_table()
        .and_then(|r| r.route_table_id())
        .expect("table id")
        .to_string();
    (vpc_id, subnet_id, table_id)
}

/// A role with one inline policy, `theirs`.
pub async fn role(c: &Clients, name: &str) {
    role_under(c, "/", name).await;
}

/// `role`, on an IAM path of their choosing (ours too).
pub async fn role_under(c: &Clients, path: &str, name: &str) {
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    c.iam
        .create_role()
        .path(path)
        .role_name(name)
        .assume_role_policy_document(trust)
        .send()
        .await
        .expect("role");
    c.iam
        .put_role_policy()
        .role_name(name)
        .policy_name("theirs")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}"#)
        .send()
        .await
        .expect("policy");
}

/// A model customization job submitted without our tags.
pub async fn job(c: &Clients, job_name: &str, model_name: &str) {
    c.bedrock
        .create_model_customization_job()
        .job_name(job_name)
        .custom_model_name(model_name)
        .role_arn("arn:aws:iam::123456789012:role/x")
        .base_model_identifier("amazon.titan-text-express-v1")
        .training_data_config(
            aws_sdk_bedrock::types::TrainingDataConfig::builder()
                .s3_uri("s3://training-bucket/t")
                .build(),
        )
        .output_data_config(
            aws_sdk_bedrock::types::OutputDataConfig::builder()
                .s3_uri("s3://output-bucket/o")
                .build()
                .expect("out"),
        )
        .send()
        .await
        .expect("their job");
}

/// An S3 gateway endpoint on `table`; returns its id.
pub async fn s3_endpoint(c: &Clients, vpc_id: &str, table: &str) -> String {
    let e = c
        .ec2
        .create_vpc_endpoint()
        .vpc_id(vpc_id)
        .service_name("com.amazonaws.us-east-1.s3")
        .vpc_endpoint_type(aws_sdk_ec2::types::VpcEndpointType::Gateway)
        .route_table_ids(table)
        .send()
        .await
        .expect("endpoint");
    e.vpc_endpoint()
        .and_then(|e| e.vpc_endpoint_id())
        .expect("endpoint id")
        .to_string()
}
