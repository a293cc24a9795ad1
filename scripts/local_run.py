"""Runs the handler end to end on this machine: Create -> Update (in place, adding
a Deployment) -> the job completes (the deployment is made; once Active, the
signal carries its ARN) -> Update (replacement) -> Delete (old, its deployment
first) ->
Delete (new), then a reinforcement fine-tuning Create and its Delete, on the
sample events in events/, against the local AWS emulator.

It starts the emulator, prepares a VPC, subnets, a security group, route tables
and buckets in it, serves the events to the real bootstrap binary through a
fake Lambda Runtime API, receives the answers at a fake ResponseURL, and prints
each answer and what exists in the emulator after each step.

Usage: python scripts/local_run.py --bootstrap target/debug/bootstrap [--record FILE]

With --record, what the handler did in each step (its AWS requests, from the
emulator's request log, and its answer) is written to FILE as JSON, so two
binaries can be compared step by step (scripts/compare_behaviour.py).
"""

import argparse
import json
import re
import subprocess
import sys
import time

from testbed import (DEPLOYMENT, clients, control, function_env, inventory, prepare, sample_event, serve_local,
                        start_emulator, violations)


class Steps:
    """What the handler did in each step: the requests it signed (service,
    operation and SDK attempt, in the order the emulator received them) and
    what it answered, with the emulator's generated ids masked so that two runs
    can be compared."""

    GENERATED = re.compile(r"[0-9a-f]{8,}")

    def __init__(self, endpoint):
        self.endpoint = endpoint
        self.seen = len(control(endpoint, "GET", "/_emulator/requests"))
        self.steps = []

    def mark(self, name, answer=None):
        log = control(self.endpoint, "GET", "/_emulator/requests")
        calls = [f"{e['service']}:{e['operation']}#{e.get('attempt') or 1}"
                 for e in log[self.seen:] if e.get("by_handler")]
        self.seen = len(log)
        masked = None if answer is None else json.loads(self.GENERATED.sub("<id>", json.dumps(answer, sort_keys=True)))
        self.steps.append({"step": f"{len(self.steps) + 1}. {name}", "calls": calls, "answer": masked})


def training_ends(c, local, ids, port, job_name, deployment_name, steps):
    """The job completes: Bedrock's state-change event (events/job-state-change.json)
    reaches the function, which asks for the model's deployment; once Bedrock
    reports it Active, the scheduled sweep (events/sweep.json) signals the
    stack's WaitConditionHandle with the deployment's ARN."""
    emulator_job_status(c, job_name, "Completed")
    event = sample_event("job-state-change.json", ids, port)
    event["detail"]["jobName"] = job_name
    local.invoke(event["id"], event, int((time.time() + 300) * 1000))
    local.reported.get(timeout=30)
    steps.mark("the job's state-change event (Completed)")
    made = c["bedrock"].get_custom_model_deployment(customModelDeploymentIdentifier=deployment_name)
    print(f"== the job completed; Bedrock's event -> deployment {deployment_name} requested "
          f"({made['status']}); no signal while it is being created")
    control(c["bedrock"].meta.endpoint_url, "POST", "/_emulator/bedrock/deployment-status",
            {"name": deployment_name, "status": "Active"})
    sweep = sample_event("sweep.json", ids, port)
    local.invoke(sweep["id"], sweep, int((time.time() + 300) * 1000))
    local.reported.get(timeout=30)
    try:
        signal = local.signals.get(timeout=10)
    except Exception:
        print("== the deployment is Active, but no completion signal arrived\n")
        steps.mark("the sweep once the deployment is Active")
        return None
    steps.mark("the sweep once the deployment is Active", {"signal": signal["body"]})
    print(f"== Bedrock reports the deployment Active; the sweep -> completion signal sent to the "
          f"WaitConditionHandle, its Data the ARN to invoke (Content-Type: {signal['content_type']!r}):")
    print("   " + json.dumps(signal["body"], indent=2).replace("\n", "\n   ") + "\n")
    return signal


def grader_policy(c, role):
    return c["iam"].get_role_policy(RoleName=role, PolicyName="BedrockCustomizationGraderAccess")["PolicyDocument"]


def emulator_job_status(c, job_name, status):
    """moto leaves jobs InProgress; the emulator's control call ends one."""
    import urllib.request
    endpoint = c["bedrock"].meta.endpoint_url
    body = json.dumps({"account": "123456789012", "region": "us-east-1", "job_name": job_name,
                       "status": status}).encode()
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/_emulator/bedrock/job-status", data=body,
                                                  method="POST")).read()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--record", help="write what the handler did in each step to this JSON file")
    args = parser.parse_args()

    emulator, endpoint = start_emulator()
    local, port = serve_local()
    function = None
    try:
        c = clients(endpoint)
        ids = prepare(c)
        steps = Steps(endpoint)
        print(f"emulator at {endpoint}; prepared VPC {ids['vpc']} with subnets "
              f"{ids['subnet-0123456789abcdef0']}, {ids['subnet-0123456789abcdef1']} and buckets\n")
        function = subprocess.Popen([args.bootstrap], env=function_env(port, endpoint))

        def send(name, physical_id=None, properties=None, deployment=None):
            event = sample_event(name, ids, port, physical_id, properties)
            if deployment is not None:
                event["ResourceProperties"]["Deployment"] = deployment
            local.invoke(event["RequestId"], event, int((time.time() + 300) * 1000))
            answer = local.answers.get(timeout=300)
            reported = local.reported.get(timeout=30)
            body = answer["body"]
            print(f"== {event['RequestType']} ({name}) -> {body['Status']}")
            print(f"   answer sent to CloudFormation (Content-Type: {answer['content_type']!r}):")
            print("   " + json.dumps(body, indent=2).replace("\n", "\n   "))
            print("   what exists in the emulator now:")
            print("   " + json.dumps(inventory(c), indent=2).replace("\n", "\n   "))
            print(f"   runtime told: {reported['kind']}\n")
            steps.mark(f"{event['RequestType']} ({name})", body)
            return event, body

        _, created = send("create.json")
        pid = created["PhysicalResourceId"]
        # In place: a Deployment (SPEC section 8) that the completion path
        # makes once the job has Completed.
        in_place_event, in_place = send("update-in-place.json", physical_id=pid, deployment={"Type": "OnDemand"})
        signal = training_ends(c, local, ids, port, created["Data"]["JobName"], in_place["Data"]["DeploymentName"],
                               steps)
        replaced_event, replaced = send("update-replacement.json", physical_id=pid)
        # The old setup's Delete carries its last properties: its deployment goes first.
        _, old_gone = send("delete.json", physical_id=pid, properties=in_place_event["ResourceProperties"])
        _, last = send("delete.json", physical_id=replaced["PhysicalResourceId"],
                       properties=replaced_event["ResourceProperties"])
        # Reinforcement fine-tuning (SPEC section 8): a grader function and
        # typed hyperparameters in the job's rftConfig; the role may invoke
        # that function alone.
        _, rft = send("create-rft.json")
        print("   the role's grader policy: " + json.dumps(grader_policy(c, rft["Data"]["RoleName"])) + "\n")
        _, rft_gone = send("delete-rft.json", physical_id=rft["PhysicalResourceId"])
        deployment_gone = "custom model deployment" in old_gone.get("Reason", "")
        ok = created["Status"] == replaced["Status"] == last["Status"] == "SUCCESS" and signal is not None \
            and deployment_gone \
            and rft["Status"] == rft_gone["Status"] == "SUCCESS"
        print("all steps answered SUCCESS" if ok else "a step did not succeed")
        refused = violations(endpoint)
        roles_judged = control(endpoint, "GET", "/_emulator/service-roles-judged")["judged"]
        print(f"every AWS request was judged against template.yaml's execution role "
              f"(deployed with {DEPLOYMENT}) by two IAM judges (the test bed's and "
              f"@cloud-copilot/iam-simulate over AWS's action data) and the services' API models, "
              f"and the service role of each of the {roles_judged} accepted jobs by the requests "
              f"Bedrock makes for it: {len(refused)} would have been refused by real AWS")
        for v in refused:
            print(f"   {v['kind']} {v['service']}:{v['operation']}: {v['detail']}")
        if args.record:
            with open(args.record, "w") as f:
                json.dump(steps.steps, f, indent=1)
        return 0 if ok and not refused else 1
    finally:
        if function:
            function.kill()
        emulator.terminate()
        local.shutdown()


if __name__ == "__main__":
    sys.exit(main())
