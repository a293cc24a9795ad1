"""The Bedrock service role judged as Bedrock will use it: when the handler's
CreateModelCustomizationJob is accepted, the requests Bedrock makes for that
job (the trust with its source account and job ARN; reading the training,
validation or invocation-log data and listing their folders; writing the
output, through the S3 gateway endpoint and from the VPC when there is one;
the KMS keys; the ENIs of seed 002; the grader; the teacher's profile and
models) are put to both judges over the role's policies as the emulator holds
them at that moment, with the bucket's, the key's and the endpoint's own
policies. Each must be allowed, and each near miss (another job, another
prefix, another function, another model, another subnet, an ENI without
Bedrock's tags) denied, by both judges alike.

Which prefixes Bedrock lists: for a data location that is a folder (`p/`)
the folder itself and below; for a file (`p/data.jsonl`) the key itself, the
key as a folder, and the file's folder (`p/`), as the Bedrock user guide's
service-role page (seed 000) says to scope s3:ListBucket "with your folder
path"."""

import json

import authz
import second_judge


class Question:
    """One request Bedrock makes, and what answers for it."""

    def __init__(self, what, request, resource_policy=None, endpoint_policy=None, principal=None):
        self.what = what
        self.request = request
        self.resource_policy = resource_policy  # authz.ResourcePolicy or None
        self.endpoint_policy = endpoint_policy  # authz.ResourcePolicy (kind "endpoint") or None
        self.principal = principal  # None: the role; else a service principal


def _s3_location(uri):
    rest = uri[len("s3://"):]
    bucket, _, key = rest.partition("/")
    return bucket, key


def _sample_object(key):
    """An object Bedrock reads or writes at a location."""
    if not key:
        return "data.jsonl"
    return key + "part-00000.jsonl" if key.endswith("/") else key


def _listed_prefixes(key):
    if not key:
        return [""]
    if key.endswith("/"):
        return [key, key + "sub/"]
    prefixes = [key, key + "/"]
    if "/" in key:
        prefixes.append(key.rsplit("/", 1)[0] + "/")
    return prefixes


def _sibling(key):
    """A location beside the given one, which the role must not reach."""
    if "/" in key.rstrip("/"):
        return key.rstrip("/").rsplit("/", 1)[0] + "-other/" + key.rstrip("/").rsplit("/", 1)[1]
    return "other-" + (key or "data.jsonl")


class Setup:
    """What one accepted job request says, and the emulator's state for it."""

    def __init__(self, body, state):
        self.body = body
        self.state = state
        self.partition, self.region, self.account = state.partition, state.region, state.account
        self.role_arn = body.get("roleArn", "")
        self.role_name = self.role_arn.rsplit("/", 1)[-1]
        self.job_arn = f"arn:{self.partition}:bedrock:{self.region}:{self.account}:model-customization-job/" \
                       f"{body.get('jobName', '')}"
        self.vpc = body.get("vpcConfig") or None

    def role(self):
        from moto.iam.models import iam_backends

        return iam_backends[self.account][self.partition].get_role(self.role_name)

    def boundary_document(self):
        """The role's permissions boundary as a document, or None."""
        role = self.role()
        if not role.permissions_boundary_arn:
            return None
        from moto.iam.models import iam_backends

        try:
            policy = iam_backends[self.account][self.partition].get_policy(role.permissions_boundary_arn)
        except Exception:  # moto's not-found: no boundary to judge by
            return None
        doc = policy.get_policy_version(policy.default_version_id).document
        return json.loads(doc) if isinstance(doc, str) else doc

    def vpc_id(self):
        from moto.ec2.models import ec2_backends

        subnets = (self.vpc or {}).get("subnetIds") or []
        if not subnets:
            return None
        return ec2_backends[self.account][self.region].get_subnet(subnets[0]).vpc_id

    def endpoint(self, vpc_id):
        """The VPC's S3 gateway endpoint, if any: (id, its policy)."""
        from moto.ec2.models import ec2_backends

        backend = ec2_backends[self.account][self.region]
        for e in backend.vpc_end_points.values():
            if e.vpc_id == vpc_id and e.service_name.endswith(".s3") and e.state != "deleted":
                return e.id, authz.ResourcePolicy(json.loads(e.policy_document), "endpoint")
        return None


def questions(setup):
    """(must be allowed, must be denied): Bedrock's requests for the job."""
    allowed, denied = [], []
    p, region, account = setup.partition, setup.region, setup.account
    body = setup.body
    role = setup.role()
    trust = authz.ResourcePolicy(json.loads(role.assume_role_policy_document), "trust")
    service = "bedrock.amazonaws.com"
    assume = {"aws:SourceAccount": account, "aws:SourceArn": setup.job_arn}
    allowed.append(Question("Bedrock assumes the role for the job",
                            authz.Request("sts:AssumeRole", setup.role_arn, assume), trust, principal=service))
    denied.append(Question("Bedrock assumes the role for another account's job",
                           authz.Request("sts:AssumeRole", setup.role_arn,
                                         {"aws:SourceAccount": "210987654321",
                                          "aws:SourceArn": setup.job_arn.replace(account, "210987654321")}),
                           trust, principal=service))

    vpc_id = setup.vpc_id()
    endpoint = setup.endpoint(vpc_id) if vpc_id else None
    network = {}
    endpoint_policy = None
    if vpc_id:
        network["aws:SourceVpc"] = vpc_id
        if endpoint:
            network["aws:SourceVpce"] = endpoint[0]
            endpoint_policy = endpoint[1]

    def s3(what, action, arn, context=None, allow=True):
        bucket = arn.split(":::", 1)[1].split("/", 1)[0]
        ctx = dict(network)
        ctx.update(context or {})
        request = authz.Request(action, arn, ctx)
        q = Question(what, request, setup.state.resource_policy(authz.Request(action, f"arn:{p}:s3:::{bucket}")),
                     endpoint_policy)
        (allowed if allow else denied).append(q)

    training = body.get("trainingDataConfig") or {}
    reads = []
    if "s3Uri" in training:
        reads.append(("training data", training["s3Uri"]))
    logs = ((training.get("invocationLogsConfig") or {}).get("invocationLogSource") or {}).get("s3Uri")
    if logs:
        reads.append(("invocation logs", logs))
    for v in (body.get("validationDataConfig") or {}).get("validators") or []:
        reads.append(("validation data", v["s3Uri"]))
    for what, uri in reads:
        bucket, key = _s3_location(uri)
        s3(f"read the {what}", "s3:GetObject", f"arn:{p}:s3:::{bucket}/{_sample_object(key)}")
        for prefix in _listed_prefixes(key):
            s3(f"list the {what} at '{prefix}'", "s3:ListBucket", f"arn:{p}:s3:::{bucket}", {"s3:prefix": prefix})
        if key:
            s3(f"read beside the {what}", "s3:GetObject", f"arn:{p}:s3:::{bucket}/{_sibling(key)}", allow=False)
            s3(f"list beside the {what}", "s3:ListBucket", f"arn:{p}:s3:::{bucket}",
               {"s3:prefix": _sibling(key)}, allow=False)
        s3(f"write into the {what}", "s3:PutObject", f"arn:{p}:s3:::{bucket}/{_sample_object(key)}", allow=False)
    out_bucket, out_key = _s3_location((body.get("outputDataConfig") or {}).get("s3Uri", "s3://"))
    out_object = f"arn:{p}:s3:::{out_bucket}/{out_key}{'' if out_key.endswith('/') or not out_key else '/'}job/model.tar.gz"
    s3("write the output", "s3:PutObject", out_object)
    s3("read the output back", "s3:GetObject", out_object)
    s3("list the output", "s3:ListBucket", f"arn:{p}:s3:::{out_bucket}", {"s3:prefix": out_key})
    if out_key:
        s3("write beside the output", "s3:PutObject", f"arn:{p}:s3:::{out_bucket}/{_sibling(out_key)}/x",
           allow=False)

    kms_keys = [k for k in _granted_resources(role, "UseDataKeys") if k]
    for key in kms_keys:
        for action in ("kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"):
            r = authz.Request(action, key)
            allowed.append(Question(f"use the data key ({action})", r, setup.state.resource_policy(r)))
    model_key = body.get("customModelKmsKeyId")
    if model_key:
        for action in ("kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:CreateGrant"):
            r = authz.Request(action, model_key)
            allowed.append(Question(f"use the model key ({action})", r, setup.state.resource_policy(r)))
    other_key = f"arn:{p}:kms:{region}:{account}:key/00000000-0000-4000-8000-000000000000"
    r = authz.Request("kms:Decrypt", other_key)
    denied.append(Question("use a key the setup does not name", r, setup.state.resource_policy(r)))

    if setup.vpc:
        ec2 = f"arn:{p}:ec2:{region}:{account}"
        tags = {"aws:RequestTag/BedrockManaged": "true", "aws:RequestTag/BedrockModelCustomizationJobArn": setup.job_arn,
                "aws:TagKeys": ["BedrockManaged", "BedrockModelCustomizationJobArn"]}
        allowed.append(Question("create the job's ENI", authz.Request("ec2:CreateNetworkInterface",
                                                                      f"{ec2}:network-interface/*", tags)))
        for s in setup.vpc.get("subnetIds") or []:
            allowed.append(Question(f"create the ENI in {s}", authz.Request("ec2:CreateNetworkInterface",
                                                                           f"{ec2}:subnet/{s}")))
        for g in setup.vpc.get("securityGroupIds") or []:
            allowed.append(Question(f"create the ENI with {g}", authz.Request("ec2:CreateNetworkInterface",
                                                                             f"{ec2}:security-group/{g}")))
        allowed.append(Question("tag the ENI at creation", authz.Request(
            "ec2:CreateTags", f"{ec2}:network-interface/*",
            {"ec2:CreateAction": "CreateNetworkInterface", "aws:RequestTag/BedrockManaged": "true",
             "aws:RequestTag/BedrockModelCustomizationJobArn": setup.job_arn,
             "aws:TagKeys": ["BedrockManaged", "BedrockModelCustomizationJobArn"]})))
        allowed.append(Question("describe the network", authz.Request("ec2:DescribeNetworkInterfaces", "*")))
        first_subnet = (setup.vpc.get("subnetIds") or ["subnet-0"])[0]
        ours = {"ec2:Subnet": f"{ec2}:subnet/{first_subnet}", "ec2:ResourceTag/BedrockManaged": "true",
                "ec2:ResourceTag/BedrockModelCustomizationJobArn": setup.job_arn}
        allowed.append(Question("delete the job's ENI", authz.Request(
            "ec2:DeleteNetworkInterface", f"{ec2}:network-interface/eni-0123456789abcdef0", ours)))
        denied.append(Question("create an ENI without Bedrock's tags", authz.Request(
            "ec2:CreateNetworkInterface", f"{ec2}:network-interface/*",
            {"aws:RequestTag/BedrockManaged": "false", "aws:TagKeys": ["BedrockManaged"]})))
        denied.append(Question("create an ENI in a subnet the setup does not name", authz.Request(
            "ec2:CreateNetworkInterface", f"{ec2}:subnet/subnet-0fffffffffffffff0")))
        theirs = dict(ours)
        theirs["ec2:ResourceTag/BedrockModelCustomizationJobArn"] = setup.job_arn.replace(account, "210987654321")
        denied.append(Question("delete another account's job's ENI", authz.Request(
            "ec2:DeleteNetworkInterface", f"{ec2}:network-interface/eni-0123456789abcdef1", theirs)))

    config = body.get("customizationConfig") or {}
    grader = (((config.get("rftConfig") or {}).get("graderConfig") or {}).get("lambdaGrader") or {}).get("lambdaArn")
    if grader:
        allowed.append(Question("invoke the grader", authz.Request("lambda:InvokeFunction", grader)))
        base = ":".join(grader.split(":")[:7])
        denied.append(Question("invoke another function", authz.Request("lambda:InvokeFunction", base + "-other")))
    teacher = (((config.get("distillationConfig") or {}).get("teacherModelConfig") or {})
               .get("teacherModelIdentifier"))
    if teacher and authz.is_inference_profile(teacher):
        for arn in _granted_resources(role, "InvokeTheTeacherThroughItsInferenceProfile"):
            allowed.append(Question("invoke the teacher", authz.Request("bedrock:InvokeModel", arn)))
        denied.append(Question("invoke another model", authz.Request(
            "bedrock:InvokeModel", f"arn:{p}:bedrock:{region}::foundation-model/amazon.nova-pro-v1:0")))
    return allowed, denied


def _inline(role):
    for name, doc in role.policies.items():
        yield name, json.loads(doc) if isinstance(doc, str) else doc


def _granted_resources(role, sid):
    """The resources of the role's statement `sid`, in whichever policy."""
    for _, doc in _inline(role):
        for s in authz._as_list(doc.get("Statement")):
            if s.get("Sid") == sid:
                yield from authz._as_list(s.get("Resource"))


def first_verdict(q, identity, boundary, role_arn, account):
    """authz.py's verdict, reason or None."""
    if q.principal is None:
        why = identity.evaluate(q.request)
        if why:
            return why
        if boundary is not None:
            why = boundary.evaluate(q.request)
            if why:
                return f"the permissions boundary: {why}"
    principal = q.principal or role_arn
    for policy in (q.resource_policy, q.endpoint_policy):
        if policy is not None:
            why = policy.verdict(q.request, principal, account)
            if why:
                return why
    return None


def judge(body, state, second):
    """Every way the service role fails Bedrock's needs or allows a near miss,
    or the judges differ: a list of sentences (empty when all is well)."""
    return judge_setup(Setup(body, state), second)


def judge_setup(setup, second):
    """judge() over a Setup, which a test may build without the emulator."""
    statements = authz.named_statements(_inline(setup.role()))
    identity = authz.Policy(statements)
    boundary_doc = setup.boundary_document()
    boundary = authz.Policy(authz._as_list(boundary_doc.get("Statement"))) if boundary_doc else None
    problems = []
    allowed, denied = questions(setup)
    for expected_allowed, qs in ((True, allowed), (False, denied)):
        for q in qs:
            first = first_verdict(q, identity, boundary, setup.role_arn, setup.account)
            if expected_allowed and first:
                problems.append(f"{q.what}: {q.request} is refused: {first}")
            if not expected_allowed and not first:
                problems.append(f"{q.what}: {q.request} is allowed, and must not be")
            if second is None:
                continue
            sim = second_judge.simulation(
                q.principal or setup.role_arn, setup.account, [] if q.principal else statements, q.request,
                resource_policy=q.resource_policy, endpoint_policy=q.endpoint_policy, boundary=boundary_doc)
            differs = second_judge.compare(first, second.simulate(sim))
            if differs:
                problems.append(f"{q.what}: {q.request}: {differs}")
    return problems
