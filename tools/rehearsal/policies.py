"""The roles as the emulator's IAM holds them after the deploy (inline and
managed policies, permissions boundary), and the policy evaluator that
judges requests against them (simulate.mjs: iam-simulate, pinned)."""

import ast
import fnmatch
import json
import os
import subprocess
import urllib.parse

from emulator import ACCOUNT
from report import Failure

HERE = os.path.dirname(os.path.abspath(__file__))


def _document(document):
    """A policy document as IAM's API returns it: a dict, or URL-encoded JSON text."""
    if isinstance(document, str):
        text = urllib.parse.unquote(document)
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            # moto keeps a document its CloudFormation was given as the Python text of it.
            return ast.literal_eval(text)
    return document


def managed_policy(iam, arn):
    policy = iam.get_policy(PolicyArn=arn)["Policy"]
    version = iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])["PolicyVersion"]
    return _document(version["Document"])


class Role:
    """One role: its ARN, identity policies and boundary, read back from the emulator."""

    def __init__(self, iam, name, logical=None):
        role = iam.get_role(RoleName=name)["Role"]
        self.name = name
        self.logical = logical or name
        self.arn = role["Arn"]
        self.identity = []
        for policy_name in iam.list_role_policies(RoleName=name)["PolicyNames"]:
            document = iam.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"]
            self.identity.append({"name": policy_name, "policy": _document(document)})
        self.attached = [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]]
        for arn in self.attached:
            self.identity.append({"name": arn, "policy": managed_policy(iam, arn)})
        boundary = role.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn")
        self.boundary_arn = boundary
        self.boundary = [{"name": boundary, "policy": managed_policy(iam, boundary)}] if boundary else []

    def grants(self):
        """Every (action pattern, resource pattern, statement) the role's own policies allow."""
        out = []
        for policy in self.identity:
            for index, statement in enumerate(statements(policy["policy"])):
                if statement.get("Effect") != "Allow":
                    continue
                sid = statement.get("Sid") or f"#{index + 1}"
                where = f"{policy['name'].rsplit('/', 1)[-1]} {sid}"
                if "NotAction" in statement or "NotResource" in statement:
                    out.append(("NotAction/NotResource", "*", where))
                    continue
                for action in listed(statement, "Action"):
                    for resource in listed(statement, "Resource"):
                        out.append((action, resource, where))
        return out


def statements(policy):
    """A policy document's statements: one, or a list."""
    return listed(policy, "Statement")


def listed(element, key):
    """A policy element that may be one value or a list, as a list."""
    value = element.get(key, [])
    return value if isinstance(value, list) else [value]


def covers(statement, action, resource):
    """Whether a statement's Action and Resource name this action on this resource."""
    return (any(action_matches(a, action) for a in listed(statement, "Action"))
            and any(matches(r, resource) for r in listed(statement, "Resource")))


class Request:
    """One AWS request a principal makes (or would make), and why it is made."""

    def __init__(self, role, action, resource, why, context=None, expect="Allowed", resource_policy=None):
        self.role = role
        # The resource's own policy where AWS reads one for the decision: a KMS key's key policy.
        self.resource_policy = resource_policy
        self.action = action
        self.resource = resource
        self.why = why
        self.context = dict(context or {})
        self.expect = expect
        self.decision = None
        self.errors = None

    def describe(self):
        return f"{self.role.logical} ({self.role.arn}) {self.action} on {self.resource}"


def global_context(role):
    return {
        "aws:PrincipalArn": role.arn,
        "aws:PrincipalAccount": ACCOUNT,
        "aws:PrincipalType": "AssumedRole",
        "aws:RequestedRegion": "us-east-1",
        "aws:SecureTransport": "true",
    }


def evaluate(requests, expand=(), actions=()):
    """Judges every request with the policy evaluator; returns its expansions of action patterns
    and the action facts asked for."""
    batch = {
        "simulations": [{
            "id": str(i), "principal": f"arn:aws:sts::{ACCOUNT}:assumed-role/{r.role.name}/rehearsal",
            "action": r.action, "resource": r.resource, "accountId": ACCOUNT,
            "context": {**global_context(r.role), **r.context},
            "identityPolicies": r.role.identity, "boundaryPolicies": r.role.boundary,
            "resourcePolicy": r.resource_policy,
        } for i, r in enumerate(requests)],
        "expand": sorted(set(expand)),
        "actions": sorted(set(actions)),
    }
    result = subprocess.run(["node", os.path.join(HERE, "simulate.mjs")], input=json.dumps(batch),
                            capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise Failure("the IAM policy evaluator", result.stderr.strip()[-2000:])
    answer = json.loads(result.stdout)
    for i, r in enumerate(requests):
        got = answer["results"][str(i)]
        r.decision = got["decision"]
        r.errors = got.get("errors")
    return answer["expansions"], answer["actions"]


def matches(pattern, value):
    """IAM's wildcard match: * any run of characters, ? one; actions compared without case."""
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


def action_matches(pattern, action):
    return matches(pattern.lower(), action.lower())
