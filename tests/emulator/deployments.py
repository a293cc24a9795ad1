"""Custom model deployments and provisioned throughput, which moto lacks:
served here, shaped like Bedrock's service model (botocore's bedrock
2023-04-20), so the handler's real SDK calls run against them.

- CreateCustomModelDeployment (202) and CreateProvisionedModelThroughput
  (201) need a custom model that exists; a name taken is a
  ValidationException; a repeated clientRequestToken answers the first ARN.
  Both start `Creating` and stay so until the test says otherwise
  (`POST /_emulator/bedrock/deployment-status`), or, with `auto_ready`, for
  a set time.
- Get and Delete by name or ARN; ResourceNotFoundException when absent;
  Delete of one still `Creating` is a ConflictException, as Bedrock's API
  lists it. DeleteCustomModel of a model a deployment serves is a
  ConflictException too (`model_in_use`).
- Tags: ListTagsForResource, TagResource and UntagResource of their ARNs.

ARNs end in a 12-character id, as the real ones do.
"""

import json
import threading
import time
import urllib.parse
import uuid

LOCK = threading.Lock()
# name -> record, per kind ("deployment" or "throughput")
STORE = {"deployment": {}, "throughput": {}}
TOKENS = {}
# Seconds after which a new one becomes ready by itself (None: never).
AUTO_READY = [None]

PATHS = {
    "deployment": "/model-customization/custom-model-deployments",
    "throughput": "/provisioned-model-throughput",
}
ARN_KIND = {"deployment": "custom-model-deployment", "throughput": "provisioned-model"}
READY = {"deployment": "Active", "throughput": "InService"}

ROUTES = [
    ("POST", "^/model-customization/custom-model-deployments$", "CreateCustomModelDeployment"),
    ("GET", "^/model-customization/custom-model-deployments/[^/]+$", "GetCustomModelDeployment"),
    ("DELETE", "^/model-customization/custom-model-deployments/[^/]+$", "DeleteCustomModelDeployment"),
    ("POST", "^/provisioned-model-throughput$", "CreateProvisionedModelThroughput"),
    ("GET", "^/provisioned-model-throughput/[^/]+$", "GetProvisionedModelThroughput"),
    ("DELETE", "^/provisioned-model-throughput/[^/]+$", "DeleteProvisionedModelThroughput"),
]

OPERATIONS = {op for _, _, op in ROUTES}


def reset():
    with LOCK:
        for kind in STORE:
            STORE[kind].clear()
        TOKENS.clear()
        AUTO_READY[0] = None


def _answer(status, payload, error=None):
    data = json.dumps(payload).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    if error:
        headers.append(("x-amzn-ErrorType", error))
    return status, headers, data


def _error(status, code, message):
    return _answer(status, {"message": message}, code)


def ready_after(seconds):
    """Every deployment being created, and every later one, becomes ready
    `seconds` from now (from its creation, for a later one)."""
    with LOCK:
        AUTO_READY[0] = seconds
        now = time.time()
        for kind in STORE:
            for record in STORE[kind].values():
                if record["status"] == "Creating":
                    record["at"] = now


def _now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _settle(record):
    auto = AUTO_READY[0]
    if record["status"] == "Creating" and auto is not None and time.time() - record["at"] >= auto:
        record["status"] = READY[record["kind"]]


def find(kind, identifier):
    """The record under a name or an ARN (caller holds LOCK)."""
    identifier = urllib.parse.unquote(identifier)
    for record in STORE[kind].values():
        if identifier in (record["name"], record["arn"]):
            _settle(record)
            return record
    return None


def by_arn(arn):
    with LOCK:
        for kind in STORE:
            for record in STORE[kind].values():
                if record["arn"] == arn:
                    return record
    return None


def tags_of(arn):
    """{key: value} of a deployment's ARN; None when it is not one."""
    record = by_arn(arn)
    return None if record is None else dict(record["tags"])


def arn_of(kind, identifier):
    """The ARN behind a name (for the authorization judge); None if absent."""
    with LOCK:
        record = find(kind, identifier)
        return None if record is None else record["arn"]


def model_in_use(model_arn_or_name):
    """Whether a deployment serves the custom model (by ARN or name)."""
    with LOCK:
        for kind in STORE:
            for record in STORE[kind].values():
                model = record["model"]
                if model_arn_or_name in (model, model.rsplit("/", 1)[-1]):
                    return True
    return False


def set_status(payload):
    """`{"name", "status", "failure_message"?, "kind"?}` from a test."""
    kind = payload.get("kind", "deployment")
    with LOCK:
        record = find(kind, payload["name"])
        if record is None:
            raise KeyError(payload["name"])
        record["status"] = payload["status"]
        if "failure_message" in payload:
            record["failure_message"] = payload["failure_message"]


def serve(operation, path, body, region, account, model_exists):
    """(status, headers, body) of one request; `model_exists(arn)` asks moto."""
    kind = "deployment" if "CustomModelDeployment" in operation else "throughput"
    identifier = path.rsplit("/", 1)[-1]
    if operation.startswith("Create"):
        params = json.loads(body or b"{}")
        name = params.get("modelDeploymentName") if kind == "deployment" else params.get("provisionedModelName")
        model = params.get("modelArn") if kind == "deployment" else params.get("modelId")
        token = params.get("clientRequestToken")
        with LOCK:
            if token and (kind, token) in TOKENS:
                arn = TOKENS[(kind, token)]
            else:
                if not model_exists(model):
                    return _error("404 Not Found", "ResourceNotFoundException",
                                  f"The custom model {model} does not exist.")
                if name in STORE[kind]:
                    return _error("400 Bad Request", "ValidationException",
                                  f"A resource named {name} already exists.")
                arn = f"arn:aws:bedrock:{region}:{account}:{ARN_KIND[kind]}/{uuid.uuid4().hex[:12]}"
                STORE[kind][name] = {
                    "kind": kind, "name": name, "arn": arn, "model": model, "status": "Creating",
                    "units": params.get("modelUnits"), "tags": {t["key"]: t["value"] for t in params.get("tags") or []},
                    "created": _now(), "at": time.time(), "token": token,
                }
                if token:
                    TOKENS[(kind, token)] = arn
        if kind == "deployment":
            return _answer("202 Accepted", {"customModelDeploymentArn": arn})
        return _answer("201 Created", {"provisionedModelArn": arn})
    with LOCK:
        record = find(kind, identifier)
        if record is None:
            return _error("404 Not Found", "ResourceNotFoundException",
                          f"The resource {urllib.parse.unquote(identifier)} does not exist.")
        if operation.startswith("Delete"):
            if record["status"] == "Creating":
                return _error("400 Bad Request", "ConflictException",
                              f"{record['name']} is being created and cannot be deleted yet.")
            del STORE[kind][record["name"]]
            return _answer("200 OK", {})
        if kind == "deployment":
            answer = {
                "customModelDeploymentArn": record["arn"], "modelDeploymentName": record["name"],
                "modelArn": record["model"], "createdAt": record["created"], "status": record["status"],
                "lastUpdatedAt": record["created"],
            }
        else:
            answer = {
                "modelUnits": record["units"], "desiredModelUnits": record["units"],
                "provisionedModelName": record["name"], "provisionedModelArn": record["arn"],
                "modelArn": record["model"], "desiredModelArn": record["model"],
                "foundationModelArn": f"arn:aws:bedrock:{region}::foundation-model/amazon.nova-micro-v1:0",
                "status": record["status"], "creationTime": record["created"],
                "lastModifiedTime": record["created"],
            }
        if record.get("failure_message") and record["status"] == "Failed":
            answer["failureMessage"] = record["failure_message"]
        return _answer("200 OK", answer)


def serve_tags(operation, body):
    """Tag operations on a deployment's ARN; None when the ARN is not one."""
    params = json.loads(body or b"{}")
    record = by_arn(params.get("resourceARN", ""))
    if record is None:
        return None
    with LOCK:
        if operation == "ListTagsForResource":
            return _answer("200 OK", {"tags": [{"key": k, "value": v} for k, v in record["tags"].items()]})
        if operation == "TagResource":
            record["tags"].update({t["key"]: t["value"] for t in params.get("tags") or []})
        elif operation == "UntagResource":
            for k in params.get("tagKeys") or []:
                record["tags"].pop(k, None)
        return _answer("200 OK", {})
