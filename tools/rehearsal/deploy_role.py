"""Step 5 of the rehearsal for the GitHub deploy role
(infra/github-deploy-role.yaml): it must allow what CloudFormation's resource
handlers need to create, update and delete each resource of the transformed
stack (the `handlers` of the resource schemas cfn-lint ships), what `sam
deploy` itself calls (recorded on its way to the emulator), and nothing that
would let it escalate."""

import glob
import json
import os
import re

import cfnlint

from emulator import ACCOUNT, PARTITION, REGION
from least_privilege import Resources
from policies import Request, action_matches, covers, evaluate, matches, statements
from stack import Resolver, condition_holds

SCHEMAS = os.path.join(os.path.dirname(cfnlint.__file__), "data", "schemas")
PASSED_TO = {"AWS::Lambda::Function": "lambda.amazonaws.com", "AWS::StepFunctions::StateMachine":
             "states.amazonaws.com", "AWS::SNS::Topic": "sns.amazonaws.com"}


def handler_permissions(kind):
    """{create|update|delete: [action]} from the resource type's CloudFormation schema."""
    with open(os.path.join(SCHEMAS, "providers", f"{REGION}.json"), encoding="utf-8") as f:
        index = json.load(f)
    name = index.get(kind)
    if not name:
        return None
    path = os.path.join(SCHEMAS, "resources", f"{name}.json")
    if not os.path.exists(path):
        path = next(iter(glob.glob(os.path.join(SCHEMAS, "resources", f"{name}*"))), path)
    with open(path, encoding="utf-8") as f:
        schema = json.load(f)
    return {op: h.get("permissions", []) for op, h in schema.get("handlers", {}).items()
            if op in ("create", "update", "delete")}


def _has(properties, path):
    value = properties
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return False
        value = value[part]
    return value not in (None, [], {}, "")


def _arn_regex(pattern):
    parts = re.split(r"\$\{[^}]+\}", pattern)
    return re.compile("^" + "[^/]*?".join(re.escape(p) for p in parts).replace("[^/]*?", ".+") + "$")


def _arns_in(value, out):
    if isinstance(value, dict):
        bucket = value.get("S3Bucket") or value.get("Bucket")
        key = value.get("S3Key") or value.get("Key")
        if isinstance(bucket, str) and isinstance(key, str):
            out.append(f"arn:{PARTITION}:s3:::{bucket}/{key}")
        for v in value.values():
            _arns_in(v, out)
    elif isinstance(value, list):
        for v in value:
            _arns_in(v, out)
    elif isinstance(value, str) and value.startswith("arn:"):
        out.append(value)


class Needs:
    """The handler permissions of every resource in the stack, as requests of the deploy role."""

    def __init__(self, moto, stacks, permissions, role):
        """`stacks`: (template, {logical id: (type, physical id)}, parameters, handler operations) of each
        stack the deploy makes: create, update and delete for the application, create only for SAM CLI's
        managed stack (made once per account, never changed by a deploy)."""
        self.moto, self.stacks, self.role = moto, stacks, role
        self.rules = permissions.get("handler_permissions", {})
        self.keys = Resources(moto)
        self.problems = []
        self.not_needed = []
        self.rules_used = set()

    def own_arn(self, logical, kind, physical, properties):
        if kind in ("AWS::Lambda::Function", "AWS::IAM::Role", "AWS::DynamoDB::Table", "AWS::KMS::Key"):
            return self.resolve.arn(logical)
        if kind == "AWS::Logs::LogGroup":
            return f"arn:{PARTITION}:logs:{REGION}:{ACCOUNT}:log-group:{physical}"
        if kind == "AWS::S3::Bucket":
            return f"arn:{PARTITION}:s3:::{physical}"
        if kind == "AWS::S3::BucketPolicy":
            return f"arn:{PARTITION}:s3:::{properties.get('Bucket')}"
        if kind == "AWS::CloudWatch::Alarm":
            return f"arn:{PARTITION}:cloudwatch:{REGION}:{ACCOUNT}:alarm:{properties.get('AlarmName', logical)}"
        return physical if str(physical).startswith("arn:") else None

    def related_arns(self, properties):
        """The ARNs a resource's properties name: written out, or a KMS key named by its id."""
        out = []
        _arns_in(properties, out)
        keys = {physical: logical for logical, (kind, physical) in self.made.items() if kind == "AWS::KMS::Key"}
        values = []
        _ids_in(properties, values)
        out += [self.resolve.arn(keys[v]) for v in values if v in keys]
        return out

    def rule_for(self, kind, action, properties):
        """The written reason this stack's use of the resource does not need `action`, or None."""
        for index, rule in enumerate(self.rules.get(kind, [])):
            if not any(action_matches(a, action) for a in rule["actions"]):
                continue
            self.rules_used.add((kind, index))
            when = rule.get("when", [])
            if any(_has(properties, path) for path in when):
                return None
            return rule["reason"] + (f" (needed only with {', '.join(when)}, which it does not set)" if when else "")
        return None

    def requests(self):
        requests = []
        for template, made, parameters, operations in self.stacks:
            self.template, self.made, self.parameters, self.operations = template, made, parameters, operations
            self.resolve = Resolver(self.moto, template, made, parameters)
            requests.extend(self.stack_requests())
        return requests

    def stack_requests(self):
        plan = []
        for logical, resource in self.template["Resources"].items():
            if not condition_holds(self.template, resource, self.parameters):
                continue
            kind = resource["Type"]
            handlers = handler_permissions(kind)
            if handlers is None:
                self.problems.append(f"{logical} ({kind}): no CloudFormation resource schema names its handlers")
                continue
            raw = resource.get("Properties", {})
            properties = self.resolve(raw)
            physical = self.made.get(logical, (kind, logical))[1]
            # The resources a permission of this one may name: its own, and those it refers to.
            candidates = [self.own_arn(logical, kind, physical, properties)] + self.related_arns(properties)
            for operation in self.operations:
                for action in handlers.get(operation, []):
                    reason = self.rule_for(kind, action, raw)
                    if reason:
                        self.not_needed.append({"resource": logical, "type": kind, "handler": operation,
                                                "action": action, "reason": reason})
                        continue
                    plan.append((logical, kind, operation, action, properties, candidates))
        _, facts = evaluate([], actions={step[3] for step in plan})
        requests, seen = [], set()
        for logical, kind, operation, action, properties, candidates in plan:
            fact = facts[action]
            why = f"CloudFormation's {operation} handler of {logical} ({kind})"
            if not fact["exists"]:
                self.problems.append(f"{why} lists {action}, which IAM does not know")
                continue
            if fact["wildcardOnly"]:
                resource = "*"
            else:
                patterns = [_arn_regex(p) for p in fact["arns"]]
                resource = next((c for c in candidates if c and any(p.match(c) for p in patterns)), None)
                if resource is None:
                    self.problems.append(
                        f"{why} lists {action} (on {' or '.join(fact['arns'])}), and the stack names no such "
                        f"resource: if a property this stack does not set is what needs it, say so in "
                        f"infra/permissions.yaml (handler_permissions, with `when`)")
                    continue
            key_policy = None
            if action.startswith("kms:") and resource.startswith(f"arn:{PARTITION}:kms:"):
                key_policy = self.keys.key(resource)[2]
            for context in self.contexts(logical, kind, action, properties):
                key = (action, resource, json.dumps(context, sort_keys=True))
                if key in seen:
                    continue
                seen.add(key)
                requests.append(Request(self.role, action, resource, why, context, resource_policy=key_policy))
        return requests

    def contexts(self, logical, kind, action, properties):
        """The request context the call carries, from the resource's own properties."""
        base = {}
        if action == "iam:PassRole":
            base["iam:PassedToService"] = PASSED_TO.get(kind, "")
        if kind == "AWS::IAM::Role" and action.startswith("iam:"):
            boundary = properties.get("PermissionsBoundary")
            if boundary and action in ("iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy",
                                       "iam:AttachRolePolicy", "iam:DetachRolePolicy",
                                       "iam:PutRolePermissionsBoundary"):
                base["iam:PermissionsBoundary"] = boundary
            if action in ("iam:AttachRolePolicy", "iam:DetachRolePolicy"):
                return [dict(base, **{"iam:PolicyARN": arn}) for arn in properties.get("ManagedPolicyArns", [])]
        tags = properties.get("Tags") or []
        tag_map = ({t["Key"]: t["Value"] for t in tags} if isinstance(tags, list) else dict(tags))
        if kind == "AWS::KMS::Key" and action.startswith("kms:"):
            if action in ("kms:CreateKey", "kms:TagResource"):
                base.update({f"aws:RequestTag/{k}": v for k, v in tag_map.items()})
                base["aws:TagKeys"] = sorted(tag_map)
            else:
                base.update({f"aws:ResourceTag/{k}": v for k, v in tag_map.items()})
        return [base]


def stale_rules(needs):
    """Entries of handler_permissions that no handler of the stack lists: reasons that outlived their use."""
    return [f"infra/permissions.yaml handler_permissions {kind} #{i + 1} ({', '.join(rule['actions'])}) "
            f"matches no permission a handler of this stack lists: remove it"
            for kind, rules in needs.rules.items() for i, rule in enumerate(rules) if (kind, i) not in needs.rules_used]


def _ids_in(value, out):
    if isinstance(value, dict):
        for v in value.values():
            _ids_in(v, out)
    elif isinstance(value, list):
        for v in value:
            _ids_in(v, out)
    elif isinstance(value, str):
        out.append(value)


def deploy_calls(role, calls, managed_stack, managed_calls):
    """`sam package` and `sam deploy`'s own calls, as recorded, and SAM CLI's calls for its
    managed stack, which the rehearsal makes another way."""
    requests, seen = [], set()
    stack_arn = f"arn:{PARTITION}:cloudformation:{REGION}:{ACCOUNT}:stack/{managed_stack}/*"
    for action in managed_calls:
        requests.append(Request(role, action, stack_arn, f"SAM CLI makes its managed stack {managed_stack}"))
    for call in calls:
        key = (call["action"], call["resource"])
        if key not in seen:
            seen.add(key)
            requests.append(Request(role, call["action"], call["resource"], "sam package / sam deploy called it"))
    return requests


# Step Functions' guide ("IAM policies for logging to CloudWatch Logs"): whoever creates or updates a
# state machine that logs needs these. Not logs:PutResourcePolicy: the account's log resource policy
# is made once, by github-deploy-role.yaml (StateMachineLogDelivery), so a deploy never writes it.
CALLER_LOG_DELIVERY = ["logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery",
                       "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:DescribeResourcePolicies",
                       "logs:DescribeLogGroups"]


def logging_setup(role, template):
    """What creating a logging state machine asks of its creator, beyond the resource handler."""
    requests = []
    for logical, resource in template["Resources"].items():
        if resource["Type"] != "AWS::StepFunctions::StateMachine":
            continue
        logging = resource.get("Properties", {}).get("LoggingConfiguration", {})
        if logging.get("Destinations") and logging.get("Level", "OFF") != "OFF":
            for action in CALLER_LOG_DELIVERY:
                requests.append(Request(role, action, "*", f"creating {logical}, which logs to CloudWatch Logs"))
    return requests


def transform_grant(role, template_transform):
    """A real deploy sends the untransformed template: CloudFormation runs the SAM transform in the
    change set, which needs CreateChangeSet on the transform's own ARN. The evaluator's action data
    knows no such resource type, so this one is checked against the role's statements by pattern.
    Returns (the request, allowed or not)."""
    if not template_transform:
        return None
    arn = f"arn:{PARTITION}:cloudformation:{REGION}:aws:transform/{template_transform.split('::')[-1]}"
    request = Request(role, "cloudformation:CreateChangeSet", arn,
                      f"the template's Transform {template_transform} runs in CloudFormation's change set")
    allowed = any(action_matches(pattern, request.action) and matches(resource, arn)
                  for pattern, resource, _ in role.grants())
    denied = any(s.get("Effect") == "Deny" for p in role.identity + role.boundary
                 for s in statements(p["policy"]) if covers(s, request.action, arn))
    request.decision = "Allowed" if allowed and not denied else "ImplicitlyDenied"
    return request


def escalations(role, stage):
    """Requests the deploy role must never be allowed: each would let it reach past its boundary."""
    own = f"arn:{PARTITION}:iam::{ACCOUNT}:role/{role.name}"
    app_role = f"arn:{PARTITION}:iam::{ACCOUNT}:role/orderflow-{stage}-SomeFunctionRole"
    admin = f"arn:{PARTITION}:iam::aws:policy/AdministratorAccess"
    probes = [
        ("iam:CreateRole", app_role, {}, "create a role without the permissions boundary"),
        ("iam:CreateRole", app_role, {"iam:PermissionsBoundary": admin}, "create a role with another boundary"),
        ("iam:PutRolePolicy", own, {}, "write a policy onto the deploy role itself"),
        ("iam:AttachRolePolicy", own, {"iam:PolicyARN": admin}, "attach AdministratorAccess to itself"),
        ("iam:UpdateAssumeRolePolicy", own, {}, "change who may assume the deploy role"),
        ("iam:DeleteRolePermissionsBoundary", app_role, {}, "take the boundary off a role"),
        ("iam:PassRole", app_role, {"iam:PassedToService": "ec2.amazonaws.com"},
         "pass a role to a service other than Lambda and Step Functions"),
        ("iam:PassRole", f"arn:{PARTITION}:iam::{ACCOUNT}:role/admin",
         {"iam:PassedToService": "lambda.amazonaws.com"}, "pass a role that is not the project's"),
        ("iam:CreatePolicyVersion", f"arn:{PARTITION}:iam::{ACCOUNT}:policy/orderflow-function-boundary", {},
         "rewrite the permissions boundary"),
        ("iam:SetDefaultPolicyVersion", f"arn:{PARTITION}:iam::{ACCOUNT}:policy/orderflow-function-boundary", {},
         "switch the permissions boundary to another version"),
        ("iam:CreateUser", f"arn:{PARTITION}:iam::{ACCOUNT}:user/someone", {}, "create a user"),
        ("iam:CreateAccessKey", f"arn:{PARTITION}:iam::{ACCOUNT}:user/someone", {}, "make long-lived keys"),
        ("sts:AssumeRole", f"arn:{PARTITION}:iam::{ACCOUNT}:role/admin", {}, "assume another role"),
        ("kms:PutKeyPolicy", f"arn:{PARTITION}:kms:{REGION}:{ACCOUNT}:key/00000000-0000-0000-0000-000000000000",
         {"aws:ResourceTag/project": "other"}, "rewrite the key policy of a key that is not the project's"),
    ]
    return [Request(role, action, resource, f"it must not {why}", context, expect="denied")
            for action, resource, context, why in probes]
