//! The resource's JSON Schema (lint/cfn_lint_bedrock_setup/, what the
//! cfn-lint rule checks a template with) and the handler's parser judge the
//! same properties alike: the bad-input corpus, valid setups of every kind,
//! and seeded fuzzed property sets. Where they may differ is listed, each
//! difference with an example that proves it is still one.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{Value, json};

use crate::common::*;
use crate::corpus::{CorpusNames, corpus};
use crate::fuzz::{arb_json, paths};

/// The schema's verdict on one set of properties.
#[derive(Debug)]
struct SchemaVerdict {
    valid: bool,
    properties: Vec<String>,
    messages: Vec<String>,
}

/// Judges every case in one run of the schema's judge (the cfn-lint rule's
/// own code, lint/judge_properties.py).
fn schema_verdicts(cases: &[Value]) -> Vec<SchemaVerdict> {
    let script = crate::checkout::project_dir().join("lint/judge_properties.py");
    let mut child = Command::new(crate::checkout::python())
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the schema judge starts");
    let mut stdin = child.stdin.take().expect("stdin");
    let input: String = cases.iter().map(|c| format!("{c}\n")).collect();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let stdout = child.stdout.take().expect("stdout");
    let verdicts: Vec<SchemaVerdict> = BufReader::new(stdout)
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(&line.expect("line")).expect("a verdict");
            let strings = |k: &str| -> Vec<String> {
                v[k].as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            };
            SchemaVerdict {
                valid: v["valid"] == json!(true),
                properties: strings("properties"),
                messages: strings("messages"),
            }
        })
        .collect();
    writer.join().expect("writer").expect("written");
    assert!(
        child.wait().expect("judge").success(),
        "the schema judge failed"
    );
    assert_eq!(verdicts.len(), cases.len(), "one verdict per case");
    verdicts
}

/// Names that point at the same property or one inside the other.
fn related(a: &str, b: &str) -> bool {
    let inside = |outer: &str, inner: &str| {
        inner == outer
            || inner.starts_with(&format!("{outer}."))
            || inner.starts_with(&format!("{outer}["))
    };
    inside(a, b) || inside(b, a)
}

/// What the handler judges and a JSON Schema cannot: each with how to
/// recognise it among the parser's problems.
const HANDLER_ONLY: &[(&str, &str)] = &[
    (
        "an ARN of another partition than the stack's",
        "of partition aws",
    ),
    (
        "a grader in another region than the stack's",
        "is not a Lambda function ARN of aws in us-east-1",
    ),
    (
        "a whole number above 2147483647 written as a string",
        "is not a positive whole number",
    ),
    (
        "a learning rate written as a string, out of range",
        "is not a number from 1e-7 to 1e-3",
    ),
    ("a tag key listed twice", "more than once"),
];

fn handler_only(problem: &str) -> Option<&'static str> {
    HANDLER_ONLY
        .iter()
        .find(|(_, marker)| problem.contains(marker))
        .map(|(what, _)| *what)
}

/// Compares the two judges on every case and fails on a disagreement that
/// is not listed in `HANDLER_ONLY`, showing the first few.
fn assert_judged_alike(what: &str, cases: &[(String, Value)]) {
    let values: Vec<Value> = cases.iter().map(|(_, v)| v.clone()).collect();
    let verdicts = schema_verdicts(&values);
    let mut out = Vec::new();
    for ((label, props), schema) in cases.iter().zip(verdicts) {
        match (parse(props), schema.valid) {
            (Ok(_), true) => {}
            (Ok(_), false) => out.push(format!(
                "{label}: the schema refuses what the handler accepts: {:?}\n  {props}",
                schema.messages
            )),
            (Err(errs), true) => {
                let unlisted: Vec<String> = errs
                    .0
                    .iter()
                    .map(ToString::to_string)
                    .filter(|p| handler_only(p).is_none())
                    .collect();
                if !unlisted.is_empty() {
                    out.push(format!(
                        "{label}: the schema accepts what the handler refuses: {unlisted:?}\n  {props}"
                    ));
                }
            }
            (Err(errs), false) => {
                let named = errs
                    .0
                    .iter()
                    .any(|e| schema.properties.iter().any(|p| related(p, &e.property)));
                if !named {
                    out.push(format!(
                        "{label}: both refuse, naming different properties: handler {:?}, schema {:?}",
                        errs.0.iter().map(|e| e.property.clone()).collect::<Vec<_>>(),
                        schema.messages
                    ));
                }
            }
        }
    }
    assert!(
        out.is_empty(),
        "{} of {} {what} judged apart (the first 40):\n{}",
        out.len(),
        cases.len(),
        out.iter().take(40).cloned().collect::<Vec<_>>().join("\n")
    );
}

/// Made-up names: nothing is looked up here.
fn corpus_names() -> CorpusNames {
    let mut full = full();
    full["VpcConfig"] = json!({ "SubnetIds": ["subnet-0a1b2c3d", "subnet-0a1b2c3e"], "SecurityGroupIds": ["sg-0a1b2c3d"] });
    CorpusNames {
        full,
        subnets: vec!["subnet-0a1b2c3d".into(), "subnet-0a1b2c3e".into()],
        other_vpc_subnet: "subnet-0f0f0f0f".into(),
    }
}

/// The corpus cases the parser accepts, by the property the handler's
/// answer names: refused only after a look-up against AWS (the hostile
/// suite proves each is refused, with nothing changed).
const LOOKED_UP: &[(&str, &str)] = &[
    ("VpcConfig", "subnets of two VPCs"),
    ("VpcConfig.SubnetIds", "a subnet that does not exist"),
    ("OutputDataUri", "an output bucket that does not exist"),
    ("RoleName", "a role name someone else's role holds"),
    ("S3Endpoint", "a route table someone else's endpoint serves"),
    ("Job.JobName", "a job name someone else's job holds"),
];

#[test]
fn the_corpus_is_judged_alike() {
    let corpus = corpus(&corpus_names());
    let cases: Vec<(String, Value)> = corpus
        .iter()
        .enumerate()
        .map(|(i, (property, props))| (format!("corpus #{i} ({property})"), props.clone()))
        .collect();
    assert_judged_alike("corpus cases", &cases);
    // What only a look-up refuses: accepted by both here.
    let accepted: Vec<&str> = corpus
        .iter()
        .filter(|(_, p)| parse(p).is_ok())
        .map(|(property, _)| *property)
        .collect();
    let looked_up: Vec<&str> = LOOKED_UP.iter().map(|(property, _)| *property).collect();
    assert_eq!(
        accepted, looked_up,
        "the corpus cases only a look-up refuses"
    );
}

/// Valid setups of every kind the contract has.
fn valid_setups() -> Vec<(String, Value)> {
    let mut rft = full();
    rft["Job"] = json!({
        "BaseModelIdentifier": "amazon.nova-2-lite-v1:0",
        "CustomizationType": "REINFORCEMENT_FINE_TUNING",
        "GraderLambdaArn": "arn:aws:lambda:us-east-1:123456789012:function:grader:live",
        "HyperParameters": { "epochCount": "3", "batchSize": 64, "learningRate": "0.00001", "reasoningEffort": "medium", "evalInterval": "10" }
    });
    let mut distillation = without(full(), "TrainingDataUri");
    distillation["InvocationLogs"] = json!({
        "SourceUri": "s3://log-bucket/invocations/",
        "UsePromptResponse": "TRUE",
        "RequestMetadataFilters": { "AndAll": [{ "Equals": { "team": "ml" } }, { "NotEquals": { "stage": "dev" } }] }
    });
    distillation["Job"] = json!({
        "BaseModelIdentifier": "amazon.nova-micro-v1:0",
        "CustomizationType": "DISTILLATION",
        "TeacherModelIdentifier": "us.amazon.nova-premier-v1:0",
        "MaxResponseLengthForInference": "1000"
    });
    let mut provisioned = full();
    provisioned["Deployment"] =
        json!({ "Type": "Provisioned", "ModelUnits": "2", "Name": "my_deployment-1" });
    let mut on_demand = full();
    on_demand["Deployment"] = json!({ "Type": "OnDemand" });
    on_demand["ServiceTimeout"] = json!("900");
    on_demand["Job"]["CompletionSignalUrl"] = json!(
        "https://cloudformation-waitcondition-us-east-1.s3.amazonaws.com/arn%3Aaws/handle?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc"
    );
    vec![
        ("minimal".into(), minimal()),
        ("full".into(), full()),
        ("reinforcement fine-tuning".into(), rft),
        ("distillation from invocation logs".into(), distillation),
        ("provisioned deployment".into(), provisioned),
        ("on-demand deployment with a signal".into(), on_demand),
    ]
}

#[test]
fn valid_setups_of_every_kind_are_valid_to_both() {
    let cases = valid_setups();
    for (label, props) in &cases {
        assert!(parse(props).is_ok(), "{label}: {:?}", parse(props).err());
    }
    assert_judged_alike("valid setups", &cases);
}

/// Values that sit on the edges of the rules, for every property path.
fn edge_values() -> Vec<Value> {
    let key = format!("arn:aws:kms:us-east-1:123456789012:key/{}", "a".repeat(36));
    vec![
        json!("true"),
        json!("FALSE"),
        json!("yes"),
        json!(""),
        json!(" "),
        json!("0"),
        json!("1"),
        json!("+5"),
        json!("007"),
        json!("50"),
        json!("51"),
        json!("3600"),
        json!("3601"),
        json!("-1"),
        json!("1e-5"),
        json!("low"),
        json!("LOW"),
        json!("OnDemand"),
        json!("Provisioned"),
        json!("FINE_TUNING"),
        json!("DISTILLATION"),
        json!("REINFORCEMENT_FINE_TUNING"),
        json!("Restricted"),
        json!("s3://a-bucket/k"),
        json!("s3://a-bucket"),
        json!("s3://A_bucket/k"),
        json!("s3://a-bucket//k"),
        json!("s3://a-bucket/k*"),
        json!("subnet-0123abcd"),
        json!("sg-0123abcd"),
        json!("rtb-0123abcd"),
        json!(key),
        json!("arn:aws:iam::123456789012:policy/p"),
        json!("arn:aws:lambda:us-east-1:123456789012:function:f"),
        json!("my-name"),
        json!("a_b-c"),
        json!("a__b"),
        json!("/"),
        json!("/a/b/"),
        json!("/a//b/"),
        json!("us.amazon.nova-premier-v1:0"),
        json!(0),
        json!(1),
        json!(16),
        json!(512),
        json!(513),
        json!(2.5),
        json!(true),
        json!(false),
        Value::Null,
        json!([]),
        json!({}),
        json!(["s3://a-bucket/k"]),
        json!(["subnet-0123abcd"]),
        json!([key.clone(), key]),
        json!([{ "Key": "k", "Value": "v" }]),
        json!([{ "Key": "aws:x", "Value": "v" }]),
        json!({ "Type": "OnDemand" }),
        json!({ "Type": "Provisioned", "ModelUnits": "1" }),
        json!({ "Type": "Provisioned" }),
        json!({ "SubnetIds": ["subnet-0123abcd"], "SecurityGroupIds": ["sg-0123abcd"] }),
        json!({ "SourceUri": "s3://a-bucket/logs/" }),
        json!({ "Equals": { "k": "v" } }),
        json!({ "Ref": "Parameter" }),
    ]
}

#[test]
fn fuzzed_property_sets_are_judged_alike() {
    // Seeded, so that a failure repeats.
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[42; 32]),
    );
    let paths = paths();
    let edges = edge_values();
    let mut cases = Vec::new();
    for base in valid_setups() {
        for path in &paths {
            for (i, v) in edges.iter().enumerate() {
                // An intrinsic function is the schema's to accept; the
                // handler never sees one (CloudFormation resolves it).
                if v.get("Ref").is_some() {
                    continue;
                }
                cases.push((
                    format!("{} {path} = edge #{i}", base.0),
                    with(base.1.clone(), path, v.clone()),
                ));
            }
        }
    }
    let path = proptest::sample::select(paths.clone());
    for i in 0..1500 {
        let p = path.new_tree(&mut runner).expect("path").current();
        let v = arb_json().new_tree(&mut runner).expect("value").current();
        cases.push((format!("fuzz #{i} {p}"), with(full(), &p, v)));
    }
    assert_judged_alike("fuzzed cases", &cases);
}

/// The value at a dotted path, if there is one.
fn at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |v, key| v.get(key))
}

#[test]
fn an_intrinsic_function_is_accepted_wherever_a_value_can_come_from_one() {
    let setups = valid_setups();
    let mut cases = Vec::new();
    for path in paths().into_iter().filter(|p| p != "Unknown") {
        // A setup where the property is already given: whether it may be
        // given at all does not depend on its value.
        let (label, base) = setups
            .iter()
            .find(|(_, s)| at(s, &path).is_some())
            .unwrap_or(&setups[1]);
        for intrinsic in [
            json!({ "Ref": "Parameter" }),
            json!({ "Fn::Sub": "${AWS::StackName}-x" }),
            json!({ "Fn::If": ["Condition", "a", { "Ref": "AWS::NoValue" }] }),
        ] {
            cases.push((
                format!("{label}: {path}"),
                with(base.clone(), &path, intrinsic),
            ));
        }
    }
    let values: Vec<Value> = cases.iter().map(|(_, v)| v.clone()).collect();
    let refused: Vec<String> = cases
        .iter()
        .zip(schema_verdicts(&values))
        .filter(|(_, v)| !v.valid)
        .map(|((label, _), v)| format!("{label}: {:?}", v.messages))
        .collect();
    assert!(refused.is_empty(), "{}", refused.join("\n"));
}

#[test]
fn what_only_the_handler_can_judge_is_still_beyond_the_schema() {
    let mut partition = full();
    partition["KmsKeyArns"] = json!([format!(
        "arn:aws-cn:kms:cn-north-1:123456789012:key/{}",
        "a".repeat(36)
    )]);
    let mut other_region = valid_setups().swap_remove(2).1;
    other_region["Job"]["GraderLambdaArn"] =
        json!("arn:aws:lambda:eu-west-1:123456789012:function:grader");
    let mut big_units = full();
    big_units["Deployment"] = json!({ "Type": "Provisioned", "ModelUnits": "9999999999" });
    let mut learning_rate = valid_setups().swap_remove(2).1;
    learning_rate["Job"]["HyperParameters"]["learningRate"] = json!("0.5");
    let mut twice = full();
    twice["Tags"] = json!([{ "Key": "team", "Value": "a" }, { "Key": "team", "Value": "b" }]);
    let examples = [partition, other_region, big_units, learning_rate, twice];
    assert_eq!(examples.len(), HANDLER_ONLY.len(), "one example each");
    let verdicts = schema_verdicts(&examples);
    for (((what, _), props), schema) in HANDLER_ONLY.iter().zip(&examples).zip(verdicts) {
        let errs = parse_err(props);
        assert!(
            errs.0
                .iter()
                .all(|e| handler_only(&e.to_string()) == Some(what)),
            "{what}: the handler refuses it for another reason: {errs}"
        );
        assert!(
            schema.valid,
            "{what}: the schema judges it now ({:?}): take it off the list",
            schema.messages
        );
    }
}
