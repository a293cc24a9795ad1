"""The test bed the scripts share (local_run, bench, bench_propagation,
watch, compare_behaviour): the emulator (moto behind
tests/emulator/moto_wrapper.py), the user's own infrastructure in it, and a
fake Lambda Runtime API that also receives the answers sent to the
ResponseURL (tests/emulator/runtime_api.py, which the Rust tests run too).
The deployment it stands for is tests/emulator/deployment.json, as in the
Rust tests."""

import json
import re
import subprocess
import sys
from pathlib import Path

import boto3
from botocore.config import Config

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests/emulator"))
from runtime_api import RuntimeApi  # noqa: E402
_DEPLOYMENT = json.loads((ROOT / "tests/emulator/deployment.json").read_text())
REGION = _DEPLOYMENT["Region"]
OWNER_TAG = "bedrock-customization-setup:id"


# The handler signs with this key; the emulator judges its requests against
# template.yaml deployed with these parameters, as real IAM would.
HANDLER_KEY = _DEPLOYMENT["HandlerAccessKey"]
DEPLOYMENT = {"RolePath": _DEPLOYMENT["RolePath"], "OutputBucketPattern": "demo-customization-output",
              "SignalKey.Arn": _DEPLOYMENT["SignalKeyArn"]}


def start_reporting_port(args, what):
    """A test-bed process (the emulator, the TLS peer) that prints `PORT <n>`
    on its first line once it listens: (process, port)."""
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline().strip()
    if not line.startswith("PORT "):
        proc.kill()
        raise SystemExit(f"{what} did not start: {line!r}")
    return proc, int(line.split()[1])


def start_emulator():
    judge = ["--template", str(ROOT / "template.yaml"), "--principal-key", HANDLER_KEY,
             f"--param=AWS::Region={REGION}"] + [f"--param={k}={v}" for k, v in DEPLOYMENT.items()]
    proc, port = start_reporting_port(
        [sys.executable, str(ROOT / "tests/emulator/moto_wrapper.py"), "--port", "0"] + judge, "emulator")
    return proc, f"http://127.0.0.1:{port}"


def clients(endpoint):
    kw = dict(endpoint_url=endpoint, region_name=REGION,
              aws_access_key_id="testing", aws_secret_access_key="testing")
    return {
        "iam": boto3.client("iam", **kw),
        "ec2": boto3.client("ec2", **kw),
        "s3": boto3.client("s3", config=Config(s3={"addressing_style": "path"}), **kw),
        "bedrock": boto3.client("bedrock", **kw),
        "kms": boto3.client("kms", **kw),
        "lambda": boto3.client("lambda", **kw),
    }


def prepare(c):
    """The user's own infrastructure, which the resource uses but never creates."""
    ec2 = c["ec2"]
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    s1 = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    s2 = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24", AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
    sg = ec2.create_security_group(GroupName="bedrock-jobs", Description="jobs", VpcId=vpc)["GroupId"]
    rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=rt, SubnetId=s1)
    for b in ("demo-training-data", "demo-customization-output"):
        c["s3"].create_bucket(Bucket=b)
    # The data the sample events name, for the pre-flight checks.
    events = "".join((ROOT / "events" / n).read_text()
                     for n in ("create.json", "update-replacement.json", "create-rft.json"))
    for uri in sorted(set(re.findall(r"s3://demo-training-data/[^\"]*", events))):
        key = uri.split("/", 3)[3]
        c["s3"].put_object(Bucket="demo-training-data", Key=key + ("placeholder.jsonl" if key.endswith("/") else ""),
                           Body=b'{"prompt": "p", "completion": "c"}\n')
    # The sample events' key ARNs stand for keys of this emulator.
    keys = {arn: c["kms"].create_key(Description="demo")["KeyMetadata"]["Arn"]
            for arn in sorted(set(re.findall(r"arn:aws:kms:[^\"]+", events)))}
    # The reward function of the reinforcement fine-tuning sample (an empty
    # archive: the emulator never runs it).
    for arn in sorted(set(re.findall(r"arn:aws:lambda:[^\"]+:function:demo-reward[^\"]*", events))):
        name = arn.rsplit(":", 1)[-1]
        role = c["iam"].create_role(RoleName=f"{name}-execution", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                    "Principal": {"Service": "lambda.amazonaws.com"}}]}))
        c["lambda"].create_function(FunctionName=name, Runtime="python3.12", Handler="reward.handler",
                                    Role=role["Role"]["Arn"], Code={"ZipFile": EMPTY_ZIP})
    # The bucket owner's own statement, which the handler must keep.
    c["s3"].put_bucket_policy(Bucket="demo-customization-output", Policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                       "Resource": "arn:aws:s3:::demo-customization-output/*",
                       "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}))
    return {"subnet-0123456789abcdef0": s1, "subnet-0123456789abcdef1": s2, "sg-0123456789abcdef0": sg,
            "vpc": vpc, "own_route_table": rt, **keys}


EMPTY_ZIP = b"PK\x05\x06" + b"\x00" * 18


def inventory(c):
    out = {"roles": [], "s3_gateway_endpoints": [], "output_bucket_policy_sids": [], "jobs": [], "custom_models": []}
    for r in c["iam"].list_roles()["Roles"]:
        tags = {t["Key"]: t["Value"] for t in c["iam"].list_role_tags(RoleName=r["RoleName"])["Tags"]}
        out["roles"].append({"name": r["RoleName"], "path": r["Path"], "owner": tags.get(OWNER_TAG),
                             "inline_policies": c["iam"].list_role_policies(RoleName=r["RoleName"])["PolicyNames"]})
    for e in c["ec2"].describe_vpc_endpoints()["VpcEndpoints"]:
        if e["State"].lower() == "deleted":
            continue
        tags = {t["Key"]: t["Value"] for t in e.get("Tags", [])}
        out["s3_gateway_endpoints"].append({"id": e["VpcEndpointId"], "route_tables": sorted(e["RouteTableIds"]),
                                            "owner": tags.get(OWNER_TAG)})
    try:
        pol = json.loads(c["s3"].get_bucket_policy(Bucket="demo-customization-output")["Policy"])
        out["output_bucket_policy_sids"] = [s.get("Sid") for s in pol["Statement"]]
    except c["s3"].exceptions.ClientError:
        out["output_bucket_policy_sids"] = "(no policy)"
    for j in c["bedrock"].list_model_customization_jobs()["modelCustomizationJobSummaries"]:
        job = c["bedrock"].get_model_customization_job(jobIdentifier=j["jobName"])
        entry = {"name": j["jobName"], "status": j["status"], "type": job.get("customizationType")}
        if job.get("customizationConfig"):
            entry["customizationConfig"] = job["customizationConfig"]
        out["jobs"].append(entry)
    out["custom_models"] = [m["modelName"] for m in c["bedrock"].list_custom_models()["modelSummaries"]]
    return out



def control(endpoint, method, path, body=None):
    """One call of the emulator's control API (`/_emulator/...`, moto_wrapper.py)."""
    import urllib.request
    req = urllib.request.Request(endpoint + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None)
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read() or b"null")


def violations(endpoint):
    """What the handler did that real AWS would have refused (see moto_wrapper.py)."""
    return control(endpoint, "GET", "/_emulator/violations")


def serve_local():
    """The fake Runtime API (tests/emulator/runtime_api.py, the Rust tests'
    too) on a free port, served in the background: (server, port)."""
    local = RuntimeApi().serve_in_background()
    return local, local.port


def function_env(port, endpoint):
    """The environment Lambda gives the function, pointed at the emulator."""
    import os
    return dict(_DEPLOYMENT["LambdaEnvironment"], PATH=os.environ.get("PATH", ""),
                AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{port}", RUST_LOG="warn", **handler_env(endpoint))


def handler_env(endpoint):
    """What the deployment sets for the handler itself (tests/emulator/deployment.json, as
    the Rust tests set it), pointed at the emulator when `endpoint` is given."""
    env = dict(_DEPLOYMENT["HandlerEnvironment"], AWS_REGION=REGION, AWS_ACCESS_KEY_ID=HANDLER_KEY,
               AWS_SECRET_ACCESS_KEY=_DEPLOYMENT["HandlerSecretKey"], MANAGED_ROLE_PATH=DEPLOYMENT["RolePath"],
               SIGNAL_KEY_ID=DEPLOYMENT["SignalKey.Arn"])
    if endpoint:
        env["AWS_ENDPOINT_URL"] = endpoint
    return env


def sample_event(name, ids, port, physical_id=None, properties=None):
    """An event of events/, pointed at this machine's emulator ids and answer URL."""
    import urllib.parse
    text = (ROOT / "events" / name).read_text()
    for sample, real in ids.items():
        if sample.startswith(("subnet-", "sg-", "arn:aws:kms:")):
            text = text.replace(sample, real)
    event = json.loads(text)
    if "ResponseURL" in event:
        query = urllib.parse.urlsplit(event["ResponseURL"]).query
        event["ResponseURL"] = f"http://127.0.0.1:{port}/cfn-response/{event['RequestId']}?{query}"
    # The WaitConditionHandle is this machine's too.
    for props in (event.get("ResourceProperties"), event.get("OldResourceProperties")):
        job = (props or {}).get("Job") or {}
        if "CompletionSignalUrl" in job:
            query = urllib.parse.urlsplit(job["CompletionSignalUrl"]).query
            job["CompletionSignalUrl"] = f"http://127.0.0.1:{port}/wait-condition/ModelTrainedHandle?{query}"
    if physical_id:
        event["PhysicalResourceId"] = physical_id
    if properties is not None:
        event["ResourceProperties"] = properties
    return event
