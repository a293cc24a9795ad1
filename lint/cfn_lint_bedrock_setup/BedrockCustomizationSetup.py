"""cfn-lint rule E9101: the properties of every Custom::BedrockCustomizationSetup.

cfn-lint maps every custom type to AWS::CloudFormation::CustomResource, which
takes any property, and its --registry-schemas do not apply to custom types.
This rule validates each such resource's Properties against the resource's
own JSON Schema (Custom-BedrockCustomizationSetup.schema.json beside this
file, the one machine-readable contract) and words each problem as the
handler would: "<property>: <problem> (allowed: <what is allowed>)".

Self-contained on purpose: `cfn-lint --append-rules <this directory>` imports
each file here as a top-level module, so there are no relative imports.
"""

import json
from functools import lru_cache
from pathlib import Path

import jsonschema
from cfnlint.rules import CloudFormationLintRule, RuleMatch

RESOURCE_TYPE = "Custom::BedrockCustomizationSetup"
SCHEMA_FILE = Path(__file__).with_name("Custom-BedrockCustomizationSetup.schema.json")
INTRINSIC_REF = {"$ref": "#/definitions/Intrinsic"}


@lru_cache(maxsize=1)
def validator():
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema)


def kind(value):
    """The JSON kind of a value, in the handler's words."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def quote(value):
    text = value if isinstance(value, str) else json.dumps(value)
    return "'" + (text if len(text) <= 60 else text[:57] + "...") + "'"


def property_name(path):
    """`Job.HyperParameters.epochCount`, `VpcConfig.SubnetIds[0]`."""
    name = ""
    for part in path:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += ("." if name else "") + str(part)
    return name or "ResourceProperties"


def allowed_for(error):
    """The nearest `x-allowed` from the failing schema up to the root."""
    e = error
    while e is not None:
        if isinstance(e.schema, dict) and "x-allowed" in e.schema:
            return e.schema["x-allowed"]
        e = e.parent
    return "see the resource's schema"


def leaves(error):
    """The errors that say what is wrong: through anyOf/oneOf, the branch
    the value was meant for (never the intrinsic-function alternative)."""
    if error.validator not in ("anyOf", "oneOf") or not error.context:
        return [error]
    branches = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    alternatives = error.validator_value
    candidates = [
        errs for i, errs in sorted(branches.items())
        if not (isinstance(i, int) and alternatives[i] == INTRINSIC_REF)
    ]
    if error.validator == "oneOf" and len(branches) < len(alternatives):
        # More than one alternative matched (both of an "exactly one").
        return [error]
    if not candidates:
        return [error]
    # The alternative whose type fits the value goes deepest; prefer it.
    def fit(errs):
        return (not any(e.validator == "type" and not e.path for e in errs), max(len(e.path) for e in errs))
    best = max(candidates, key=fit)
    out = []
    for sub in best:
        out.extend(leaves(sub))
    return out


def describe(error):
    """(path to the property, the problem, what is allowed) for one leaf
    error; what is allowed is None where the schema's `x-allowed` says it."""
    path = list(error.absolute_path)
    v, value = error.validator, error.instance
    # A rule between properties is reported against the one that asks for
    # the other, as the handler reports it.
    e = error
    while e is not None:
        if isinstance(e.schema, dict) and "x-property" in e.schema:
            return list(e.absolute_path) + [e.schema["x-property"]], e.schema["x-problem"], None
        e = e.parent
    if v == "required":
        missing = [k for k in error.validator_value if not (isinstance(value, dict) and k in value)]
        allowed = error.schema.get("x-allowed", "a value (required)")
        return path + missing[:1], "is missing", allowed
    if v == "additionalProperties" and isinstance(value, dict):
        known = list(error.schema.get("properties", {}))
        extra = [k for k in value if k not in known]
        hint = next((k for k in known if extra and k.lower() == extra[0].lower()), None)
        suggestion = f" (did you mean {hint}?)" if hint else ""
        return path + extra[:1], f"is not a property of this resource{suggestion}", ", ".join(known)
    if v == "dependencies":
        needed = [k for k, deps in error.validator_value.items() if isinstance(value, dict) and k in value and any(d not in value for d in deps)]
        name = needed[0] if needed else ""
        return path + [name], f"is given without {', '.join(error.validator_value.get(name, []))}", None
    if v == "not":
        given = [k for k in _required_in(error.validator_value) if isinstance(value, dict) and k in value]
        return path + given[:1], "is given", None
    if v == "oneOf" and not path:
        both = isinstance(value, dict) and "TrainingDataUri" in value and "InvocationLogs" in value
        return ["TrainingDataUri"], "is given together with InvocationLogs" if both else "is missing", None
    if v == "type":
        return path, f"is {kind(value)} rather than {_expected(error.validator_value)}", None
    if v in ("minItems", "maxItems"):
        return path, f"has {len(value)} items", None
    if v in ("minProperties", "maxProperties"):
        return path, f"has {len(value)} entries", None
    if v in ("minLength", "maxLength"):
        return path, f"is {len(value)} characters long", None
    if v == "uniqueItems":
        return path, "lists a value more than once", None
    if v in ("minimum", "maximum"):
        return path, f"{value} is out of range", None
    if v == "propertyNames":
        return path, "has a name that is not allowed", None
    return path, f"{quote(value)} does not have the allowed form", None


def _required_in(schema):
    if not isinstance(schema, dict):
        return []
    out = list(schema.get("required", []))
    for sub in schema.get("anyOf", []):
        out.extend(_required_in(sub))
    return out


def _expected(types):
    names = {"string": "a string", "number": "a number", "integer": "a whole number", "boolean": "a boolean",
             "object": "an object", "array": "a list", "null": "null"}
    types = types if isinstance(types, list) else [types]
    return " or ".join(names.get(t, t) for t in types)


def problems(properties):
    """Every problem with one resource's Properties: (path, property, message)."""
    found = []
    seen = set()
    for error in sorted(validator().iter_errors(properties), key=lambda e: list(map(str, e.absolute_path))):
        for leaf in leaves(error):
            path, problem, allowed = describe(leaf)
            name = property_name(path)
            message = f"{name}: {problem} (allowed: {allowed or allowed_for(leaf)})"
            if message not in seen:
                seen.add(message)
                found.append((path, name, message))
    return found


class BedrockCustomizationSetupProperties(CloudFormationLintRule):
    """Validate Custom::BedrockCustomizationSetup properties against its schema."""

    id = "E9101"
    shortdesc = "Custom::BedrockCustomizationSetup properties"
    description = (
        "Validates the properties of Custom::BedrockCustomizationSetup resources against "
        "the resource's JSON Schema, as the handler would before making anything"
    )
    source_url = "https://github.com/bedrock-customization-setup/bedrock-customization-setup#lint-in-the-editor"
    tags = ["resources", "custom", "bedrock"]

    def match(self, cfn):
        matches = []
        for name, resource in cfn.get_resources([RESOURCE_TYPE]).items():
            properties = resource.get("Properties")
            base = ["Resources", name, "Properties"]
            if properties is None:
                properties = {}
                base = ["Resources", name]
            for path, _, message in problems(properties):
                # A missing property is reported where it belongs.
                where = path
                node = properties
                for i, part in enumerate(path):
                    try:
                        node = node[part]
                    except (KeyError, IndexError, TypeError):
                        where = path[:i]
                        break
                matches.append(RuleMatch(base + where, message))
        return matches
