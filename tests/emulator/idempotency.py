"""Idempotency tokens: EC2 and Bedrock answer a repeated create with the
same token with the first call's result; moto ignores tokens, so the wrapper
replays: (service, operation, token) -> response. One lock per token, held
while its first call runs: moto serves requests on threads, and two copies of
one create running at once would both take effect; a repeat that arrives
while the first is still being served (a retry after a timed-out attempt)
waits for it, as the services' own deduplication does."""

import json
import threading
import urllib.parse

LOCK = threading.Lock()
TOKENS = {}
TOKEN_LOCKS = {}


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


def answered_once(service, operation, body, answer):
    """`answer()`, or the first successful answer to the same token."""
    token = idempotency_token(service, operation, body)
    if token is None:
        return answer()
    key = (service, operation, token)
    with LOCK:
        first = TOKEN_LOCKS.setdefault(key, threading.Lock())
    with first:
        with LOCK:
            cached = TOKENS.get(key)
        if cached is None:
            cached = answer()
            if cached[0].startswith("2"):
                with LOCK:
                    TOKENS[key] = cached
        return cached
