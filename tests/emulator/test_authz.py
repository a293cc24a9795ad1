"""The test bed's judges judged: the authorization evaluator on allow and deny
cases against the real template, and the API-model validator on valid and
malformed requests. Run by `make test` (python -m unittest)."""

import os
import unittest

import api_model
import authz

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEMPLATE = os.path.join(ROOT, "template.yaml")
ACCOUNT = "123456789012"
PARAMS = {"AWS::Partition": "aws", "AWS::Region": "us-east-1", "AWS::AccountId": ACCOUNT,
          "AWS::StackName": "handler", "RolePath": "/bedrock-customization/",
          "OutputBucketPattern": "output-bucket"}
OWNER = "bedrock-customization-setup:id"


class FakeState:
    """What the emulator would hold: roles by name with path and tags, EC2 and
    Bedrock tags by id/ARN."""

    def __init__(self, roles=None, ec2=None, bedrock=None):
        self.account, self.region, self.partition = ACCOUNT, "us-east-1", "aws"
        self.roles = roles or {}
        self.ec2 = ec2 or {}
        self.bedrock = bedrock or {}

    def role_arn(self, name):
        path = self.roles[name][0] if name in self.roles else "/"
        return f"arn:aws:iam::{ACCOUNT}:role{path}{name}"

    def role_tags(self, name):
        return self.roles[name][1] if name in self.roles else None

    def ec2_tags(self, rid):
        return self.ec2.get(rid, {})

    def bedrock_arn(self, kind, identifier):
        return identifier if identifier.startswith("arn:") else \
            f"arn:aws:bedrock:us-east-1:{ACCOUNT}:{kind}/{identifier}"

    def bedrock_tags(self, arn):
        return self.bedrock.get(arn, {})

    def ssm_key_of(self, name):
        return f"arn:aws:kms:us-east-1:{ACCOUNT}:key/SignalKey"

    def ssm_keys_under(self, path):
        return [self.ssm_key_of(path)]

    def resource_policy(self, request):
        return None


def query(service, operation, **form):
    return authz.Parsed(service, "us-east-1", ACCOUNT, operation, "POST", "/", {},
                        {k.replace("__", "."): [v] for k, v in form.items()}, None)


def rest(service, operation, path, body=None, method="POST"):
    return authz.Parsed(service, "us-east-1", ACCOUNT, operation, method, path, {}, {}, body)


class TemplateJudge(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.policy = authz.execution_policy(TEMPLATE, PARAMS)

    def allowed(self, parsed, state=None):
        why = authz.judge(self.policy, parsed, state or FakeState())
        self.assertIsNone(why, why)

    def denied(self, parsed, state=None, mentions=()):
        why = authz.judge(self.policy, parsed, state or FakeState())
        self.assertIsNotNone(why, f"{parsed.operation} should be denied")
        for m in mentions:
            self.assertIn(m, why)
        return why

    # ------------------------------------------------------------ IAM

    def test_get_role_of_a_role_that_does_not_exist_yet(self):
        # role/NAME without a path: allowed, so NoSuchEntity can come back.
        self.allowed(query("iam", "GetRole", RoleName="new-role"))

    def test_create_role_needs_our_tag_the_path_and_tag_role(self):
        ok = dict(RoleName="r", Path="/bedrock-customization/", Tags__member__1__Key=OWNER,
                  Tags__member__1__Value="stack-Customization-abc")
        self.allowed(query("iam", "CreateRole", **ok))
        untagged = dict(RoleName="r", Path="/bedrock-customization/", Tags__member__1__Key="team",
                        Tags__member__1__Value="ml")
        self.denied(query("iam", "CreateRole", **untagged), mentions=["iam:CreateRole", "aws:RequestTag"])
        elsewhere = dict(ok, Path="/other/")
        self.denied(query("iam", "CreateRole", **elsewhere),
                    mentions=["arn:aws:iam::123456789012:role/other/r"])
        # Without the tag-on-create grant, CreateRole with tags is denied on
        # the implied iam:TagRole.
        stripped = authz.Policy([s for s in self.policy.statements if s["Sid"] != "TagRolesWithTheOwnerTag"])
        why = authz.judge(stripped, query("iam", "CreateRole", **ok), FakeState())
        self.assertIn("iam:TagRole", why or "")

    def test_role_writes_only_on_roles_carrying_our_tag(self):
        ours = FakeState(roles={"mine": ("/bedrock-customization/", {OWNER: "x"}),
                                "theirs": ("/bedrock-customization/", {"team": "ml"})})
        for op in ("DeleteRole", "PutRolePolicy", "DeleteRolePolicy", "UpdateAssumeRolePolicy",
                   "UntagRole", "DetachRolePolicy", "DeleteRolePermissionsBoundary"):
            self.allowed(query("iam", op, RoleName="mine"), ours)
            self.denied(query("iam", op, RoleName="theirs"), ours, mentions=[f"iam:{op}", "aws:ResourceTag"])

    def test_pass_role_to_bedrock_only_and_under_the_path(self):
        role = f"arn:aws:iam::{ACCOUNT}:role/bedrock-customization/r"
        body = {"roleArn": role, "baseModelIdentifier": "amazon.titan-text-express-v1",
                "jobTags": [{"key": OWNER, "value": "x"}], "customModelTags": [{"key": OWNER, "value": "x"}]}
        self.allowed(rest("bedrock", "CreateModelCustomizationJob", "/model-customization-jobs", body))
        outside = dict(body, roleArn=f"arn:aws:iam::{ACCOUNT}:role/admin")
        self.denied(rest("bedrock", "CreateModelCustomizationJob", "/model-customization-jobs", outside),
                    mentions=["iam:PassRole"])
        untagged = dict(body, jobTags=[], customModelTags=[])
        self.denied(rest("bedrock", "CreateModelCustomizationJob", "/model-customization-jobs", untagged),
                    mentions=["bedrock:CreateModelCustomizationJob"])

    def test_pass_role_condition_names_the_service(self):
        r = authz.Request("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/bedrock-customization/r",
                          {"iam:PassedToService": "ec2.amazonaws.com"})
        self.assertIn("iam:PassedToService", self.policy.evaluate(r))

    # ------------------------------------------------------------ EC2

    def test_endpoint_creation_only_for_the_s3_gateway_with_our_tag(self):
        form = dict(VpcId="vpc-1", ServiceName="com.amazonaws.us-east-1.s3", VpcEndpointType="Gateway",
                    RouteTableId__1="rtb-1", TagSpecification__1__ResourceType="vpc-endpoint",
                    TagSpecification__1__Tag__1__Key=OWNER, TagSpecification__1__Tag__1__Value="x")
        self.allowed(query("ec2", "CreateVpcEndpoint", **form))
        self.denied(query("ec2", "CreateVpcEndpoint", **dict(form, ServiceName="com.amazonaws.us-east-1.dynamodb")),
                    mentions=["ec2:VpceServiceName"])
        untagged = {k: v for k, v in form.items() if not k.startswith("TagSpecification")}
        self.denied(query("ec2", "CreateVpcEndpoint", **untagged), mentions=["aws:RequestTag"])
        # Tag-on-create is judged as ec2:CreateTags with ec2:CreateAction.
        stripped = authz.Policy([s for s in self.policy.statements if s["Sid"] != "TagEndpointsAtCreation"])
        why = authz.judge(stripped, query("ec2", "CreateVpcEndpoint", **form), FakeState())
        self.assertIn("ec2:CreateTags", why or "")

    def test_endpoint_changes_only_on_endpoints_carrying_our_tag(self):
        state = FakeState(ec2={"vpce-ours": {OWNER: "x"}, "vpce-theirs": {"team": "ml"}})
        self.allowed(query("ec2", "DeleteVpcEndpoints", VpcEndpointId__1="vpce-ours"), state)
        self.denied(query("ec2", "DeleteVpcEndpoints", VpcEndpointId__1="vpce-theirs"), state,
                    mentions=["vpc-endpoint/vpce-theirs"])
        self.allowed(query("ec2", "ModifyVpcEndpoint", VpcEndpointId="vpce-ours", AddRouteTableId__1="rtb-2"), state)
        self.denied(query("ec2", "CreateTags", ResourceId__1="vpce-theirs", Tag__1__Key=OWNER, Tag__1__Value="x"),
                    state)
        self.allowed(query("ec2", "DescribeVpcEndpointServices"), state)

    # ------------------------------------------------------------- S3

    def test_bucket_policy_only_on_the_named_bucket(self):
        self.allowed(rest("s3", "PutBucketPolicy", "/output-bucket", method="PUT"))
        self.denied(rest("s3", "PutBucketPolicy", "/someone-elses-bucket", method="PUT"),
                    mentions=["arn:aws:s3:::someone-elses-bucket"])

    # -------------------------------------------------------- Bedrock

    def test_stop_and_delete_only_what_carries_our_tag(self):
        job = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:model-customization-job/j"
        state = FakeState(bedrock={job: {OWNER: "x"}})
        self.allowed(rest("bedrock", "StopModelCustomizationJob", "/model-customization-jobs/j/stop"), state)
        self.denied(rest("bedrock", "StopModelCustomizationJob", "/model-customization-jobs/other/stop"), state,
                    mentions=["aws:ResourceTag"])
        self.allowed(rest("bedrock", "GetModelCustomizationJob", "/model-customization-jobs/other", method="GET"),
                     state)
        self.denied(rest("bedrock", "UntagResource", "/untagResource", {"resourceARN": job.replace("/j", "/o"),
                                                                         "tagKeys": ["a"]}), state)

    def test_model_key_only_through_bedrock(self):
        key = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        body = {"roleArn": f"arn:aws:iam::{ACCOUNT}:role/bedrock-customization/r",
                "baseModelIdentifier": "amazon.titan-text-express-v1", "customModelKmsKeyId": key,
                "jobTags": [{"key": OWNER, "value": "x"}]}
        self.allowed(rest("bedrock", "CreateModelCustomizationJob", "/model-customization-jobs", body))
        direct = authz.Request("kms:Decrypt", key, {"kms:ViaService": "s3.us-east-1.amazonaws.com"})
        self.assertIn("kms:ViaService", self.policy.evaluate(direct))
        stripped = authz.Policy([s for s in self.policy.statements
                                 if s["Sid"] != "UseCustomModelKeysThroughBedrockOnly"])
        why = authz.judge(stripped, rest("bedrock", "CreateModelCustomizationJob", "/model-customization-jobs",
                                         body), FakeState())
        self.assertIn("kms:", why or "")

    def test_pending_signals_only_under_the_prefix_and_with_the_stacks_key_via_ssm(self):
        key = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/SignalKey"
        body = {"Name": "/bedrock-customization-setup/stack-Customization-abc", "Value": "{}",
                "Type": "SecureString", "KeyId": key, "Overwrite": True, "Tier": "Standard"}
        self.allowed(authz.Parsed("ssm", "us-east-1", ACCOUNT, "PutParameter", "POST", "/", {}, {}, body))
        # Without the Standard tier (the account's default may be advanced)
        # SSM would need a data key, which the template does not grant.
        untiered = {k: v for k, v in body.items() if k != "Tier"}
        self.denied(authz.Parsed("ssm", "us-east-1", ACCOUNT, "PutParameter", "POST", "/", {}, {}, untiered),
                    mentions=["kms:GenerateDataKey"])
        elsewhere = dict(body, Name="/prod/database-password")
        self.denied(authz.Parsed("ssm", "us-east-1", ACCOUNT, "PutParameter", "POST", "/", {}, {}, elsewhere),
                    mentions=["ssm:PutParameter"])
        other_key = dict(body, KeyId=f"arn:aws:kms:us-east-1:{ACCOUNT}:key/someone-elses")
        self.denied(authz.Parsed("ssm", "us-east-1", ACCOUNT, "PutParameter", "POST", "/", {}, {}, other_key),
                    mentions=["kms:Encrypt"])
        sweep = {"Path": "/bedrock-customization-setup", "WithDecryption": True}
        self.allowed(authz.Parsed("ssm", "us-east-1", ACCOUNT, "GetParametersByPath", "POST", "/", {}, {}, sweep))
        direct = authz.Request("kms:Decrypt", key, {"kms:ViaService": "s3.us-east-1.amazonaws.com"})
        self.assertIn("kms:ViaService", self.policy.evaluate(direct))

    def test_an_operation_outside_the_table_is_refused(self):
        why = authz.judge(self.policy, query("iam", "CreateUser", UserName="x"), FakeState())
        self.assertIn("not in the test bed's authorization table", why)


class Evaluator(unittest.TestCase):
    def test_condition_operators(self):
        ctx = {"aws:TagKeys": ["a", "b"], "aws:RequestTag/a": "1"}
        hold = authz._condition_holds
        self.assertTrue(hold("Null", "aws:RequestTag/a", "false", {k.lower(): v for k, v in ctx.items()}))
        self.assertFalse(hold("Null", "aws:RequestTag/z", "false", {}))
        self.assertTrue(hold("ForAllValues:StringEquals", "aws:TagKeys", ["a", "b", "c"],
                             {"aws:tagkeys": ["a", "b"]}))
        self.assertFalse(hold("ForAllValues:StringEquals", "aws:TagKeys", ["a"], {"aws:tagkeys": ["a", "b"]}))
        self.assertTrue(hold("ForAnyValue:StringLike", "aws:TagKeys", ["b*"], {"aws:tagkeys": ["a", "bc"]}))
        self.assertTrue(hold("StringEqualsIfExists", "k", "v", {}))
        self.assertFalse(hold("StringEquals", "k", "v", {}))
        self.assertTrue(hold("StringLike", "k", "arn:*:x", {"k": "arn:aws:x"}))
        self.assertTrue(hold("StringNotEquals", "k", ["a"], {"k": "b"}))

    def test_arn_equals_is_arn_like(self):
        # IAM: ArnEquals takes wildcards like ArnLike (seed 002 and the trust
        # policy use `model-customization-job/*` under ArnEquals), each of the
        # six parts on its own: a `*` never spans a colon.
        hold = authz._condition_holds
        job = "arn:aws:bedrock:us-east-1:1:model-customization-job/j"
        self.assertTrue(hold("ArnEquals", "aws:SourceArn", "arn:aws:bedrock:us-east-1:1:model-customization-job/*",
                             {"aws:sourcearn": job}))
        self.assertTrue(hold("ArnLike", "aws:SourceArn", "arn:aws:bedrock:*:1:*", {"aws:sourcearn": job}))
        self.assertFalse(hold("ArnEquals", "aws:SourceArn", "arn:aws:bedrock:us-east-1:2:model-customization-job/*",
                              {"aws:sourcearn": job}))
        self.assertFalse(hold("ArnLike", "aws:SourceArn", "arn:aws:bedrock:*", {"aws:sourcearn": job}))
        self.assertFalse(hold("ArnNotEquals", "aws:SourceArn", "arn:aws:bedrock:us-east-1:1:*",
                              {"aws:sourcearn": job}))

    def test_explicit_deny_wins(self):
        p = authz.Policy([
            {"Sid": "A", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Sid": "D", "Effect": "Deny", "Action": "s3:PutBucketPolicy", "Resource": "arn:aws:s3:::b"},
        ])
        self.assertIsNone(p.evaluate(authz.Request("s3:GetBucketPolicy", "arn:aws:s3:::b")))
        self.assertIn("s3:PutBucketPolicy on arn:aws:s3:::b is explicitly denied by D", p.evaluate(authz.Request("s3:PutBucketPolicy", "arn:aws:s3:::b")))

    def test_wildcards(self):
        self.assertTrue(authz._glob("arn:aws:iam::1:role/p/*", "arn:aws:iam::1:role/p/x"))
        self.assertFalse(authz._glob("arn:aws:iam::1:role/p/*", "arn:aws:iam::1:role/x"))
        self.assertTrue(authz._glob("out?-b", "out1-b"))
        self.assertTrue(authz._glob("IAM:getrole", "iam:GetRole", case_sensitive=False))


class ApiModel(unittest.TestCase):
    def problems(self, service, operation, form=None, path="/", body=None):
        form = {k: [v] for k, v in (form or {}).items()}
        return api_model.problems_of(service, operation, "POST", path, {}, {}, form, body)

    def test_iam_create_role(self):
        ok = {"RoleName": "r", "AssumeRolePolicyDocument": "{}", "Path": "/bedrock-customization/"}
        self.assertEqual(self.problems("iam", "CreateRole", ok), [])
        self.assertTrue(self.problems("iam", "CreateRole", dict(ok, RoleName="x" * 65)))
        self.assertTrue(self.problems("iam", "CreateRole", {"RoleName": "r"}))  # no trust policy
        self.assertTrue(self.problems("iam", "CreateRole", dict(ok, Path="no-slashes")))

    def test_ec2_gateway_endpoint(self):
        ok = {"VpcId": "vpc-1", "ServiceName": "com.amazonaws.us-east-1.s3", "VpcEndpointType": "Gateway",
              "RouteTableId.1": "rtb-1"}
        self.assertEqual(self.problems("ec2", "CreateVpcEndpoint", ok), [])
        self.assertTrue(self.problems("ec2", "CreateVpcEndpoint", dict(ok, VpcEndpointType="Sideways")))
        self.assertTrue(self.problems("ec2", "CreateVpcEndpoint", dict(ok, **{"SubnetId.1": "subnet-1"})))
        self.assertTrue(self.problems("ec2", "CreateVpcEndpoint", {"ServiceName": "com.amazonaws.us-east-1.s3"}))

    def test_bedrock_job(self):
        import json
        job = {"jobName": "j", "customModelName": "m", "roleArn": f"arn:aws:iam::{ACCOUNT}:role/r",
               "baseModelIdentifier": "amazon.titan-text-express-v1",
               "trainingDataConfig": {"s3Uri": "s3://bucket-b/t"},
               "outputDataConfig": {"s3Uri": "s3://bucket-b/o"}}
        p = "/model-customization-jobs"
        self.assertEqual(self.problems("bedrock", "CreateModelCustomizationJob", path=p,
                                       body=json.dumps(job).encode()), [])
        distil = dict(job, customizationType="DISTILLATION")
        self.assertTrue(self.problems("bedrock", "CreateModelCustomizationJob", path=p,
                                      body=json.dumps(distil).encode()))
        distil["customizationConfig"] = {"distillationConfig": {"teacherModelConfig": {
            "teacherModelIdentifier": "amazon.nova-pro-v1:0", "maxResponseLengthForInference": 1000}}}
        self.assertEqual(self.problems("bedrock", "CreateModelCustomizationJob", path=p,
                                       body=json.dumps(distil).encode()), [])
        fine = dict(distil, customizationType="FINE_TUNING")
        self.assertTrue(self.problems("bedrock", "CreateModelCustomizationJob", path=p,
                                      body=json.dumps(fine).encode()))
        bad = dict(job, jobName="has spaces")
        self.assertTrue(self.problems("bedrock", "CreateModelCustomizationJob", path=p,
                                      body=json.dumps(bad).encode()))
        self.assertTrue(self.problems("bedrock", "CreateModelCustomizationJob", path=p,
                                      body=json.dumps({"jobName": "j"}).encode()))

    def test_section_8_job_shapes(self):
        import json
        p = "/model-customization-jobs"
        job = {"jobName": "j", "customModelName": "m", "roleArn": f"arn:aws:iam::{ACCOUNT}:role/r",
               "baseModelIdentifier": "amazon.nova-2-lite-v1:0",
               "customizationType": "REINFORCEMENT_FINE_TUNING",
               "trainingDataConfig": {"s3Uri": "s3://bucket-b/t"},
               "outputDataConfig": {"s3Uri": "s3://bucket-b/o"}}
        grader = {"lambdaGrader": {"lambdaArn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:reward"}}

        def problems(body):
            return self.problems("bedrock", "CreateModelCustomizationJob", path=p, body=json.dumps(body).encode())

        # RFT needs its rftConfig with a grader.
        self.assertTrue(problems(job))
        self.assertTrue(problems(dict(job, customizationConfig={"rftConfig": {}})))
        rft = dict(job, customizationConfig={"rftConfig": {"graderConfig": grader, "hyperParameters": {
            "epochCount": 2, "learningRate": 0.0010000000474974513, "reasoningEffort": "low"}}})
        # learningRate: the float nearest 1e-3, as the SDK sends an f32, is the bound itself.
        self.assertEqual(problems(rft), [])
        for name, value in (("epochCount", "2"), ("epochCount", 51), ("batchSize", 8),
                            ("learningRate", "0.0001"), ("learningRate", 0.0011), ("learningRate", 1e-8),
                            ("reasoningEffort", "max"), ("trainingSamplePerPrompt", 1.5)):
            bad = json.loads(json.dumps(rft))
            bad["customizationConfig"]["rftConfig"]["hyperParameters"][name] = value
            self.assertTrue(problems(bad), f"{name}={value!r}")
        wrong_arn = json.loads(json.dumps(rft))
        wrong_arn["customizationConfig"]["rftConfig"]["graderConfig"]["lambdaGrader"]["lambdaArn"] = "reward"
        self.assertTrue(problems(wrong_arn))
        # rftConfig belongs to RFT alone.
        self.assertTrue(problems(dict(rft, customizationType="FINE_TUNING")))
        # Invocation logs: distillation only, and instead of s3Uri.
        logs = {"invocationLogsConfig": {"usePromptResponse": True,
                                         "invocationLogSource": {"s3Uri": "s3://logs-b/AWSLogs/"},
                                         "requestMetadataFilters": {"equals": {"project": "a"}}}}
        distil = dict(job, customizationType="DISTILLATION", trainingDataConfig=logs,
                      customizationConfig={"distillationConfig": {"teacherModelConfig": {
                          "teacherModelIdentifier": "us.amazon.nova-premier-v1:0"}}})
        self.assertEqual(problems(distil), [])
        both = json.loads(json.dumps(distil))
        both["trainingDataConfig"]["s3Uri"] = "s3://bucket-b/t"
        self.assertTrue(problems(both))
        self.assertTrue(problems(dict(distil, customizationType="FINE_TUNING", customizationConfig=None)))
        two = json.loads(json.dumps(distil))
        two["trainingDataConfig"]["invocationLogsConfig"]["requestMetadataFilters"] = {
            "equals": {"a": "1"}, "notEquals": {"b": "2"}}
        self.assertTrue(problems(two))
        wide = json.loads(json.dumps(distil))
        wide["trainingDataConfig"]["invocationLogsConfig"]["requestMetadataFilters"] = {
            "equals": {"a": "1", "b": "2"}}
        self.assertTrue(problems(wide))


if __name__ == "__main__":
    unittest.main()
