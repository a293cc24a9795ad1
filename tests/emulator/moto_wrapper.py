"""The project's local AWS: moto's WSGI app behind a thin wrapper of our own.

The wrapper adds what the tests need and moto 5.2.5 lacks:
- Bedrock Get* responses carry timestamps like `2026-11-25 20:40:50`, which
  the Rust SDK refuses; they are rewritten to RFC 3339.
- Bedrock job and model identifiers given as ARNs are not found by moto;
  they are reduced to the name (moto's ARNs end in the name).
- A request log (`GET /_emulator/requests`), so tests count calls (each entry
  says whether the handler's key signed it: `by_handler`).
- A latency model of real AWS for `make bench` (`latency_model.py`,
  `POST /_emulator/latency-model`): per-call latency per service and IAM
  propagation of new roles, seeded; off unless a bench or test asks.
- Per-operation fault and delay injection (`POST /_emulator/faults`): AWS
  error answers (also after the call took effect: `conflict_after`, Bedrock's
  ConflictException), connections dropped before or after the call took effect,
  slow answers (the call still takes effect, late) and hung calls (no answer,
  no effect, until the faults are cleared); `GET /_emulator/inflight` says how
  many requests are still being served, so a test can wait for late effects.
- Warmed before it reports its port: moto builds each service's app, reads
  its model and builds the endpoint service catalogue on first use, holding
  every other request meanwhile (`warm`).
- Setting a job's status (`POST /_emulator/bedrock/job-status`): moto
  leaves jobs InProgress forever.
- Custom model deployments and provisioned throughput (`deployments.py`):
  moto has neither; a deployment's status is set with `POST
  /_emulator/bedrock/deployment-status`.
- The authorization judge on one policy document (`POST /_emulator/evaluate`),
  so tests ask of a service role's policies what they ask of the handler's.
- A foundation-model catalogue (`foundation_models.json`): moto has none, so
  GetFoundationModel and ListFoundationModels are answered here, shaped like
  Bedrock's, for every region but China's (where moto has no Bedrock).
- Cross-region inference profiles (`inference_profiles.json`): moto has
  none, so GetInferenceProfile is answered here, shaped like Bedrock's, for
  the profiles of the request's geography.
- A customization job keeps what was sent: moto drops `customizationConfig`
  (rftConfig, distillationConfig) and refuses a `trainingDataConfig` without
  `s3Uri` (invocation logs), which the real API accepts; both are kept and
  returned by GetModelCustomizationJob as Bedrock returns them.
- Idempotency tokens: a repeated EC2 `Create*` call with the same
  ClientToken, or a repeated CreateModelCustomizationJob with the same
  clientRequestToken, gets the first call's answer, as from EC2 and Bedrock
  (moto would create a twin, or refuse the name). A repeat that arrives while
  the first is still being served (a retry after a timed-out attempt) waits
  for it, as the services' own deduplication does.
- A repeated DeleteVpcEndpoints of an endpoint already deleted succeeds
  (moto removes its routes again and fails with InvalidRoute.NotFound, so a
  retry after a lost answer could never succeed).

And it judges the handler's requests as real AWS would, which moto does not:
- authorization (`authz.py`): every request signed with the handler's access
  key (`--principal-key`) is checked against the execution role's policies in
  `--template`, with the deployment's `--param` values; a request the
  template does not allow is answered AccessDenied in the service's wire
  format and recorded; the bucket's or key's own policy in the emulator at
  that moment is judged too;
- the Bedrock service role of every accepted job (`service_role.py`): the
  requests Bedrock makes for that job, allowed, and their near misses denied,
  by both judges (`GET /_emulator/service-roles-judged` counts the jobs);
- a second verdict (`second_judge.py`, the Node tools of `tests/judge`): the
  same questions put to an independent IAM simulator over AWS's Service
  Authorization Reference; a pair AWS never evaluates, a condition key the
  action does not have, or a verdict that differs from authz.py's is
  recorded as a `disagreement` (and answered AccessDenied);
- validity (`api_model.py`): the same requests are checked against the
  service's API model and answered with the service's validation error.
Recorded violations are read at `GET /_emulator/violations`; the Rust test
bed fails every test that leaves one it did not expect.

Usage: python moto_wrapper.py [--host 127.0.0.1] [--port 0]
           [--template template.yaml --param RolePath=/x/ ... --principal-key KEY]
It prints `PORT <n>` once it listens, so a test never guesses a port.
"""

import argparse
import io
import json
import logging
import re
import signal
import socket
import sys
import threading
import time
import os
import urllib.parse

from werkzeug.serving import make_server

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import api_model  # noqa: E402
import authz  # noqa: E402
import catalogue  # noqa: E402
import deployments  # noqa: E402
import latency_model  # noqa: E402
import moto_patches  # noqa: E402
import second_judge  # noqa: E402
import service_role  # noqa: E402

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    create_backend_app,
)

LOCK = threading.Lock()
REQUESTS = []
RULES = []
# EC2 and Bedrock answer a repeated idempotency token with the first call's
# result; moto ignores tokens, so the wrapper replays:
# (service, operation, token) -> response. One lock per token, held while
# its first call runs: moto serves requests on threads, and two copies of one
# create running at once would both take effect.
TOKENS = {}
TOKEN_LOCKS = {}
# What the handler did that real AWS would refuse: (kind, operation, detail).
VIOLATIONS = []
# Requests being served now (a slow one may land after its client gave up).
INFLIGHT = [0]
# Bumped when the faults are cleared: hung requests then give up at once.
FAULT_EPOCH = [0]
# The second judge (tests/judge), beside authz.py whenever a template is given.
SECOND = {"judge": None}
# How many accepted jobs had their service role judged (service_role.py).
SERVICE_ROLES_JUDGED = [0]
# The latency model of real AWS (latency_model.py), when a bench switched it on.
LATENCY = [None]
# The judge of the handler's requests, when the wrapper was given a template.
JUDGE = {"policy": None, "principal_key": None, "account": "123456789012", "partition": "aws",
         "region": "us-east-1"}

CREDENTIAL = re.compile(r"Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
TIMESTAMP = re.compile(rb'"(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(\.\d+)?"')
ARN_IDENTIFIER = re.compile(
    r"^/(model-customization-jobs|custom-models)/(arn:[^/]+/)([^/]+)(/stop)?$"
)

BEDROCK_ROUTES = [
    ("POST", re.compile(r"^/model-customization-jobs$"), "CreateModelCustomizationJob"),
    ("GET", re.compile(r"^/model-customization-jobs$"), "ListModelCustomizationJobs"),
    ("GET", re.compile(r"^/model-customization-jobs/[^/]+$"), "GetModelCustomizationJob"),
    ("POST", re.compile(r"^/model-customization-jobs/[^/]+/stop$"), "StopModelCustomizationJob"),
    ("GET", re.compile(r"^/custom-models$"), "ListCustomModels"),
    ("GET", re.compile(r"^/foundation-models$"), "ListFoundationModels"),
    ("GET", re.compile(r"^/foundation-models/[^/]+$"), "GetFoundationModel"),
    ("GET", re.compile(r"^/inference-profiles/.+$"), "GetInferenceProfile"),
    ("GET", re.compile(r"^/custom-models/[^/]+$"), "GetCustomModel"),
    ("DELETE", re.compile(r"^/custom-models/[^/]+$"), "DeleteCustomModel"),
    ("POST", re.compile(r"^/listTagsForResource$"), "ListTagsForResource"),
    ("POST", re.compile(r"^/tagResource$"), "TagResource"),
    ("POST", re.compile(r"^/untagResource$"), "UntagResource"),
] + [(m_, re.compile(p), op) for m_, p, op in deployments.ROUTES]


def classify(environ, body):
    """(service, region, operation) of one request."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    m = CREDENTIAL.search(auth)
    if m:
        region, service = m.group(2), m.group(3)
    elif "X-Amz-Credential" in query:
        parts = query["X-Amz-Credential"][0].split("/")
        region, service = (parts[2], parts[3]) if len(parts) > 3 else ("", "s3")
    else:
        region, service = "", "unknown"
    method = environ.get("REQUEST_METHOD", "GET")
    path = environ.get("PATH_INFO", "")
    if service in ("kms", "ssm"):
        # JSON protocol: the operation is named in a header.
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        return service, region, target.split(".", 1)[-1] or "?"
    if service in ("iam", "ec2", "sts"):
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
        action = (form.get("Action") or query.get("Action") or ["?"])[0]
        return service, region, action
    if service == "s3":
        if "location" in query:
            return service, region, "GetBucketLocation"
        if query.get("list-type") == ["2"]:
            return service, region, "ListObjectsV2"
        if "policy" in query:
            return service, region, {"GET": "GetBucketPolicy", "PUT": "PutBucketPolicy",
                                     "DELETE": "DeleteBucketPolicy"}.get(method, method + "BucketPolicy")
        return service, region, "S3" + method.title()
    if service == "lambda":
        if method == "GET" and re.match(r"^/2015-03-31/functions/[^/]+$", path):
            return service, region, "GetFunction"
        return service, region, "Lambda" + method.title()
    if service == "bedrock":
        for m_, pattern, op in BEDROCK_ROUTES:
            if m_ == method and pattern.match(path):
                return service, region, op
        return service, region, "Bedrock" + method.title()
    return service, region, method


def error_response(service, kind, message=None):
    """Status, headers and body of an injected error, as each protocol sends it."""
    if kind == "denied":
        codes = {"iam": (403, "AccessDenied"), "ec2": (403, "UnauthorizedOperation"),
                 "s3": (403, "AccessDenied"), "bedrock": (403, "AccessDeniedException"),
                 "lambda": (403, "AccessDeniedException"), "ssm": (400, "AccessDeniedException"),
                 "kms": (400, "AccessDeniedException")}
    elif kind == "invalid":
        codes = {"iam": (400, "ValidationError"), "ec2": (400, "InvalidParameterValue"),
                 "s3": (400, "InvalidArgument"), "bedrock": (400, "ValidationException"),
                 "lambda": (400, "InvalidParameterValueException"), "ssm": (400, "ValidationException")}
    elif kind == "throttle":
        codes = {"iam": (400, "Throttling"), "ec2": (503, "RequestLimitExceeded"),
                 "s3": (503, "SlowDown"), "bedrock": (429, "ThrottlingException"),
                 "lambda": (429, "TooManyRequestsException"), "ssm": (400, "ThrottlingException"),
                 "kms": (400, "ThrottlingException")}
    elif kind == "assume_role":
        codes = {"bedrock": (400, "ValidationException")}
    elif kind == "conflict":
        codes = {"bedrock": (400, "ConflictException")}
    else:
        codes = {"iam": (500, "ServiceFailure"), "ec2": (500, "InternalError"),
                 "s3": (500, "InternalError"), "bedrock": (500, "InternalServerException"),
                 "lambda": (500, "ServiceException"), "ssm": (500, "InternalServerError"),
                 "kms": (500, "KMSInternalException")}
    status, code = codes.get(service, (500, "InternalError"))
    if message is None:
        message = ("Could not assume provided IAM role. Make sure the role has the proper trust relationship."
                   if kind == "assume_role" else "injected by the test emulator")
    # SSM and KMS speak awsJson1_1: the code travels in the body's __type.
    json_protocol = service in ("bedrock", "lambda", "ssm", "kms")
    message = message.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") \
        if not json_protocol else message
    if json_protocol:
        payload = {"message": message}
        if service in ("ssm", "kms"):
            payload["__type"] = code
        return status, [("Content-Type", "application/x-amz-json-1.1" if "__type" in payload
                         else "application/json"), ("x-amzn-ErrorType", code)], json.dumps(payload).encode()
    if service == "ec2":
        body = (f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>"
                f"<RequestID>injected</RequestID></Response>")
    elif service == "s3":
        body = f"<Error><Code>{code}</Code><Message>{message}</Message><RequestId>injected</RequestId></Error>"
    else:
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message>"
                f"</Error><RequestId>injected</RequestId></ErrorResponse>")
    return status, [("Content-Type", "text/xml")], body.encode()


def matching_rule(service, operation):
    """The first rule that applies, consuming one of its uses."""
    with LOCK:
        for rule in RULES:
            if rule.get("service") not in (None, "*", service):
                continue
            if rule.get("operation") not in (None, "*", operation):
                continue
            if rule.get("skip", 0) > 0:
                rule["skip"] -= 1
                continue
            times = rule.get("times", 1)
            if times == 0:
                continue
            if times > 0:
                rule["times"] = times - 1
            return dict(rule)
    return None


def sdk_attempt(environ):
    """The SDK's attempt number (`amz-sdk-request: attempt=2; max=4`): 1 for
    a first try, or a client that does not say."""
    m = re.search(r"attempt=(\d+)", environ.get("HTTP_AMZ_SDK_REQUEST", ""))
    return int(m.group(1)) if m else 1


def drop_connection(environ):
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    raise ConnectionAbortedError("connection dropped by the test emulator")





def request_region(environ):
    """The region the request was signed for."""
    m = CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    return m.group(2) if m else "us-east-1"


def control(environ, start_response, body):
    path = environ["PATH_INFO"]
    method = environ["REQUEST_METHOD"]
    result = {"ok": True}
    if path == "/_emulator/requests" and method == "GET":
        with LOCK:
            result = list(REQUESTS)
    elif path == "/_emulator/requests" and method == "DELETE":
        with LOCK:
            REQUESTS.clear()
    elif path == "/_emulator/faults" and method == "POST":
        rules = json.loads(body or b"{}").get("rules", [])
        with LOCK:
            RULES.extend(rules)
    elif path == "/_emulator/faults" and method == "DELETE":
        with LOCK:
            RULES.clear()
            FAULT_EPOCH[0] += 1
    elif path == "/_emulator/inflight" and method == "GET":
        with LOCK:
            result = {"inflight": INFLIGHT[0]}
    elif path == "/_emulator/bedrock/job-status" and method == "POST":
        moto_patches.set_job_status(json.loads(body))
    elif path == "/_emulator/bedrock/deployment-status" and method == "POST":
        payload = json.loads(body or b"{}")
        if "auto_ready_s" in payload:
            deployments.ready_after(payload["auto_ready_s"])
        else:
            deployments.set_status(payload)
    elif path == "/_emulator/violations" and method == "GET":
        with LOCK:
            result = list(VIOLATIONS)
    elif path == "/_emulator/violations" and method == "DELETE":
        with LOCK:
            result = list(VIOLATIONS)
            VIOLATIONS.clear()
    elif path == "/_emulator/latency-model" and method == "POST":
        LATENCY[0] = latency_model.LatencyModel(json.loads(body or b"{}"))
    elif path == "/_emulator/latency-model" and method == "DELETE":
        LATENCY[0] = None
    elif path == "/_emulator/propagation" and method == "GET":
        result = LATENCY[0].report() if LATENCY[0] is not None else []
    elif path == "/_emulator/service-roles-judged" and method == "GET":
        with LOCK:
            result = {"judged": SERVICE_ROLES_JUDGED[0]}
    elif path == "/_emulator/evaluate" and method == "POST":
        # The test bed's IAM evaluator on one document the handler wrote (a
        # service role's policy): may `action` be done on `resource`?
        ask = json.loads(body)
        statements = authz._as_list(ask["policy"].get("Statement"))
        why = authz.Policy(statements).evaluate(
            authz.Request(ask["action"], ask["resource"], ask.get("context")))
        result = {"denied": why}
    elif path == "/_emulator/health":
        pass
    else:
        start_response("404 Not Found", [("Content-Type", "application/json")])
        return [b'{"ok": false}']
    data = json.dumps(result).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def signed_by_handler(environ):
    if JUDGE["principal_key"] is None or JUDGE["policy"] is None:
        return False
    m = CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    return bool(m) and m.group(1) == JUDGE["principal_key"]


def judge_service_role(body, region):
    """The service role of an accepted job, judged as Bedrock will use it
    (service_role.py); each failing need or allowed near miss recorded."""
    try:
        job = json.loads(body or b"{}")
    except ValueError:
        return
    state = authz.State(JUDGE["account"], region, JUDGE["partition"])
    problems = service_role.judge(job, state, SECOND["judge"])
    with LOCK:
        for p in problems:
            VIOLATIONS.append({"kind": "service-role", "service": "bedrock",
                               "operation": "CreateModelCustomizationJob", "detail": p})
        SERVICE_ROLES_JUDGED[0] += 1


def judge(environ, service, region, operation, body, entry):
    """("denied" | "disagreement" | "invalid", why) when real AWS would refuse
    the handler's request or the judges differ; None otherwise, and for
    requests not signed by the handler. `entry` (the request log's) counts
    the questions put to each judge."""
    if JUDGE["principal_key"] is None:
        return None
    m = CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    if not m or m.group(1) != JUDGE["principal_key"]:
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


def idempotency_token(service, operation, body):
    """The token by which the real service answers a repeated create with
    the first one's result, or None: EC2's ClientToken, Bedrock's
    clientRequestToken of a customization job."""
    if service == "ec2" and operation.startswith("Create"):
        token = urllib.parse.parse_qs(body.decode("utf-8", "replace")).get("ClientToken")
        return token[0] if token else None
    if service == "bedrock" and operation == "CreateModelCustomizationJob":
        try:
            token = json.loads(body or b"{}").get("clientRequestToken")
        except (ValueError, AttributeError):
            return None
        return token if isinstance(token, str) and token else None
    return None


class Wrapper:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        if environ.get("PATH_INFO", "").startswith("/_emulator/"):
            return control(environ, start_response, body)
        with LOCK:
            INFLIGHT[0] += 1
        try:
            return self.serve(environ, start_response, body)
        finally:
            with LOCK:
                INFLIGHT[0] -= 1

    def serve(self, environ, start_response, body):

        m = ARN_IDENTIFIER.match(environ.get("PATH_INFO", ""))
        if m:
            environ["PATH_INFO"] = f"/{m.group(1)}/{m.group(3)}{m.group(4) or ''}"
            environ["RAW_URI"] = environ["REQUEST_URI"] = environ["PATH_INFO"]
        service, region, operation = classify(environ, body)
        entry = {"service": service, "region": region, "operation": operation,
                 "method": environ.get("REQUEST_METHOD"), "at": time.time(),
                 "attempt": sdk_attempt(environ), "by_handler": signed_by_handler(environ)}
        violation = judge(environ, service, region, operation, body, entry)
        if violation is not None:
            kind, detail = violation
            entry["violation"] = kind
            with LOCK:
                REQUESTS.append(entry)
                VIOLATIONS.append({"kind": kind, "service": service, "operation": operation,
                                   "detail": detail})
            answered = "invalid" if kind == "invalid" else "denied"
            status, headers, data = error_response(service, answered, detail)
            headers.append(("Content-Length", str(len(data))))
            start_response(f"{status} {'Bad Request' if answered == 'invalid' else 'Forbidden'}", headers)
            return [data]
        rule = matching_rule(service, operation)
        if rule is not None:
            entry["fault"] = rule.get("kind")
        model = LATENCY[0] if signed_by_handler(environ) else None
        refused = model is not None and operation == "CreateModelCustomizationJob" and model.refuses_submission(
            (json.loads(body or b"{}").get("roleArn") or "").rsplit("/", 1)[-1], entry["at"])
        if refused:
            entry["fault"] = "propagation"
        with LOCK:
            REQUESTS.append(entry)
        if model is not None:
            time.sleep(model.call_latency(service))
        if refused:
            status, headers, data = error_response(service, "assume_role", latency_model.NOT_ASSUMABLE)
            headers.append(("Content-Length", str(len(data))))
            start_response(f"{status} Bad Request", headers)
            return [data]

        if rule is not None:
            kind = rule.get("kind")
            if kind == "delay":
                time.sleep(rule.get("delay_ms", 100) / 1000.0)
            elif kind == "hang":
                # No answer and no effect: a call lost on its way. It gives
                # up when the faults are cleared, so no thread outlives a test.
                with LOCK:
                    epoch = FAULT_EPOCH[0]
                until = time.time() + rule.get("delay_ms", 60000) / 1000.0
                while time.time() < until and FAULT_EPOCH[0] == epoch:
                    time.sleep(0.05)
                drop_connection(environ)
            elif kind == "drop":
                drop_connection(environ)
            elif kind == "drop_after":
                # The call takes effect; only its response is lost.
                self.forward(environ, service, operation, body)
                drop_connection(environ)
            elif kind == "conflict_after":
                # The call takes effect and is answered as a repeat whose
                # token the service no longer holds: its name is taken.
                self.forward(environ, service, operation, body)
                status, headers, data = error_response(service, "conflict")
                headers.append(("Content-Length", str(len(data))))
                start_response(f"{status} Injected", headers)
                return [data]
            else:
                status, headers, data = error_response(service, kind)
                headers.append(("Content-Length", str(len(data))))
                start_response(f"{status} Injected", headers)
                return [data]

        status, headers, data = self.forward(environ, service, operation, body)
        entry["end"] = time.time()
        if model is not None and operation in latency_model.ROLE_WRITES and status.startswith("2"):
            name = urllib.parse.parse_qs(body.decode(errors="replace")).get("RoleName", [""])[0]
            model.role_written(name, entry["end"])
        if operation == "CreateModelCustomizationJob" and status.startswith("2") and signed_by_handler(environ):
            judge_service_role(body, region)
        start_response(status, headers)
        return [data]

    def forward(self, environ, service, operation, body):
        """moto's answer, as AWS would give it: (status, headers, body); a
        repeated idempotency token gets the first successful answer."""
        token = idempotency_token(service, operation, body)
        if token is None:
            return self.answer(environ, service, operation)
        key = (service, operation, token)
        with LOCK:
            first = TOKEN_LOCKS.setdefault(key, threading.Lock())
        with first:
            with LOCK:
                cached = TOKENS.get(key)
            if cached is None:
                cached = self.answer(environ, service, operation)
                if cached[0].startswith("2"):
                    with LOCK:
                        TOKENS[key] = cached
            return cached

    def answer(self, environ, service, operation):
        if service == "bedrock" and operation in ("GetFoundationModel", "ListFoundationModels"):
            return catalogue.foundation_models(environ, operation, request_region(environ))
        if service == "bedrock" and operation == "GetInferenceProfile":
            return catalogue.inference_profile(environ, request_region(environ), JUDGE["account"])
        if service == "bedrock" and operation in deployments.OPERATIONS:
            return self.deployment(environ, operation)
        if service == "bedrock" and operation in ("ListTagsForResource", "TagResource", "UntagResource"):
            served = deployments.serve_tags(operation, environ["wsgi.input"].getvalue())
            if served is not None:
                return served
        if service == "bedrock" and operation == "DeleteCustomModel":
            model = urllib.parse.unquote(environ.get("PATH_INFO", "")).rsplit("/", 1)[-1]
            if deployments.model_in_use(model):
                status, headers, data = error_response(
                    "bedrock", "conflict", f"The custom model {model} is in use by a deployment.")
                return "400 Bad Request", headers + [("Content-Length", str(len(data)))], data
        if service == "bedrock":
            status, headers, data = self.collect(environ)
            data = TIMESTAMP.sub(rb'"\1T\2Z"', data)
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            headers.append(("Content-Length", str(len(data))))
            return status, headers, data
        return self.collect(environ)

    def deployment(self, environ, operation):
        """A deployment or throughput call, served by `deployments.py` over
        the custom models moto holds."""
        from moto.bedrock.models import bedrock_backends

        m = CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
        region = m.group(2) if m else "us-east-1"
        backend = bedrock_backends[JUDGE["account"]][region]

        def model_exists(identifier):
            try:
                backend.get_custom_model((identifier or "").rsplit("/", 1)[-1])
                return True
            except Exception:
                return False

        return deployments.serve(operation, environ.get("PATH_INFO", ""),
                                 environ["wsgi.input"].getvalue(), region, JUDGE["account"], model_exists)

    def collect(self, environ):
        """Runs moto and returns (status, headers, body) whole."""
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda _data: None

        chunks = self.app(environ, capture)
        try:
            data = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        return captured["status"], captured["headers"], data


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--template", help="judge the handler's requests by this SAM template's execution role")
    parser.add_argument("--param", action="append", default=[],
                        help="NAME=VALUE: a template parameter or pseudo parameter (AWS::Region, ...)")
    parser.add_argument("--principal-key", help="the access key id the handler signs with")
    parser.add_argument("--no-second-judge", action="store_true",
                        help="judge with authz.py alone (the Node tools of tests/judge not installed)")
    args = parser.parse_args()
    if args.principal_key:
        JUDGE["principal_key"] = args.principal_key
    if args.template:
        params = {"AWS::Partition": "aws", "AWS::Region": "us-east-1", "AWS::AccountId": "123456789012",
                  "AWS::StackName": "bedrock-customization-setup"}
        for p in args.param:
            k, _, v = p.partition("=")
            params[k] = v
        JUDGE["account"], JUDGE["partition"] = params["AWS::AccountId"], params["AWS::Partition"]
        JUDGE["region"] = params["AWS::Region"]
        JUDGE["policy"] = authz.execution_policy(args.template, params)
        if not args.no_second_judge:
            SECOND["judge"] = second_judge.SecondJudge()
            # Started now, so that a missing install fails the start, not a request.
            SECOND["judge"].ask({"op": "grants", "statements": []})
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    moto_patches.idempotent_endpoint_delete()
    moto_patches.jobs_keep_what_was_sent()
    dispatcher = DomainDispatcherApplication(create_backend_app)
    warm(dispatcher, JUDGE["account"], JUDGE["region"])
    app = Wrapper(dispatcher)
    server = make_server(args.host, args.port, app, threaded=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"PORT {server.server_port}", flush=True)
    threading.Thread(target=exit_with_parent, args=(os.getppid(),), daemon=True).start()
    server.serve_forever()


def exit_with_parent(parent):
    """A test that aborts (a stack overflow runs no destructor) must not leave
    its emulator running: exit once the process that started it is gone."""
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


# Every service the handler and the tests call.
SERVICES = ("iam", "ec2", "s3", "bedrock", "kms", "ssm", "lambda")


def warm(dispatcher, account, region):
    """Does, before the port is reported, the work moto leaves to a
    service's first request, so the first answers come as fast as the later
    ones (real AWS has no cold first call; the handler's per-attempt timeout
    does not know moto has one):
    - the service's app: moto builds it under one lock that every request of
      every service waits on, and for EC2 that takes a second idle and
      several on a busy machine (seen: every call of a handler's first round
      trip held for 6.6 s; stack dumps of stalled emulators showed request
      threads waiting in `get_application` while one read a botocore model);
    - the service's botocore model, read on its first request;
    - the VPC endpoint service catalogue, built on the first
      DescribeVpcEndpointServices by instantiating every service's backend.
    About a second more per start, idle."""
    from moto.core.utils import get_service_model
    from moto.ec2.models.vpcs import VPCBackend

    for service in SERVICES:
        backend = dispatcher.get_backend_for_host(f"{service}.{region}.amazonaws.com")
        with dispatcher.lock:
            if backend not in dispatcher.app_instances:
                dispatcher.app_instances[backend] = dispatcher.create_app(backend)
        get_service_model(service)
    VPCBackend._collect_default_endpoint_services(account, region)


if __name__ == "__main__":
    main()
