"""Authorization check of the test bed: every AWS request the handler makes is
judged against the execution role's policies, read from `template.yaml` itself.

moto's own access control is no substitute: it ignores the Resource and
Condition parts of identity policies. Real IAM does not, so this module does
what IAM does for the calls the handler makes:

1. `required(...)`: per operation, the IAM actions it needs (the implied ones
   too), the resource ARNs the request touches and the condition keys in play.
   The table below is written from the AWS Service Authorization Reference
   (https://docs.aws.amazon.com/service-authorization/latest/reference/):
   - IAM:     reference/list_awsidentityandaccessmanagementiam.html
   - EC2:     reference/list_amazonec2.html
   - S3:      reference/list_amazons3.html
   - Bedrock: reference/list_amazonbedrock.html (and list_bedrock.html, whose
              operations table lists bedrock:TagResource for Create* calls that
              carry tags)
   - SSM:     reference/list_awssystemsmanager.html (parameter operations on
              the parameter's ARN; GetParametersByPath on the path's), with
              the KMS use SSM makes on the caller's behalf for a SecureString
              under a customer key: kms:Encrypt on PutParameter, kms:Decrypt
              on reads with decryption (kms:ViaService ssm.<region>), from the
              Systems Manager user guide, "AWS KMS encryption for
              SecureString parameters"
   - KMS:     reference/list_awskeymanagementservice.html (DescribeKey on the
              key; kms:CallerAccount), with the caller's key
              permissions for a custom model key from the Bedrock user guide,
              https://docs.aws.amazon.com/bedrock/latest/userguide/encryption-custom-job.html
   and from the IAM user guide on tagging at creation:
   https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags_roles.html
   (creating a role with tags needs iam:TagRole as well as iam:CreateRole).
2. `Policy.evaluate(...)`: IAM's evaluation logic for identity policies
   (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
   an explicit Deny wins, otherwise every (action, resource) pair needs an
   Allow whose Action, Resource and every Condition match.

Resource ARNs follow IAM's rules: a role that exists is named by its ARN with
its path; a role that does not exist yet can only be named `role/NAME` (IAM
cannot know its path), except on CreateRole, whose request carries the path.
Condition values `aws:ResourceTag/*` (and `ec2:ResourceTag/*`) come from the
emulator's state at the moment of the request.
"""

import fnmatch
import json
import re
import urllib.parse

import yaml

# ------------------------------------------------------------------ template


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form intrinsic functions."""


def _intrinsic(loader, suffix, node):
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def load_template(path):
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass


def resolve(node, refs):
    """Resolves the intrinsic functions the template's policies use."""
    if isinstance(node, list):
        return [resolve(n, refs) for n in node]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        (key, arg), = node.items()
        if key == "Ref":
            if arg not in refs:
                raise KeyError(f"template: no value for Ref {arg}")
            return refs[arg]
        if key == "Fn::GetAtt":
            name = ".".join(arg)
            if name not in refs:
                raise KeyError(f"template: no value for GetAtt {name}")
            return refs[name]
        if key == "Fn::Sub":
            text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], resolve(arg[1], refs))
            scope = dict(refs)
            scope.update(extra)

            def sub(m):
                var = m.group(1)
                if var.startswith("!"):
                    return "${" + var[1:] + "}"
                if var not in scope:
                    raise KeyError(f"template: no value for ${{{var}}}")
                value = scope[var]
                return ",".join(value) if isinstance(value, list) else str(value)

            return re.sub(r"\$\{([^}]+)\}", sub, text)
        if key == "Fn::Join":
            sep, items = arg
            return sep.join(str(i) for i in resolve(items, refs))
        if key == "Fn::Split":
            sep, text = arg
            return str(resolve(text, refs)).split(sep)
    return {k: resolve(v, refs) for k, v in node.items()}


def execution_policy(template_path, params):
    """The execution role's statements, with the deployment's values.

    `params` holds the template parameters and the pseudo parameters
    (AWS::Partition, AWS::Region, AWS::AccountId, AWS::StackName).
    """
    template = load_template(template_path)
    refs = {}
    for name, spec in (template.get("Parameters") or {}).items():
        if name in params:
            value = params[name]
        elif "Default" in spec:
            value = spec["Default"]
        else:
            raise KeyError(f"template parameter {name} has no default: give it to the test bed")
        if spec.get("Type") == "CommaDelimitedList" and isinstance(value, str):
            value = [v.strip() for v in value.split(",")]
        refs[name] = value
    for k, v in params.items():
        refs.setdefault(k, v)
    partition, region, account = refs["AWS::Partition"], refs["AWS::Region"], refs["AWS::AccountId"]
    for name, res in (template.get("Resources") or {}).items():
        if res.get("Type") == "AWS::Logs::LogGroup":
            refs[f"{name}.Arn"] = f"arn:{partition}:logs:{region}:{account}:log-group:{name}:*"
        if res.get("Type") == "AWS::KMS::Key":
            refs.setdefault(f"{name}.Arn", params.get(f"{name}.Arn", f"arn:{partition}:kms:{region}:{account}:key/{name}"))
        refs.setdefault(name, name)
    role = template["Resources"]["HandlerRole"]["Properties"]
    return Policy(named_statements((p["PolicyName"], resolve(p["PolicyDocument"], refs))
                                   for p in role.get("Policies") or []))


def named_statements(policies):
    """The statements of (policy name, document) pairs, one list, each with
    a Sid (`Policy[i]` where it has none) for the reasons verdicts give."""
    statements = []
    for name, doc in policies:
        for i, s in enumerate(_as_list(doc.get("Statement"))):
            s = dict(s)
            s.setdefault("Sid", f"{name}[{i}]")
            statements.append(s)
    return statements


def _as_list(v):
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


# ---------------------------------------------------------------- evaluation


class Request:
    """One IAM authorization question: may `action` be done on `resource`?"""

    def __init__(self, action, resource, context=None):
        self.action = action
        self.resource = resource
        self.original_context = dict(context or {})
        self.context = {k.lower(): v for k, v in (context or {}).items()}

    def with_context(self, extra):
        """The same question, with request-wide keys (the principal's, TLS) added."""
        merged = dict(extra)
        merged.update(self.original_context)
        return Request(self.action, self.resource, merged)

    def __repr__(self):
        return f"{self.action} on {self.resource}"


def _glob(pattern, value, case_sensitive=True):
    if not case_sensitive:
        pattern, value = pattern.lower(), value.lower()
    # IAM wildcards: * and ? only; brackets are literal.
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.DOTALL) is not None


def _values(v):
    return [str(x).lower() if isinstance(x, bool) else str(x) for x in _as_list(v)]


def _arn_like(pattern, value):
    parts, values = pattern.split(":", 5), value.split(":", 5)
    return len(parts) == len(values) == 6 and all(_glob(p, v) for p, v in zip(parts, values))


NEGATED = ("StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals", "ArnNotLike",
           "NumericNotEquals", "DateNotEquals")


def _condition_holds(operator, key, expected, context):
    """One condition entry, with IAM's semantics for the operators used here."""
    op = operator
    qualifier = None
    if ":" in op:
        qualifier, op = op.split(":", 1)
    if_exists = op.endswith("IfExists")
    if if_exists:
        op = op[: -len("IfExists")]
    present = key.lower() in context
    actual = context.get(key.lower())
    if op == "Null":
        want_absent = _values(expected)[0].lower() == "true"
        return (not present) == want_absent
    if not present:
        if qualifier == "ForAllValues":
            return True
        if qualifier == "ForAnyValue":
            return False
        # IAM: a negated operator holds when the key is absent (no value of
        # the request equals the policy's), with or without IfExists; any
        # other operator holds then only with IfExists.
        if op in NEGATED:
            return True
        return if_exists
    expected = _values(expected)
    actuals = _values(actual)

    def one(a):
        if op == "StringEquals":
            return a in expected
        if op == "StringEqualsIgnoreCase":
            return a.lower() in [e.lower() for e in expected]
        if op == "StringLike":
            return any(_glob(e, a) for e in expected)
        # IAM: ArnEquals and ArnLike are one operator, each of an ARN's six
        # colon-delimited parts matched on its own, wildcards allowed.
        if op in ("ArnEquals", "ArnLike"):
            return any(_arn_like(e, a) for e in expected)
        if op == "StringNotEquals":
            return a not in expected
        if op in ("ArnNotEquals", "ArnNotLike"):
            return not any(_arn_like(e, a) for e in expected)
        if op == "StringNotLike":
            return not any(_glob(e, a) for e in expected)
        if op == "Bool":
            return a.lower() in [e.lower() for e in expected]
        if op.startswith("Numeric"):
            try:
                x, ys = float(a), [float(e) for e in expected]
            except ValueError:
                return False
            compare = {"NumericEquals": lambda y: x == y, "NumericNotEquals": lambda y: x != y,
                       "NumericLessThan": lambda y: x < y, "NumericLessThanEquals": lambda y: x <= y,
                       "NumericGreaterThan": lambda y: x > y,
                       "NumericGreaterThanEquals": lambda y: x >= y}.get(op)
            if compare is None:
                raise ValueError(f"condition operator {operator} is not known to the test bed's evaluator")
            return any(compare(y) for y in ys)
        raise ValueError(f"condition operator {operator} is not known to the test bed's evaluator")

    if qualifier == "ForAllValues":
        return all(one(a) for a in actuals)
    if qualifier == "ForAnyValue":
        return any(one(a) for a in actuals)
    if op.startswith(("StringNot", "ArnNot")):
        return all(one(a) for a in actuals)
    return any(one(a) for a in actuals)


class Policy:
    def __init__(self, statements):
        self.statements = statements

    @staticmethod
    def _matches_action(statement, action):
        if "NotAction" in statement:
            return not any(_glob(a, action, False) for a in _as_list(statement["NotAction"]))
        return any(_glob(a, action, False) for a in _as_list(statement.get("Action")))

    @staticmethod
    def _matches_resource(statement, resource):
        if "NotResource" in statement:
            return not any(_glob(r, resource) for r in _as_list(statement["NotResource"]))
        return any(_glob(r, resource) for r in _as_list(statement.get("Resource")))

    @staticmethod
    def _failed_conditions(statement, context):
        failed = []
        for operator, entries in (statement.get("Condition") or {}).items():
            for key, expected in entries.items():
                if not _condition_holds(operator, key, expected, context):
                    failed.append(f"{operator} {key} {json.dumps(expected)} (request: "
                                  f"{json.dumps(context.get(key.lower(), '<absent>'))})")
        return failed

    def evaluate(self, request):
        """None when allowed; otherwise why not, naming what is missing."""
        near = []
        allowed_by = None
        for s in self.statements:
            if not self._matches_action(s, request.action):
                continue
            sid = s.get("Sid", "(no Sid)")
            if not self._matches_resource(s, request.resource):
                near.append(f"{sid}: resource {json.dumps(s.get('Resource'))} does not match")
                continue
            failed = self._failed_conditions(s, request.context)
            if failed:
                near.append(f"{sid}: condition {'; '.join(failed)} does not hold")
                continue
            if s.get("Effect") == "Deny":
                return f"{request.action} on {request.resource} is explicitly denied by {sid}"
            allowed_by = allowed_by or sid
        if allowed_by:
            return None
        detail = "; ".join(near) if near else f"no statement grants {request.action} at all"
        return f"no statement allows {request.action} on {request.resource} ({detail})"


def _principal_matches(principal, principal_arn, account):
    """A resource policy statement's Principal against the caller: a role of
    the account, or a service principal (`bedrock.amazonaws.com`)."""
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    if principal_arn.endswith(".amazonaws.com"):
        return principal_arn in _as_list(principal.get("Service"))
    for p in _as_list(principal.get("AWS")):
        if p in ("*", principal_arn, account) or (p.startswith("arn:") and p.endswith(f":iam::{account}:root")):
            return True
    return False


class ResourcePolicy:
    """A resource's own policy, as IAM reads it for a same-account caller:
    an explicit Deny that applies refuses the request; an Allow is not needed
    (the identity policy's is enough), except where the resource's policy
    alone decides: a KMS key policy (which must allow the account, delegating
    to IAM, or the caller), a role's trust policy, and a VPC endpoint's
    policy."""

    MUST_ALLOW = {"key": "the key policy", "trust": "the trust policy", "endpoint": "the endpoint policy"}

    def __init__(self, doc, kind):
        self.statements = _as_list((doc or {}).get("Statement"))
        self.kind = kind

    def _applies(self, s, request, principal_arn, account):
        return (("Principal" in s and _principal_matches(s["Principal"], principal_arn, account))
                and Policy._matches_action(s, request.action)
                # A trust policy names no resource: the role is the resource.
                and (("Resource" not in s and "NotResource" not in s)
                     or Policy._matches_resource(s, request.resource))
                and not Policy._failed_conditions(s, request.context))

    def verdict(self, request, principal_arn, account):
        """None when the resource's policy lets the request through."""
        for s in self.statements:
            if s.get("Effect") == "Deny" and self._applies(s, request, principal_arn, account):
                return (f"{request.action} on {request.resource} is explicitly denied by the "
                        f"{self.kind} policy's statement {s.get('Sid', '(no Sid)')}")
        if self.kind in self.MUST_ALLOW and not any(
                s.get("Effect") == "Allow" and self._applies(s, request, principal_arn, account)
                for s in self.statements):
            return f"{self.MUST_ALLOW[self.kind]} does not allow {request.action} on {request.resource} to {principal_arn}"
        return None


# ------------------------------------------------------- what a call requires


class Parsed:
    """A request's parameters as the handler sent them."""

    def __init__(self, service, region, account, operation, method, path, query, form, body_json):
        self.service = service
        self.region = region
        self.account = account
        self.operation = operation
        self.method = method
        self.path = path
        self.query = query
        self.form = form
        self.json = body_json

    def param(self, name):
        v = self.form.get(name)
        return v[0] if v else None

    def numbered(self, prefix):
        """`Prefix.1`, `Prefix.2`, ... (EC2) or `Prefix.member.1`, ... (IAM)."""
        out = []
        i = 1
        while True:
            v = self.param(f"{prefix}.{i}")
            if v is None:
                v = self.param(f"{prefix}.member.{i}")
            if v is None:
                return out
            out.append(v)
            i += 1

    def iam_tags(self):
        return {self.param(f"Tags.member.{i}.Key"): self.param(f"Tags.member.{i}.Value") or ""
                for i in range(1, 60) if self.param(f"Tags.member.{i}.Key") is not None}

    def ec2_tags(self, prefix):
        return {self.param(f"{prefix}.{i}.Key"): self.param(f"{prefix}.{i}.Value") or ""
                for i in range(1, 60) if self.param(f"{prefix}.{i}.Key") is not None}


def _tag_context(request_tags=None, resource_tags=None, ec2=False):
    ctx = {}
    if request_tags is not None:
        for k, v in request_tags.items():
            ctx[f"aws:RequestTag/{k}"] = v
        ctx["aws:TagKeys"] = list(request_tags)
    for k, v in (resource_tags or {}).items():
        ctx[f"aws:ResourceTag/{k}"] = v
        if ec2:
            ctx[f"ec2:ResourceTag/{k}"] = v
    return ctx


class State:
    """Reads what the emulator holds, for resource ARNs and resource tags."""

    def __init__(self, account, region, partition="aws"):
        self.account, self.region, self.partition = account, region, partition

    def role(self, name):
        from moto.iam.models import iam_backends

        try:
            return iam_backends[self.account][self.partition].get_role(name)
        except Exception:  # moto's not-found
            return None

    def role_arn(self, name):
        role = self.role(name)
        path = role.path if role is not None else "/"
        return f"arn:{self.partition}:iam::{self.account}:role{path}{name}"

    def role_tags(self, name):
        role = self.role(name)
        if role is None:
            return None
        tags = role.tags
        if isinstance(tags, dict):
            return {k: (v["Value"] if isinstance(v, dict) else v) for k, v in tags.items()}
        return {t["Key"]: t["Value"] for t in tags or []}

    def ec2_tags(self, resource_id):
        from moto.ec2.models import ec2_backends

        backend = ec2_backends[self.account][self.region]
        return {t["key"]: t["value"] for t in backend.describe_tags(filters={"resource-id": [resource_id]})}

    def bedrock_backend(self):
        from moto.bedrock.models import bedrock_backends

        return bedrock_backends[self.account][self.region]

    def bedrock_arn(self, kind, identifier):
        """A job or model's ARN: given as an ARN, or looked up by name."""
        if identifier.startswith("arn:"):
            return identifier
        backend = self.bedrock_backend()
        try:
            if kind == "model-customization-job":
                return backend.get_model_customization_job(identifier).job_arn
            return backend.get_custom_model(identifier).model_arn
        except Exception:
            return f"arn:{self.partition}:bedrock:{self.region}:{self.account}:{kind}/{identifier}"

    def ssm_backend(self):
        from moto.ssm.models import ssm_backends

        return ssm_backends[self.account][self.region]

    def ssm_key_of(self, name):
        try:
            return self.ssm_backend().get_parameter(name).keyid
        except Exception:
            return None

    def ssm_keys_under(self, path):
        keys = set()
        try:
            for name in list(self.ssm_backend()._parameters):
                if name.startswith(path.rstrip("/") + "/"):
                    keys.add(self.ssm_key_of(name))
        except Exception:
            pass
        return sorted(k for k in keys if k and not k.startswith("alias/aws/"))

    def resource_policy(self, request):
        """The policy of the bucket or key a request touches, as the emulator
        holds it now (None: the resource has none, or is not in the emulator)."""
        arn = request.resource
        if arn.startswith(f"arn:{self.partition}:s3:::"):
            from moto.s3.models import s3_backends

            bucket = arn.split(":::", 1)[1].split("/", 1)[0]
            found = s3_backends[self.account][self.partition].buckets.get(bucket)
            if found is None or not found.policy:
                return None
            return ResourcePolicy(json.loads(found.policy), "bucket")
        if ":kms:" in arn and ":key/" in arn:
            from moto.kms.models import kms_backends

            region = arn.split(":")[3]
            key = kms_backends[self.account][region].keys.get(arn.rsplit("/", 1)[-1])
            # A key the emulator does not hold has the default key policy
            # (the account delegates to IAM): what IAM decides stands.
            doc = json.loads(key.policy) if key is not None else {"Statement": [{
                "Sid": "Enable IAM User Permissions", "Effect": "Allow",
                "Principal": {"AWS": f"arn:{self.partition}:iam::{self.account}:root"},
                "Action": "kms:*", "Resource": "*"}]}
            return ResourcePolicy(doc, "key")
        return None

    def bedrock_tags(self, arn):
        import deployments

        served = deployments.tags_of(arn)
        if served is not None:
            return served
        backend = self.bedrock_backend()
        try:
            return {t["key"]: t["value"] for t in backend.list_tags_for_resource(arn)}
        except Exception:
            return {}


def _iam(p, state):
    """IAM: every role operation is on the role (list_awsidentityandaccessmanagementiam)."""
    op = p.operation
    name = p.param("RoleName")
    if op == "CreateRole":
        path = p.param("Path") or "/"
        arn = f"arn:{state.partition}:iam::{state.account}:role{path}{name}"
        tags = p.iam_tags()
        ctx = _tag_context(tags)
        if p.param("PermissionsBoundary"):
            ctx["iam:PermissionsBoundary"] = p.param("PermissionsBoundary")
        reqs = [Request("iam:CreateRole", arn, ctx)]
        if tags:
            reqs.append(Request("iam:TagRole", arn, _tag_context(tags)))
        return reqs
    if name is None:
        return None
    arn = state.role_arn(name)
    resource_tags = state.role_tags(name)
    if op == "TagRole":
        ctx = _tag_context(p.iam_tags(), resource_tags)
    elif op == "UntagRole":
        ctx = _tag_context(None, resource_tags)
        ctx["aws:TagKeys"] = p.numbered("TagKeys")
    else:
        ctx = _tag_context(None, resource_tags)
    if op == "PutRolePermissionsBoundary":
        ctx["iam:PermissionsBoundary"] = p.param("PermissionsBoundary")
    if op in ("DetachRolePolicy", "AttachRolePolicy"):
        ctx["iam:PolicyARN"] = p.param("PolicyArn")
    known = {"GetRole", "TagRole", "UntagRole", "UpdateAssumeRolePolicy", "PutRolePolicy",
             "DeleteRolePolicy", "GetRolePolicy", "ListRolePolicies", "ListAttachedRolePolicies",
             "DetachRolePolicy", "PutRolePermissionsBoundary", "DeleteRolePermissionsBoundary",
             "DeleteRole", "ListRoleTags"}
    if op not in known:
        return None
    return [Request(f"iam:{op}", arn, ctx)]


def _ec2(p, state):
    """EC2 (list_amazonec2): Describe* take no resource; endpoint calls name theirs."""
    op = p.operation
    arn = f"arn:{state.partition}:ec2:{state.region}:{state.account}"
    if op.startswith("Describe"):
        return [Request(f"ec2:{op}", "*")]
    if op == "CreateVpcEndpoint":
        tags = {}
        for i in range(1, 10):
            if p.param(f"TagSpecification.{i}.ResourceType") == "vpc-endpoint":
                tags.update(p.ec2_tags(f"TagSpecification.{i}.Tag"))
        service = p.param("ServiceName")
        endpoint_ctx = _tag_context(tags)
        endpoint_ctx["ec2:VpceServiceName"] = service
        endpoint_ctx["ec2:VpceServiceOwner"] = "amazon"
        reqs = [Request("ec2:CreateVpcEndpoint", f"{arn}:vpc-endpoint/*", endpoint_ctx)]
        vpc = p.param("VpcId")
        reqs.append(Request("ec2:CreateVpcEndpoint", f"{arn}:vpc/{vpc}",
                            _tag_context(None, state.ec2_tags(vpc), ec2=True)))
        for rt in p.numbered("RouteTableId"):
            reqs.append(Request("ec2:CreateVpcEndpoint", f"{arn}:route-table/{rt}",
                                _tag_context(None, state.ec2_tags(rt), ec2=True)))
        for sg in p.numbered("SecurityGroupId"):
            reqs.append(Request("ec2:CreateVpcEndpoint", f"{arn}:security-group/{sg}",
                                _tag_context(None, state.ec2_tags(sg), ec2=True)))
        for sn in p.numbered("SubnetId"):
            reqs.append(Request("ec2:CreateVpcEndpoint", f"{arn}:subnet/{sn}",
                                _tag_context(None, state.ec2_tags(sn), ec2=True)))
        if tags:
            ctx = _tag_context(tags)
            ctx["ec2:CreateAction"] = "CreateVpcEndpoint"
            reqs.append(Request("ec2:CreateTags", f"{arn}:vpc-endpoint/*", ctx))
        return reqs
    if op == "ModifyVpcEndpoint":
        eid = p.param("VpcEndpointId")
        reqs = [Request("ec2:ModifyVpcEndpoint", f"{arn}:vpc-endpoint/{eid}",
                        _tag_context(None, state.ec2_tags(eid), ec2=True))]
        for rt in p.numbered("AddRouteTableId") + p.numbered("RemoveRouteTableId"):
            reqs.append(Request("ec2:ModifyVpcEndpoint", f"{arn}:route-table/{rt}",
                                _tag_context(None, state.ec2_tags(rt), ec2=True)))
        return reqs
    if op == "DeleteVpcEndpoints":
        return [Request("ec2:DeleteVpcEndpoints", f"{arn}:vpc-endpoint/{e}",
                        _tag_context(None, state.ec2_tags(e), ec2=True))
                for e in p.numbered("VpcEndpointId")]
    if op in ("CreateTags", "DeleteTags"):
        tags = p.ec2_tags("Tag")
        reqs = []
        for rid in p.numbered("ResourceId"):
            kind = {"vpce": "vpc-endpoint", "rtb": "route-table", "vpc": "vpc",
                    "subnet": "subnet", "sg": "security-group"}.get(rid.split("-")[0], "unknown")
            ctx = _tag_context(tags if op == "CreateTags" else None, state.ec2_tags(rid), ec2=True)
            if op == "DeleteTags":
                ctx["aws:TagKeys"] = list(tags)
            reqs.append(Request(f"ec2:{op}", f"{arn}:{kind}/{rid}", ctx))
        return reqs
    return None


def _s3(p, state):
    """S3 (list_amazons3): bucket-policy calls are on the bucket."""
    bucket = p.path.lstrip("/").split("/", 1)[0]
    key = p.path.lstrip("/").split("/", 1)[1] if "/" in p.path.lstrip("/") else ""
    bucket_arn = f"arn:{state.partition}:s3:::{bucket}"
    action = {
        "GetBucketPolicy": "s3:GetBucketPolicy",
        "PutBucketPolicy": "s3:PutBucketPolicy",
        "DeleteBucketPolicy": "s3:DeleteBucketPolicy",
        "GetBucketLocation": "s3:GetBucketLocation",
    }.get(p.operation)
    if action:
        return [Request(action, bucket_arn)]
    if p.operation in ("S3Head", "S3Get") and key:
        # HeadObject and GetObject are both authorized as s3:GetObject.
        return [Request("s3:GetObject", f"{bucket_arn}/{key}")]
    if p.operation == "ListObjectsV2":
        ctx = {}
        if "prefix" in p.query:
            ctx["s3:prefix"] = p.query["prefix"][0]
        if "max-keys" in p.query:
            ctx["s3:max-keys"] = p.query["max-keys"][0]
        return [Request("s3:ListBucket", bucket_arn, ctx)]
    if p.operation == "S3Head" and not key:
        # HeadBucket is authorized as s3:ListBucket.
        return [Request("s3:ListBucket", bucket_arn)]
    return None


def _bedrock(p, state):
    """Bedrock (list_amazonbedrock, list_bedrock)."""
    op = p.operation
    base = f"arn:{state.partition}:bedrock:{state.region}:{state.account}"
    body = p.json or {}
    segments = [urllib.parse.unquote(s) for s in p.path.strip("/").split("/")]

    def model_arn(identifier):
        if identifier.startswith("arn:"):
            return identifier
        return f"arn:{state.partition}:bedrock:{state.region}::foundation-model/{identifier}"

    if op == "CreateModelCustomizationJob":
        job_tags = {t["key"]: t["value"] for t in body.get("jobTags") or []}
        model_tags = {t["key"]: t["value"] for t in body.get("customModelTags") or []}
        all_tags = dict(job_tags)
        all_tags.update(model_tags)
        ctx = _tag_context(all_tags) if all_tags else {}
        job_arn = f"{base}:model-customization-job/*"
        new_model_arn = f"{base}:custom-model/*"
        # The Service Authorization Reference: the action is authorized on
        # the custom model it makes and the models it reads, not on the job.
        reqs = [
            Request("bedrock:CreateModelCustomizationJob", new_model_arn, ctx),
            Request("bedrock:CreateModelCustomizationJob", model_arn(body.get("baseModelIdentifier", "")), ctx),
            Request("iam:PassRole", body.get("roleArn", ""),
                    {"iam:PassedToService": "bedrock.amazonaws.com",
                     "iam:AssociatedResourceArn": job_arn}),
        ]
        teacher = (((body.get("customizationConfig") or {}).get("distillationConfig") or {})
                   .get("teacherModelConfig") or {}).get("teacherModelIdentifier")
        # A teacher behind an inference profile is invoked by the service
        # role; the action takes no inference-profile resource.
        if teacher and not is_inference_profile(teacher):
            reqs.append(Request("bedrock:CreateModelCustomizationJob", model_arn(teacher), ctx))
        if job_tags:
            reqs.append(Request("bedrock:TagResource", job_arn, _tag_context(job_tags)))
        if model_tags:
            reqs.append(Request("bedrock:TagResource", new_model_arn, _tag_context(model_tags)))
        key = body.get("customModelKmsKeyId")
        if key:
            # What the caller needs on the model key (encryption-custom-job):
            # Bedrock uses it on the caller's behalf, so via Bedrock only.
            via = {"kms:ViaService": f"bedrock.{state.region}.amazonaws.com",
                   "kms:CallerAccount": state.account}
            for action in ("kms:DescribeKey", "kms:GenerateDataKey", "kms:Decrypt", "kms:CreateGrant"):
                reqs.append(Request(action, key, via))
        return reqs
    if op in ("GetModelCustomizationJob", "StopModelCustomizationJob"):
        arn = state.bedrock_arn("model-customization-job", segments[1])
        ctx = _tag_context(None, state.bedrock_tags(arn))
        return [Request(f"bedrock:{op}", arn, ctx)]
    if op in ("GetCustomModel", "DeleteCustomModel"):
        arn = state.bedrock_arn("custom-model", segments[1])
        ctx = _tag_context(None, state.bedrock_tags(arn))
        return [Request(f"bedrock:{op}", arn, ctx)]
    if op in ("CreateCustomModelDeployment", "CreateProvisionedModelThroughput"):
        # On the custom model it serves (list_amazonbedrock), with the
        # request's tags; tagging on creation is bedrock:TagResource on the
        # new resource.
        tags = {t["key"]: t["value"] for t in body.get("tags") or []}
        ctx = _tag_context(tags) if tags else {}
        model = body.get("modelArn") if op == "CreateCustomModelDeployment" else body.get("modelId")
        kind = "custom-model-deployment" if op == "CreateCustomModelDeployment" else "provisioned-model"
        reqs = [Request(f"bedrock:{op}", state.bedrock_arn("custom-model", model or ""), ctx)]
        if tags:
            reqs.append(Request("bedrock:TagResource", f"{base}:{kind}/*", _tag_context(tags)))
        return reqs
    if op in ("GetCustomModelDeployment", "DeleteCustomModelDeployment",
              "GetProvisionedModelThroughput", "DeleteProvisionedModelThroughput"):
        import deployments

        kind, arn_kind = (("deployment", "custom-model-deployment") if "CustomModelDeployment" in op
                          else ("throughput", "provisioned-model"))
        identifier = segments[-1]
        arn = identifier if identifier.startswith("arn:") else (
            deployments.arn_of(kind, identifier) or f"{base}:{arn_kind}/{identifier}")
        return [Request(f"bedrock:{op}", arn, _tag_context(None, state.bedrock_tags(arn)))]
    if op == "GetFoundationModel":
        return [Request("bedrock:GetFoundationModel", model_arn(segments[1]))]
    if op == "GetInferenceProfile":
        identifier = urllib.parse.unquote(p.path)[len("/inference-profiles/"):]
        arn = identifier if identifier.startswith("arn:") else f"{base}:inference-profile/{identifier}"
        return [Request("bedrock:GetInferenceProfile", arn)]
    if op == "ListFoundationModels":
        return [Request("bedrock:ListFoundationModels", "*")]
    if op in ("ListTagsForResource", "TagResource", "UntagResource"):
        arn = body.get("resourceARN", "")
        resource_tags = state.bedrock_tags(arn)
        if op == "TagResource":
            ctx = _tag_context({t["key"]: t["value"] for t in body.get("tags") or []}, resource_tags)
        else:
            ctx = _tag_context(None, resource_tags)
            if op == "UntagResource":
                ctx["aws:TagKeys"] = list(body.get("tagKeys") or [])
        return [Request(f"bedrock:{op}", arn, ctx)]
    return None


def is_inference_profile(identifier):
    """A cross-region profile: `<geography>.<provider>.<model>`, or its ARN."""
    if identifier.startswith("arn:"):
        return ":inference-profile/" in identifier
    return identifier.split(":", 1)[0].count(".") >= 2


def _lambda(p, state):
    """Lambda (list_awslambda): GetFunction is on the function, qualified or not."""
    if p.operation == "GetFunction":
        name = urllib.parse.unquote(p.path).rsplit("/", 1)[-1]
        arn = name if name.startswith("arn:") else \
            f"arn:{state.partition}:lambda:{state.region}:{state.account}:function:{name}"
        return [Request("lambda:GetFunction", arn)]
    return None


def _kms(p, state):
    """KMS (list_awskeymanagementservice): DescribeKey is on the key."""
    key = (p.json or {}).get("KeyId", "")
    if not key.startswith("arn:"):
        key = f"arn:{state.partition}:kms:{state.region}:{state.account}:key/{key}"
    if p.operation == "DescribeKey":
        return [Request("kms:DescribeKey", key, {"kms:CallerAccount": state.account})]
    return None


def _ssm(p, state):
    """SSM (list_awssystemsmanager): parameters by ARN, with SSM's KMS use."""
    body = p.json or {}
    base = f"arn:{state.partition}:ssm:{state.region}:{state.account}:parameter"
    via = {"kms:ViaService": f"ssm.{state.region}.amazonaws.com", "kms:CallerAccount": state.account}

    def key_arn(key):
        if not key or key.startswith("alias/aws/"):
            return None  # the AWS managed key: its key policy grants use via SSM
        return key if key.startswith("arn:") else f"arn:{state.partition}:kms:{state.region}:{state.account}:key/{key}"

    if p.operation == "GetParametersByPath":
        path = body.get("Path", "")
        reqs = [Request("ssm:GetParametersByPath", f"{base}{path.rstrip('/')}")]
        if body.get("WithDecryption"):
            reqs += [Request("kms:Decrypt", k, via) for k in state.ssm_keys_under(path)]
        return reqs
    name = body.get("Name", "")
    arn = f"{base}{name}" if name.startswith("/") else f"{base}/{name}"
    if p.operation == "PutParameter":
        reqs = [Request("ssm:PutParameter", arn)]
        key = key_arn(body.get("KeyId")) if body.get("Type") == "SecureString" else None
        if key:
            reqs.append(Request("kms:Encrypt", key, via))
            # An advanced-tier parameter is envelope-encrypted (a data key
            # per value); without a Tier the account's default tier applies,
            # which may be advanced or intelligent-tiering.
            if body.get("Tier") != "Standard":
                reqs.append(Request("kms:GenerateDataKey", key, via))
        return reqs
    if p.operation == "GetParameter":
        reqs = [Request("ssm:GetParameter", arn)]
        key = key_arn(state.ssm_key_of(name)) if body.get("WithDecryption") else None
        if key:
            reqs.append(Request("kms:Decrypt", key, via))
        return reqs
    if p.operation == "DeleteParameter":
        return [Request("ssm:DeleteParameter", arn)]
    return None


TABLE = {"iam": _iam, "ec2": _ec2, "s3": _s3, "bedrock": _bedrock, "kms": _kms, "ssm": _ssm,
         "lambda": _lambda}


def required(parsed, state):
    """What IAM checks for one request; None for an operation not in the table."""
    fn = TABLE.get(parsed.service)
    return fn(parsed, state) if fn else None


def handler_principal(state, stack="bedrock-customization-setup"):
    """The handler's execution role, and the request-wide context keys IAM
    fills for it (it calls AWS over TLS)."""
    arn = f"arn:{state.partition}:iam::{state.account}:role/{stack}-HandlerRole-TESTBED"
    return arn, {"aws:PrincipalArn": arn, "aws:PrincipalAccount": state.account,
                 "aws:SecureTransport": "true"}


def verdict(policy, request, state):
    """authz.py's verdict on one (action, resource) question: None when IAM
    allows it, otherwise why not (identity policy first, then the resource's)."""
    why = policy.evaluate(request)
    if why:
        return why
    resource_policy = state.resource_policy(request)
    if resource_policy is not None:
        principal, _ = handler_principal(state)
        return resource_policy.verdict(request, principal, state.account)
    return None


def questions(parsed, state):
    """Every (action, resource) question of a request, with the request-wide
    keys; None for an operation not in the table."""
    reqs = required(parsed, state)
    if reqs is None:
        return None
    _, context = handler_principal(state)
    return [r.with_context(context) for r in reqs]


def judge(policy, parsed, state):
    """None when the whole request is allowed; otherwise a sentence naming the
    operation, the ARN and what no statement grants."""
    reqs = questions(parsed, state)
    if reqs is None:
        return (f"{parsed.service}:{parsed.operation} is not in the test bed's authorization table "
                f"(tests/emulator/authz.py): add it from the Service Authorization Reference")
    for r in reqs:
        why = verdict(policy, r, state)
        if why:
            return f"{parsed.operation}: {why}"
    return None
