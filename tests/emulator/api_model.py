"""Requests valid for the service: each request the handler makes is read back
into the operation's input, as the service would read it, and checked against
the service's own API model (the botocore JSON models in the test virtualenv):
required members, lengths, patterns, enums, list and map sizes, ranges. A few
rules the models cannot express, which real services enforce and which matter
to this handler, are added by hand (`SEMANTIC`).

moto accepts most malformed requests; without this, a request real AWS rejects
would pass every test.
"""

import json
import re
import struct
import urllib.parse

import botocore.session

_SESSION = botocore.session.get_session()
_MODELS = {}


def service_model(service):
    if service not in _MODELS:
        _MODELS[service] = _SESSION.get_service_model(service)
    return _MODELS[service]


def operation_model(service, operation):
    try:
        return service_model(service).operation_model(operation)
    except Exception:
        return None


# ------------------------------------------------ reading a request back in


def _scalar(shape, text):
    if shape.type_name in ("integer", "long"):
        try:
            return int(text)
        except ValueError:
            return text
    if shape.type_name == "boolean":
        return text.lower() == "true" if isinstance(text, str) else text
    return text


def _from_query(shape, form, prefix, ec2):
    """The inverse of botocore's Query and EC2 serializers."""
    if shape.type_name == "structure":
        out = {}
        for name, member in shape.members.items():
            if ec2:
                wire = member.serialization.get("queryName") or (
                    member.serialization.get("name", name)[:1].upper() + member.serialization.get("name", name)[1:])
            else:
                wire = member.serialization.get("name", name)
            key = f"{prefix}.{wire}" if prefix else wire
            value = _from_query(member, form, key, ec2)
            if value is not None:
                out[name] = value
        return out if out or not prefix else None
    if shape.type_name == "list":
        member = shape.member
        if ec2 or shape.serialization.get("flattened"):
            item_prefix = prefix
        else:
            item_prefix = f"{prefix}.{member.serialization.get('name', 'member')}"
        items = []
        i = 1
        while True:
            key = f"{item_prefix}.{i}"
            if key not in form and not any(k.startswith(key + ".") for k in form):
                break
            items.append(_from_query(member, form, key, ec2))
            i += 1
        if not items and prefix in form and form[prefix] == [""]:
            return []
        return items if items else None
    if shape.type_name == "map":
        items = {}
        i = 1
        while True:
            base = f"{prefix}.entry.{i}"
            if f"{base}.key" not in form:
                break
            items[form[f"{base}.key"][0]] = _from_query(shape.value, form, f"{base}.value", ec2)
            i += 1
        return items or None
    if prefix in form:
        return _scalar(shape, form[prefix][0])
    return None


def _from_rest(op, path, query, headers, body, raw):
    """rest-json and rest-xml: the URI, query string, headers and JSON body."""
    shape = op.input_shape
    params = {}
    if shape is None:
        return params
    template = op.http.get("requestUri", "/").split("?")[0]
    names = re.findall(r"\{([^}+]+)\+?\}", template)
    # A bucket-level S3 call may come as `/bucket/` (path style).
    pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "([^/]+)", re.escape(template.rstrip("/"))).replace(r"\+", "") + "/?$"
    m = re.match(pattern, path)
    uri_values = dict(zip(names, (urllib.parse.unquote(g) for g in m.groups()))) if m else {}
    for name, member in shape.members.items():
        loc = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if loc == "uri":
            if wire in uri_values:
                params[name] = _scalar(member, uri_values[wire])
        elif loc == "querystring":
            if wire in query:
                v = query[wire]
                params[name] = [_scalar(member.member, x) for x in v] if member.type_name == "list" \
                    else _scalar(member, v[0])
        elif loc == "header":
            v = headers.get(wire.lower())
            if v is not None:
                params[name] = _scalar(member, v)
        elif loc is None and isinstance(body, dict) and not shape.serialization.get("payload"):
            if wire in body:
                params[name] = body[wire]
    payload = shape.serialization.get("payload")
    if payload and raw and shape.members[payload].type_name in ("string", "blob"):
        # A text or binary payload is the whole body (S3's bucket policy).
        params[payload] = raw.decode("utf-8", "replace")
    return params


def read_params(service, operation, method, path, query, headers, form, body):
    op = operation_model(service, operation)
    if op is None:
        return None, None
    protocol = service_model(service).protocol
    if protocol in ("query", "ec2"):
        return op, _from_query(op.input_shape, form, "", protocol == "ec2") if op.input_shape else {}
    if protocol == "json":
        try:
            return op, json.loads(body) if body else {}
        except ValueError:
            return op, {}
    parsed_body = None
    if protocol == "rest-json" and body:
        try:
            parsed_body = json.loads(body)
        except ValueError:
            parsed_body = None
    return op, _from_rest(op, path, query, headers, parsed_body, body)


# ------------------------------------------------------------- validation


# moto names jobs and models `.../model-customization-job/<name>`; real ARNs
# end in a 12-character id, which the model's patterns demand. The handler
# never builds such an ARN itself: it passes on what the service answered.
# So an ARN of the emulator's own making is not held against the handler.
EMULATOR_ARN = re.compile(r"arn:aws[^:]*:bedrock:[^:]+:\d{12}:(model-customization-job|custom-model)/[^/]+")


def _pattern_ok(pattern, value):
    if EMULATOR_ARN.fullmatch(value):
        return True
    try:
        return re.fullmatch(pattern, value) is not None
    except re.error:
        return True  # a Java-only construct: the model's rule cannot be checked here


def _check_size(meta, size, what, problems):
    """The model's min/max on a length or a count."""
    if "min" in meta and size < meta["min"]:
        problems.append(f"{what}, at least {meta['min']} allowed")
    if "max" in meta and size > meta["max"]:
        problems.append(f"{what}, at most {meta['max']} allowed")


def validate_shape(shape, value, path, problems):
    meta = shape.metadata
    t = shape.type_name
    if t == "structure":
        if not isinstance(value, dict):
            problems.append(f"{path}: expected a structure")
            return
        for req in shape.required_members:
            if value.get(req) is None:
                problems.append(f"{path}.{req}: is required" if path else f"{req}: is required")
        if meta.get("union") and len([v for v in value.values() if v is not None]) != 1:
            problems.append(f"{path}: exactly one member of the union must be set")
        for name, v in value.items():
            member = shape.members.get(name)
            if member is None:
                problems.append(f"{path}.{name}: is not a member of {shape.name}")
                continue
            if v is not None:
                validate_shape(member, v, f"{path}.{name}" if path else name, problems)
    elif t == "list":
        if not isinstance(value, list):
            problems.append(f"{path}: expected a list")
            return
        _check_size(meta, len(value), f"{path}: has {len(value)} items", problems)
        for i, v in enumerate(value):
            validate_shape(shape.member, v, f"{path}[{i}]", problems)
    elif t == "map":
        if not isinstance(value, dict):
            problems.append(f"{path}: expected a map")
            return
        _check_size(meta, len(value), f"{path}: has {len(value)} entries", problems)
        for k, v in value.items():
            validate_shape(shape.key, k, f"{path} key {k!r}", problems)
            validate_shape(shape.value, v, f"{path}[{k!r}]", problems)
    elif t == "string":
        if not isinstance(value, str):
            problems.append(f"{path}: expected a string")
            return
        _check_size(meta, len(value), f"{path}: is {len(value)} characters", problems)
        if "enum" in meta and value not in meta["enum"]:
            problems.append(f"{path}: {value!r} is not one of {meta['enum']}")
        if "pattern" in meta and not _pattern_ok(meta["pattern"], value):
            problems.append(f"{path}: {value!r} does not match the pattern {meta['pattern']}")
    elif t in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            problems.append(f"{path}: expected an integer")
            return
        if "min" in meta and value < meta["min"]:
            problems.append(f"{path}: {value} is below the minimum {meta['min']}")
        if "max" in meta and value > meta["max"]:
            problems.append(f"{path}: {value} is above the maximum {meta['max']}")
    elif t in ("float", "double"):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            problems.append(f"{path}: expected a number")
            return
        # A `float` member is single precision on the service's side: a
        # bound and a value that round to the same float are equal there.
        single = (lambda x: struct.unpack("f", struct.pack("f", x))[0]) if t == "float" else float
        if "min" in meta and single(value) < single(meta["min"]):
            problems.append(f"{path}: {value} is below the minimum {meta['min']}")
        if "max" in meta and single(value) > single(meta["max"]):
            problems.append(f"{path}: {value} is above the maximum {meta['max']}")
    elif t == "boolean":
        if not isinstance(value, bool):
            problems.append(f"{path}: expected a boolean")


# ---------------------------------------------- rules the models cannot say


def _bedrock_customization_config(params):
    """Bedrock: a DISTILLATION job carries its teacher and a
    REINFORCEMENT_FINE_TUNING job its rftConfig (with a grader); no other type
    may. Invocation logs are training data for distillation only, and the
    training data is exactly one of an S3 URI and invocation logs."""
    kind = params.get("customizationType", "FINE_TUNING")
    config = params.get("customizationConfig") or {}
    problems = []
    for member, owner in (("distillationConfig", "DISTILLATION"), ("rftConfig", "REINFORCEMENT_FINE_TUNING")):
        if kind == owner and not config.get(member):
            problems.append(f"customizationConfig.{member}: is required when customizationType is {owner}")
        if kind != owner and config.get(member):
            problems.append(f"customizationConfig.{member}: is not allowed when customizationType is {kind}")
    if kind == "REINFORCEMENT_FINE_TUNING" and not (config.get("rftConfig") or {}).get("graderConfig"):
        problems.append("customizationConfig.rftConfig.graderConfig: is required for reinforcement fine-tuning")
    training = params.get("trainingDataConfig") or {}
    if ("s3Uri" in training) == ("invocationLogsConfig" in training):
        problems.append("trainingDataConfig: exactly one of s3Uri and invocationLogsConfig is required")
    if "invocationLogsConfig" in training and kind != "DISTILLATION":
        problems.append(f"trainingDataConfig.invocationLogsConfig: is not allowed when customizationType is {kind}")
    return problems


def _ec2_gateway_endpoint(params):
    """EC2: a Gateway endpoint takes route tables, not subnets or security groups."""
    if params.get("VpcEndpointType", "Gateway") != "Gateway":
        return []
    problems = []
    for name in ("SubnetIds", "SecurityGroupIds"):
        if params.get(name):
            problems.append(f"{name}: is not allowed for a Gateway endpoint")
    return problems


SEMANTIC = {
    ("bedrock", "CreateModelCustomizationJob"): _bedrock_customization_config,
    ("ec2", "CreateVpcEndpoint"): _ec2_gateway_endpoint,
}


def problems_of(service, operation, method, path, query, headers, form, body):
    """Every way the request breaks the service's rules; [] when it is valid,
    None when the operation has no model here (then nothing is judged)."""
    op, params = read_params(service, operation, method, path, query, headers, form, body)
    if op is None:
        return None
    problems = []
    if op.input_shape is not None:
        validate_shape(op.input_shape, params, "", problems)
    rule = SEMANTIC.get((service, operation))
    if rule:
        problems.extend(rule(params))
    return problems
