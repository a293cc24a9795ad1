use bedrock_setup::model::StackIdentity;
use bedrock_setup::model::identity::*;
use bedrock_setup::model::{is_job_name, is_model_name};

use crate::common::*;

#[test]
fn partitions_regions_and_accounts_from_the_stack_id() {
    for (id, partition, region) in [
        (
            "arn:aws:cloudformation:us-east-1:123456789012:stack/s/guid",
            "aws",
            "us-east-1",
        ),
        (
            "arn:aws-cn:cloudformation:cn-north-1:123456789012:stack/s/guid",
            "aws-cn",
            "cn-north-1",
        ),
        (
            "arn:aws-us-gov:cloudformation:us-gov-west-1:123456789012:stack/s/guid",
            "aws-us-gov",
            "us-gov-west-1",
        ),
        (
            "arn:aws-iso-b:cloudformation:us-isob-east-1:123456789012:stack/s/guid",
            "aws-iso-b",
            "us-isob-east-1",
        ),
    ] {
        let s = StackIdentity::from_stack_id(id).expect(id);
        assert_eq!(
            (s.partition.as_str(), s.region.as_str(), s.account.as_str()),
            (partition, region, "123456789012")
        );
        assert_eq!(s.stack_name, "s");
    }
    for bad in [
        "",
        "not-an-arn",
        "arn:aws:s3:::bucket",
        "arn:aws:cloudformation:us-east-1:12345:stack/s/g",
        "arn:aws:cloudformation:useast1:123456789012:stack/s/g",
        "arn:gcp:cloudformation:us-east-1:123456789012:stack/s/g",
        "arn:aws:cloudformation:us-east-1:123456789012:changeSet/s/g",
        "arn:aws:cloudformation:us-east-1:123456789012:stack//g",
    ] {
        let e = StackIdentity::from_stack_id(bad).expect_err(bad);
        assert!(e.contains("StackId"), "{e}");
    }
}

#[test]
fn the_s3_gateway_is_taken_from_the_regions_catalogue() {
    use bedrock_setup::parts::s3_gateway_service;
    // What DescribeVpcEndpointServices lists as Gateway services: the S3 one
    // is taken whatever its prefix, never derived from the partition.
    assert_eq!(
        s3_gateway_service([
            "com.amazonaws.us-east-1.dynamodb",
            "com.amazonaws.us-east-1.s3"
        ]),
        Some("com.amazonaws.us-east-1.s3".to_string())
    );
    assert_eq!(
        s3_gateway_service([
            "cn.com.amazonaws.cn-north-1.dynamodb",
            "com.amazonaws.cn-north-1.s3"
        ]),
        Some("com.amazonaws.cn-north-1.s3".to_string())
    );
    assert_eq!(
        s3_gateway_service(["cn.com.amazonaws.cn-northwest-1.s3"]),
        Some("cn.com.amazonaws.cn-northwest-1.s3".to_string())
    );
    assert_eq!(
        s3_gateway_service(["com.amazonaws.us-east-1.dynamodb"]),
        None
    );
    assert_eq!(s3_gateway_service(["s3"]), None);
}

#[test]
fn physical_id_is_stable_per_request_and_unique_across_requests() {
    let s = stack();
    let a = physical_id_for(&s, "Customization", "req-1");
    assert_eq!(
        a,
        physical_id_for(&s, "Customization", "req-1"),
        "a repeated delivery gets the same id"
    );
    assert_ne!(a, physical_id_for(&s, "Customization", "req-2"));
    assert_ne!(a, physical_id_for(&s, "Other", "req-1"));
    assert!(a.starts_with("demo-stack-Customization-"), "{a}");
    assert!(is_our_physical_id(&s, "Customization", &a));
    assert!(!is_our_physical_id(&s, "Other", &a));
    for placeholder in [
        "demo-stack-Customization-1ABCDEF2GHIJ",
        "",
        "arn:aws:iam::1:role/x",
        "demo-stack-Customization-",
    ] {
        assert!(
            !is_our_physical_id(&s, "Customization", placeholder),
            "{placeholder}"
        );
    }
}

#[test]
fn names_fit_every_limit_for_the_longest_inputs() {
    let long_stack = format!("a{}", "b-".repeat(63));
    let s = StackIdentity::from_stack_id(&format!(
        "arn:aws:cloudformation:us-east-1:123456789012:stack/{long_stack}/g"
    ))
    .expect("stack");
    for logical in ["X", "Customization", &"L".repeat(255), "A1B2"] {
        for req in ["r", "0f9d8c7b-6a5e-4d3c-2b1a-000000000000"] {
            let pid = physical_id_for(&s, logical, req);
            assert!(pid.len() <= MAX_PHYSICAL_ID_LEN, "{pid}");
            assert!(is_our_physical_id(&s, logical, &pid), "{pid}");
            assert!(derived_role_name(&pid).len() <= 64);
            assert!(is_job_name(&derived_job_name(&pid)), "{pid}");
            assert!(is_model_name(&derived_model_name(&pid)), "{pid}");
            let sid = bucket_statement_sid(&pid);
            assert!(sid.chars().all(|c| c.is_ascii_alphanumeric()), "{sid}");
        }
    }
}

#[test]
fn odd_stack_names_still_give_valid_names() {
    for name in ["my--stack", "Stack-With-Many-Hyphens---", "x"] {
        let s = StackIdentity::from_stack_id(&format!(
            "arn:aws:cloudformation:us-east-1:123456789012:stack/{name}/g"
        ))
        .expect("stack");
        let pid = physical_id_for(&s, "Res", "r");
        assert!(!pid.contains("--"), "{pid}");
        assert!(is_model_name(&derived_model_name(&pid)), "{pid}");
    }
}

#[test]
fn client_token_is_stable_and_bounded() {
    let t = client_token("demo-stack-Customization-0123456789ab");
    assert_eq!(t, client_token("demo-stack-Customization-0123456789ab"));
    assert_ne!(t, client_token("demo-stack-Customization-0123456789ac"));
    assert_eq!(t.len(), 32);
}
