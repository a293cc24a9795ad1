"""The service-role judge (service_role.py) on roles written here, without
the emulator: the role the handler writes passes, and each way a role can be
too narrow for Bedrock or too wide for a near miss is named, by both judges.
Run by `make test`, after `make judge` installed the Node tools."""

import copy
import json
import types
import unittest

import authz
import second_judge
import service_role

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/bedrock-customization-setup-ServiceRole"
JOB = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:model-customization-job/setup-job"
GRADER = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:reward"

TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "bedrock.amazonaws.com"}, "Action": "sts:AssumeRole",
    "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT},
                  "ArnEquals": {"aws:SourceArn": f"arn:aws:bedrock:us-east-1:{ACCOUNT}:model-customization-job/*"}}}]}

# The shape the handler writes for s3://training-bucket/train/data.jsonl and
# s3://output-bucket/runs/ (src/policy/s3_access.rs).
DATA_ACCESS = {"Version": "2012-10-17", "Statement": [
    {"Sid": "ReadTrainingAndValidationData", "Effect": "Allow", "Action": ["s3:GetObject"],
     "Resource": ["arn:aws:s3:::training-bucket/train/data.jsonl", "arn:aws:s3:::training-bucket/train/data.jsonl/*"]},
    {"Sid": "ListTrainingAndValidationData0", "Effect": "Allow", "Action": ["s3:ListBucket"],
     "Resource": "arn:aws:s3:::training-bucket",
     "Condition": {"StringLike": {"s3:prefix": ["train/data.jsonl", "train/data.jsonl/*", "train/"]}}},
    {"Sid": "WriteOutputData", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
     "Resource": ["arn:aws:s3:::output-bucket/runs/*"]},
    {"Sid": "ListOutputData0", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": "arn:aws:s3:::output-bucket",
     "Condition": {"StringLike": {"s3:prefix": ["runs/*"]}}},
]}

GRADER_ACCESS = {"Version": "2012-10-17", "Statement": [
    {"Sid": "InvokeTheGrader", "Effect": "Allow", "Action": ["lambda:InvokeFunction"], "Resource": [GRADER]}]}

BODY = {"roleArn": ROLE, "jobName": "setup-job",
        "trainingDataConfig": {"s3Uri": "s3://training-bucket/train/data.jsonl"},
        "outputDataConfig": {"s3Uri": "s3://output-bucket/runs/"}}


class NoResourcePolicies:
    account, region, partition = ACCOUNT, "us-east-1", "aws"

    def resource_policy(self, request):
        return None


class RoleAsWritten(service_role.Setup):
    """A Setup whose role is given, not read from the emulator."""

    def __init__(self, body, policies, trust=TRUST):
        super().__init__(body, NoResourcePolicies())
        self._role = types.SimpleNamespace(assume_role_policy_document=json.dumps(trust),
                                           policies={k: json.dumps(v) for k, v in policies.items()},
                                           permissions_boundary_arn=None)

    def role(self):
        return self._role

    def boundary_document(self):
        return None

    def vpc_id(self):
        return None


JUDGE = second_judge.SecondJudge()


def tearDownModule():
    JUDGE.close()


def problems(body=BODY, policies=None, trust=TRUST):
    policies = policies if policies is not None else {"BedrockCustomizationDataAccess": DATA_ACCESS}
    return service_role.judge_setup(RoleAsWritten(body, policies, trust), JUDGE)


def with_statement(sid, **changes):
    doc = copy.deepcopy(DATA_ACCESS)
    for s in doc["Statement"]:
        if s["Sid"] == sid:
            s.update(changes)
    return doc


class ServiceRole(unittest.TestCase):
    def test_the_role_as_the_handler_writes_it_passes(self):
        self.assertEqual(problems(), [])

    def test_a_listing_without_the_files_folder_is_found(self):
        # The prefixes before issue 23: the file and the file as a folder.
        narrow = with_statement("ListTrainingAndValidationData0", Condition={
            "StringLike": {"s3:prefix": ["train/data.jsonl", "train/data.jsonl/*"]}})
        found = problems(policies={"BedrockCustomizationDataAccess": narrow})
        self.assertEqual(len(found), 1, found)
        self.assertIn("list the training data at 'train/'", found[0])
        self.assertIn("is refused", found[0])

    def test_a_read_of_the_whole_bucket_is_a_near_miss_allowed(self):
        wide = with_statement("ReadTrainingAndValidationData", Resource=["arn:aws:s3:::training-bucket/*"])
        found = problems(policies={"BedrockCustomizationDataAccess": wide})
        self.assertTrue(any("read beside the training data" in p and "must not be" in p for p in found), found)

    def test_a_listing_by_a_prefix_without_its_slash_is_a_near_miss_allowed(self):
        # `train*` also lists `train-other/`, a folder the setup never named.
        wide = with_statement("ListTrainingAndValidationData0", Condition={
            "StringLike": {"s3:prefix": ["train*"]}})
        found = problems(policies={"BedrockCustomizationDataAccess": wide})
        self.assertEqual(len(found), 1, found)
        self.assertIn("list beside the training data", found[0])
        self.assertIn("must not be", found[0])

    def test_a_trust_without_the_source_account_is_found(self):
        loose = copy.deepcopy(TRUST)
        del loose["Statement"][0]["Condition"]
        found = problems(trust=loose)
        self.assertTrue(any("another account's job" in p and "must not be" in p for p in found), found)

    def test_a_grader_grant_on_every_function_is_found(self):
        body = dict(BODY, customizationConfig={"rftConfig": {"graderConfig": {"lambdaGrader": {"lambdaArn": GRADER}}}})
        ours = {"BedrockCustomizationDataAccess": DATA_ACCESS, "BedrockCustomizationGraderAccess": GRADER_ACCESS}
        self.assertEqual(problems(body, ours), [])
        every = copy.deepcopy(GRADER_ACCESS)
        every["Statement"][0]["Resource"] = [f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:*"]
        found = problems(body, {"BedrockCustomizationDataAccess": DATA_ACCESS,
                                "BedrockCustomizationGraderAccess": every})
        self.assertTrue(any("invoke another function" in p for p in found), found)
        missing = problems(body, {"BedrockCustomizationDataAccess": DATA_ACCESS})
        self.assertTrue(any("invoke the grader" in p and "is refused" in p for p in missing), missing)

    def test_the_judges_are_asked_the_same_question(self):
        # authz.py alone, with no second judge, gives the same findings as
        # the pair when they agree: the second adds verdicts, not findings.
        setup = RoleAsWritten(BODY, {"BedrockCustomizationDataAccess": DATA_ACCESS})
        self.assertEqual(service_role.judge_setup(setup, None), [])
        allowed, denied = service_role.questions(setup)
        self.assertGreater(len(allowed), 5)
        self.assertGreater(len(denied), 3)
        self.assertTrue(all(isinstance(q.request, authz.Request) for q in allowed + denied))


if __name__ == "__main__":
    unittest.main()
