"""The project's local AWS: moto's WSGI app behind a thin wrapper of our own.

The wrapper adds what the tests need and moto 5.2.5 lacks:
- Bedrock Get* responses carry timestamps like `2026-11-25 20:40:50`, which
  the Rust SDK refuses; they are rewritten to RFC 3339.
- Bedrock job and model identifiers given as ARNs are not found by moto;
  they are reduced to the name (moto's ARNs end in the name; `routing.py`,
  which also tells each request's service and operation).
- A request log (`GET /_emulator/requests`), so tests count calls (each entry
  says whether the handler's key signed it: `by_handler`).
- A latency model of real AWS for `make bench` (`latency_model.py`,
  `POST /_emulator/latency-model`): per-call latency per service and IAM
  propagation of new roles, seeded; off unless a bench or test asks.
- Per-operation fault and delay injection (`faults.py`, `POST /_emulator/faults`): AWS
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
- Idempotency tokens (`idempotency.py`): a repeated EC2 `Create*` call with the same
  ClientToken, or a repeated CreateModelCustomizationJob with the same
  clientRequestToken, gets the first call's answer, as from EC2 and Bedrock
  (moto would create a twin, or refuse the name). A repeat that arrives while
  the first is still being served (a retry after a timed-out attempt) waits
  for it, as the services' own deduplication does.
- A repeated DeleteVpcEndpoints of an endpoint already deleted succeeds
  (moto removes its routes again and fails with InvalidRoute.NotFound, so a
  retry after a lost answer could never succeed).

And it judges the handler's requests as real AWS would, which moto does not
(`judging.py`):
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
import os
import re
import signal
import sys
import threading
import time
import urllib.parse

from werkzeug.serving import make_server

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import catalogue  # noqa: E402
import deployments  # noqa: E402
import faults  # noqa: E402
import idempotency  # noqa: E402
import judging  # noqa: E402
import latency_model  # noqa: E402
import moto_patches  # noqa: E402
import routing  # noqa: E402
from judging import JUDGE  # noqa: E402

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    create_backend_app,
)

LOCK = threading.Lock()
# The request log (`GET /_emulator/requests`).
REQUESTS = []
# Requests being served now (a slow one may land after its client gave up).
INFLIGHT = [0]
# The latency model of real AWS (latency_model.py), when a bench switched it on.
LATENCY = [None]
TIMESTAMP = re.compile(rb'"(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(\.\d+)?"')


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
        faults.add(json.loads(body or b"{}").get("rules", []))
    elif path == "/_emulator/faults" and method == "DELETE":
        faults.clear()
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
        result = judging.violations()
    elif path == "/_emulator/violations" and method == "DELETE":
        result = judging.violations(take=True)
    elif path == "/_emulator/latency-model" and method == "POST":
        LATENCY[0] = latency_model.LatencyModel(json.loads(body or b"{}"))
    elif path == "/_emulator/latency-model" and method == "DELETE":
        LATENCY[0] = None
    elif path == "/_emulator/propagation" and method == "GET":
        result = LATENCY[0].report() if LATENCY[0] is not None else []
    elif path == "/_emulator/service-roles-judged" and method == "GET":
        result = {"judged": judging.service_roles_judged()}
    elif path == "/_emulator/evaluate" and method == "POST":
        result = {"denied": judging.evaluate(json.loads(body))}
    elif path == "/_emulator/health":
        pass
    else:
        start_response("404 Not Found", [("Content-Type", "application/json")])
        return [b'{"ok": false}']
    data = json.dumps(result).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


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
        routing.name_arn_identifiers(environ)
        service, region, operation = routing.classify(environ, body)
        by_handler = judging.signed_by_handler(environ)
        entry = {"service": service, "region": region, "operation": operation,
                 "method": environ.get("REQUEST_METHOD"), "at": time.time(),
                 "attempt": routing.sdk_attempt(environ), "by_handler": by_handler}
        violation = judging.judge(environ, service, region, operation, body, entry)
        if violation is not None:
            kind, detail = violation
            entry["violation"] = kind
            with LOCK:
                REQUESTS.append(entry)
            judging.record(kind, service, operation, detail)
            answered = "invalid" if kind == "invalid" else "denied"
            return faults.error_answer(start_response, service, answered, detail,
                                       "Bad Request" if answered == "invalid" else "Forbidden")
        rule = faults.matching_rule(service, operation)
        if rule is not None:
            entry["fault"] = rule.get("kind")
        model = LATENCY[0] if by_handler else None
        refused = model is not None and operation == "CreateModelCustomizationJob" and model.refuses_submission(
            (json.loads(body or b"{}").get("roleArn") or "").rsplit("/", 1)[-1], entry["at"])
        if refused:
            entry["fault"] = "propagation"
        with LOCK:
            REQUESTS.append(entry)
        if model is not None:
            time.sleep(model.call_latency(service))
        if refused:
            return faults.error_answer(start_response, service, "assume_role", latency_model.NOT_ASSUMABLE,
                                       "Bad Request")

        if rule is not None:
            injected = faults.inject(rule, service, environ, start_response,
                                     lambda: self.forward(environ, service, operation, body))
            if injected is not None:
                return injected

        status, headers, data = self.forward(environ, service, operation, body)
        entry["end"] = time.time()
        if model is not None and operation in latency_model.ROLE_WRITES and status.startswith("2"):
            name = urllib.parse.parse_qs(body.decode(errors="replace")).get("RoleName", [""])[0]
            model.role_written(name, entry["end"])
        if operation == "CreateModelCustomizationJob" and status.startswith("2") and by_handler:
            judging.judge_service_role(body, region)
        start_response(status, headers)
        return [data]

    def forward(self, environ, service, operation, body):
        """moto's answer, as AWS would give it: (status, headers, body); a
        repeated idempotency token gets the first successful answer."""
        return idempotency.answered_once(service, operation, body,
                                         lambda: self.answer(environ, service, operation))

    def answer(self, environ, service, operation):
        if service == "bedrock" and operation in ("GetFoundationModel", "ListFoundationModels"):
            return catalogue.foundation_models(environ, operation, routing.request_region(environ))
        if service == "bedrock" and operation == "GetInferenceProfile":
            return catalogue.inference_profile(environ, routing.request_region(environ), JUDGE["account"])
        if service == "bedrock" and operation in deployments.OPERATIONS:
            return self.deployment(environ, operation)
        if service == "bedrock" and operation in ("ListTagsForResource", "TagResource", "UntagResource"):
            served = deployments.serve_tags(operation, environ["wsgi.input"].getvalue())
            if served is not None:
                return served
        if service == "bedrock" and operation == "DeleteCustomModel":
            model = urllib.parse.unquote(environ.get("PATH_INFO", "")).rsplit("/", 1)[-1]
            if deployments.model_in_use(model):
                status, headers, data = faults.error_response(
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

        region = routing.request_region(environ)
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
    params = {"AWS::Partition": "aws", "AWS::Region": "us-east-1", "AWS::AccountId": "123456789012",
              "AWS::StackName": "bedrock-customization-setup"}
    for p in args.param:
        k, _, v = p.partition("=")
        params[k] = v
    judging.configure(args.template, params, args.principal_key, not args.no_second_judge)
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
