//! The user's own infrastructure in the emulator: a VPC, subnets, route
//! tables, a security group and buckets, and the properties of a setup on it.

use super::{Emulator, REGION, corpus};

use aws_sdk_ec2::types::Filter;
use serde_json::{Value, json};

/// A VPC with two subnets (one with its own route table, one on the main
/// table), a security group and the data buckets.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub vpc_id: String,
    pub subnets: Vec<String>,
    pub security_group: String,
    pub own_route_table: String,
    pub main_route_table: String,
    pub training_bucket: String,
    pub output_bucket: String,
    /// Enabled symmetric keys in the emulator's KMS: (data key, model key).
    pub data_key_arn: String,
    pub model_key_arn: String,
}

impl Fixture {
    pub async fn create(emu: &Emulator) -> Fixture {
        let c = emu.check_clients().await;
        let vpc = c
            .ec2
            .create_vpc()
            .cidr_block("10.0.0.0/16")
            .send()
            .await
            .expect("vpc");
        let vpc_id = vpc
            .vpc()
            .and_then(|v| v.vpc_id())
            .expect("vpc id")
            .to_string();
        let mut subnets = Vec::new();
        for (i, cidr) in ["10.0.1.0/24", "10.0.2.0/24"].iter().enumerate() {
            let s = c
                .ec2
                .create_subnet()
                .vpc_id(&vpc_id)
                .cidr_block(*cidr)
                .availability_zone(format!("{REGION}{}", ["a", "b"][i]))
                .send()
                .await
                .expect("subnet");
            subnets.push(
                s.subnet()
                    .and_then(|s| s.subnet_id())
                    .expect("subnet id")
                    .to_string(),
            );
        }
        let sg = c
            .ec2
            .create_security_group()
            .group_name("bedrock-jobs")
            .description("jobs")
            .vpc_id(&vpc_id)
            .send()
            .await
            .expect("sg");
        let rt = c
            .ec2
            .create_route_table()
            .vpc_id(&vpc_id)
            .send()
            .await
            .expect("rt");
        let own_route_table = rt
            .route_table()
            .and_then(|r| r.route_table_id())
            .expect("rt id")
            .to_string();
        c.ec2
            .associate_route_table()
            .route_table_id(&own_route_table)
            .subnet_id(&subnets[0])
            .send()
            .await
            .expect("associate");
        let tables = c
            .ec2
            .describe_route_tables()
            .filters(Filter::builder().name("vpc-id").values(&vpc_id).build())
            .filters(
                Filter::builder()
                    .name("association.main")
                    .values("true")
                    .build(),
            )
            .send()
            .await
            .expect("main table");
        let main_route_table = tables.route_tables()[0]
            .route_table_id()
            .expect("main")
            .to_string();
        let training_bucket = "training-bucket".to_string();
        let output_bucket = "output-bucket".to_string();
        for b in [&training_bucket, &output_bucket] {
            c.s3.create_bucket().bucket(b).send().await.expect("bucket");
        }
        // The data the pre-flight checks look for.
        for key in ["train/data.jsonl", "validation/data.jsonl"] {
            c.s3.put_object()
                .bucket(&training_bucket)
                .key(key)
                .body(aws_sdk_s3::primitives::ByteStream::from_static(
                    b"{\"prompt\": \"p\", \"completion\": \"c\"}\n",
                ))
                .send()
                .await
                .expect("data object");
        }
        let mut keys = Vec::new();
        for purpose in ["training data", "custom model"] {
            let k = c
                .kms
                .create_key()
                .description(purpose)
                .send()
                .await
                .expect("key");
            keys.push(
                k.key_metadata()
                    .and_then(|m| m.arn())
                    .expect("key arn")
                    .to_string(),
            );
        }
        let model_key_arn = keys.pop().expect("model key");
        let data_key_arn = keys.pop().expect("data key");
        Fixture {
            vpc_id,
            subnets,
            security_group: sg.group_id().expect("sg id").to_string(),
            own_route_table,
            main_route_table,
            training_bucket,
            output_bucket,
            data_key_arn,
            model_key_arn,
        }
    }

    /// The names the bad-input corpus is written against.
    pub fn corpus_names(&self, other_vpc_subnet: &str) -> corpus::CorpusNames {
        corpus::CorpusNames {
            full: self.full_properties(),
            subnets: self.subnets.clone(),
            other_vpc_subnet: other_vpc_subnet.to_string(),
        }
    }

    /// Properties using every part of the setup.
    pub fn full_properties(&self) -> Value {
        json!({
            "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:bedrock-setup",
            "TrainingDataUri": format!("s3://{}/train/data.jsonl", self.training_bucket),
            "ValidationDataUris": [format!("s3://{}/validation/data.jsonl", self.training_bucket)],
            "OutputDataUri": format!("s3://{}/output/", self.output_bucket),
            "KmsKeyArns": [self.data_key_arn],
            "VpcConfig": { "SubnetIds": self.subnets.clone(), "SecurityGroupIds": [self.security_group.clone()] },
            "S3Endpoint": { "Create": "true", "Policy": "Restricted" },
            "RestrictOutputBucketToVpc": "true",
            "Job": {
                "BaseModelIdentifier": "amazon.titan-text-express-v1",
                "CustomizationType": "FINE_TUNING",
                "HyperParameters": { "epochCount": "2", "batchSize": "1", "learningRate": "0.00001" },
                "CustomModelKmsKeyArn": self.model_key_arn,
                "StopJobOnDelete": "true",
                "DeleteCustomModelOnDelete": "false"
            },
            "Tags": [{ "Key": "team", "Value": "ml" }]
        })
    }
}
