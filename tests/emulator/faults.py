"""Faults injected per operation (`POST /_emulator/faults`): AWS error
answers in each protocol's wire format, connections dropped before or after
the call took effect, slow answers and hung calls.

A rule: {"service", "operation" (None or "*" for any), "kind", "times" (uses;
-1 for ever), "skip" (matching calls let through first), "delay_ms"}; kinds
`denied`, `invalid`, `throttle`, `conflict`, `assume_role`, any other (a 5xx),
`delay`, `hang`, `drop`, `drop_after`, `conflict_after`."""

import json
import socket
import threading
import time

LOCK = threading.Lock()
RULES = []
# Bumped when the faults are cleared: hung requests then give up at once.
FAULT_EPOCH = [0]


def add(rules):
    with LOCK:
        RULES.extend(rules)


def clear():
    with LOCK:
        RULES.clear()
        FAULT_EPOCH[0] += 1


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


def error_answer(start_response, service, kind, message=None, reason="Injected"):
    """Answers the request with `error_response`."""
    status, headers, data = error_response(service, kind, message)
    headers.append(("Content-Length", str(len(data))))
    start_response(f"{status} {reason}", headers)
    return [data]


def drop_connection(environ):
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    raise ConnectionAbortedError("connection dropped by the test emulator")


def inject(rule, service, environ, start_response, forward):
    """Applies `rule` to the request: an answer in its stead, or None when
    the request goes on to moto (a delay). `forward()` lets the call take
    effect first."""
    kind = rule.get("kind")
    if kind == "delay":
        time.sleep(rule.get("delay_ms", 100) / 1000.0)
        return None
    if kind == "hang":
        # No answer and no effect: a call lost on its way. It gives up when
        # the faults are cleared, so no thread outlives a test.
        with LOCK:
            epoch = FAULT_EPOCH[0]
        until = time.time() + rule.get("delay_ms", 60000) / 1000.0
        while time.time() < until and FAULT_EPOCH[0] == epoch:
            time.sleep(0.05)
        drop_connection(environ)
    if kind == "drop":
        drop_connection(environ)
    if kind == "drop_after":
        # The call takes effect; only its response is lost.
        forward()
        drop_connection(environ)
    if kind == "conflict_after":
        # The call takes effect and is answered as a repeat whose token the
        # service no longer holds: its name is taken.
        forward()
        return error_answer(start_response, service, "conflict")
    return error_answer(start_response, service, kind)
