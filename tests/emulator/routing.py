"""Which request this is: the service, region and operation of a signed
request, the SDK's attempt number, and Bedrock identifiers given as ARNs
(moto finds jobs and models by name only)."""

import re
import urllib.parse

import deployments

CREDENTIAL = re.compile(r"Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
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
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    m = credential(environ)
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


def sdk_attempt(environ):
    """The SDK's attempt number (`amz-sdk-request: attempt=2; max=4`): 1 for
    a first try, or a client that does not say."""
    m = re.search(r"attempt=(\d+)", environ.get("HTTP_AMZ_SDK_REQUEST", ""))
    return int(m.group(1)) if m else 1


def credential(environ):
    """The Authorization header's credential scope: groups (key, region,
    service), or None for an unsigned or pre-signed request."""
    return CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))


def request_region(environ):
    """The region the request was signed for."""
    m = credential(environ)
    return m.group(2) if m else "us-east-1"


def access_key(environ):
    """The access key id that signed the request, or None."""
    m = credential(environ)
    return m.group(1) if m else None


def name_arn_identifiers(environ):
    """A job or custom model given by ARN is given by name instead (moto's
    ARNs end in the name)."""
    m = ARN_IDENTIFIER.match(environ.get("PATH_INFO", ""))
    if m:
        environ["PATH_INFO"] = f"/{m.group(1)}/{m.group(3)}{m.group(4) or ''}"
        environ["RAW_URI"] = environ["REQUEST_URI"] = environ["PATH_INFO"]
