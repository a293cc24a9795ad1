"""The handler's requests judged as real AWS would judge them, which moto
does not: authorization by the execution role of `--template` (authz.py),
a second verdict from an independent simulator (second_judge.py), the
service's API model (api_model.py), and the Bedrock service role of every
accepted job (service_role.py). What real AWS would refuse is recorded in
VIOLATIONS (`GET /_emulator/violations`)."""

import json
import threading
import urllib.parse

import api_model
import authz
import second_judge
import service_role
from routing import access_key

LOCK = threading.Lock()
# What the handler did that real AWS would refuse: (kind, operation, detail).
VIOLATIONS = []
# The second judge (tests/judge), beside authz.py whenever a template is given.
SECOND = {"judge": None}
# How many accepted jobs had their service role judged (service_role.py).
SERVICE_ROLES_JUDGED = [0]
# The judge of the handler's requests, when the wrapper was given a template.
JUDGE = {"policy": None, "principal_key": None, "account": "123456789012", "partition": "aws",
         "region": "us-east-1"}


def configure(template, params, principal_key, with_second_judge):
    """Judges the requests signed with `principal_key` by `template`'s
    execution role, deployed with `params` (pseudo parameters included)."""
    if principal_key:
        JUDGE["principal_key"] = principal_key
    if not template:
        return
    JUDGE["account"], JUDGE["partition"] = params["AWS::AccountId"], params["AWS::Partition"]
    JUDGE["region"] = params["AWS::Region"]
    JUDGE["policy"] = authz.execution_policy(template, params)
    if with_second_judge:
        SECOND["judge"] = second_judge.SecondJudge()
        # Started now, so that a missing install fails the start, not a request.
        SECOND["judge"].ask({"op": "grants", "statements": []})


def record(kind, service, operation, detail):
    with LOCK:
        VIOLATIONS.append({"kind": kind, "service": service, "operation": operation, "detail": detail})


def violations(take=False):
    with LOCK:
        found = list(VIOLATIONS)
        if take:
            VIOLATIONS.clear()
    return found


def service_roles_judged():
    with LOCK:
        return SERVICE_ROLES_JUDGED[0]


def evaluate(ask):
    """The test bed's IAM evaluator on one document the handler wrote (a
    service role's policy): why `action` on `resource` is denied, or None."""
    statements = authz._as_list(ask["policy"].get("Statement"))
    return authz.Policy(statements).evaluate(authz.Request(ask["action"], ask["resource"], ask.get("context")))


def signed_by_handler(environ):
    if JUDGE["principal_key"] is None or JUDGE["policy"] is None:
        return False
    return access_key(environ) == JUDGE["principal_key"]


def judge_service_role(body, region):
    """The service role of an accepted job, judged as Bedrock will use it
    (service_role.py); each failing need or allowed near miss recorded."""
    try:
        job = json.loads(body or b"{}")
    except ValueError:
        return
    state = authz.State(JUDGE["account"], region, JUDGE["partition"])
    problems = service_role.judge(job, state, SECOND["judge"])
    for p in problems:
        record("service-role", "bedrock", "CreateModelCustomizationJob", p)
    with LOCK:
        SERVICE_ROLES_JUDGED[0] += 1


def judge(environ, service, region, operation, body, entry):
    """("denied" | "disagreement" | "invalid", why) when real AWS would refuse
    the handler's request or the judges differ; None otherwise, and for
    requests not signed by the handler. `entry` (the request log's) counts
    the questions put to each judge."""
    if JUDGE["principal_key"] is None or access_key(environ) != JUDGE["principal_key"]:
        return None
    path = urllib.parse.unquote(environ.get("PATH_INFO", ""))
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    form = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True) \
        if service in ("iam", "ec2") else {}
    body_json = None
    if service in ("bedrock", "kms", "ssm") and body:
        try:
            body_json = json.loads(body)
        except ValueError:
            body_json = None
    if JUDGE["policy"] is not None:
        parsed = authz.Parsed(service, region, JUDGE["account"], operation,
                              environ.get("REQUEST_METHOD"), path, query, form, body_json)
        state = authz.State(JUDGE["account"], region, JUDGE["partition"])
        violation = authorize(parsed, state, entry)
        if violation:
            return violation
    headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
    problems = api_model.problems_of(service, operation, environ.get("REQUEST_METHOD"), path, query,
                                     headers, form, body)
    if problems:
        return "invalid", f"{operation}: " + "; ".join(problems)
    return None


def authorize(parsed, state, entry):
    """Both judges on every (action, resource) question of one request:
    ("denied", why) when IAM would refuse it, ("disagreement", why) when the
    two judges differ or the pair is one AWS never evaluates; None when
    both allow it."""
    reqs = authz.questions(parsed, state)
    if reqs is None:
        return "denied", authz.judge(JUDGE["policy"], parsed, state)
    principal, _ = authz.handler_principal(state)
    entry["judged"] = len(reqs)
    entry["second_verdicts"] = 0
    for r in reqs:
        why = authz.verdict(JUDGE["policy"], r, state)
        if SECOND["judge"] is not None:
            entry["second_verdicts"] += 1
            sim = second_judge.simulation(principal, state.account, JUDGE["policy"].statements, r,
                                          resource_policy=state.resource_policy(r))
            differs = second_judge.compare(why, SECOND["judge"].simulate(sim))
            if differs:
                return "disagreement", f"{parsed.operation}: {r.action} on {r.resource}: {differs}"
        if why:
            return "denied", f"{parsed.operation}: {why}"
    return None
