"""Step 5 of the rehearsal for the roles the stack creates: every AWS call each
function made in the workflow (recorded on its way to the emulator), what the
resources' configuration implies (an SSE-KMS topic's key, the function's log
group, its traces), and every invocation the state machine made, judged
against the deployed roles; then every granted permission no request used."""

import json
import urllib.parse

from emulator import ACCOUNT, PARTITION, REGION
from policies import Request, action_matches, matches


def _arn(service, rest):
    return f"arn:{PARTITION}:{service}:{REGION}:{ACCOUNT}:{rest}"


class Resources:
    """What the deployed resources say about the calls made on them, read from the emulator."""

    def __init__(self, moto):
        self.sns = moto.client("sns")
        self.kms = moto.client("kms")
        self._keys = {}
        self._topic_keys = {}

    def topic_key(self, topic_arn):
        """The KMS key ARN, tags and key policy of an SSE-KMS topic, or None."""
        if topic_arn not in self._topic_keys:
            key_id = self.sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"].get("KmsMasterKeyId")
            self._topic_keys[topic_arn] = self.key(key_id) if key_id else None
        return self._topic_keys[topic_arn]

    def key(self, key_id):
        """A KMS key's ARN, tags and key policy, read from the emulator once per key."""
        if key_id not in self._keys:
            key = self.kms.describe_key(KeyId=key_id)["KeyMetadata"]
            tags = self.kms.list_resource_tags(KeyId=key["KeyId"]).get("Tags", [])
            policy = json.loads(self.kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"])
            self._keys[key_id] = key["Arn"], {t["TagKey"]: t["TagValue"] for t in tags}, policy
        return self._keys[key_id]


def call_requests(role, function, call, resources):
    """The IAM requests behind one recorded AWS call of a function: the call itself, and
    what its resource's configuration adds. Raises ValueError for a call it cannot place."""
    service, operation, body = call["service"], call["operation"], call["body"]
    why = f"{function} called {service} {operation}"
    if service == "dynamodb":
        table = json.loads(body or "{}").get("TableName")
        if not table:
            raise ValueError(f"{why} without a TableName")
        return [Request(role, f"dynamodb:{operation}", _arn("dynamodb", f"table/{table}"), why)]
    if service == "sns":
        form = urllib.parse.parse_qs(body)
        topic = (form.get("TopicArn") or form.get("TargetArn") or [""])[0]
        if not topic:
            raise ValueError(f"{why} without a TopicArn")
        requests = [Request(role, f"sns:{operation}", topic, why)]
        key = resources.topic_key(topic) if operation == "Publish" else None
        if key:
            key_arn, tags, key_policy = key
            context = {f"aws:ResourceTag/{k}": v for k, v in tags.items()}
            context["kms:ViaService"] = f"sns.{REGION}.amazonaws.com"
            for action in ("kms:GenerateDataKey", "kms:Decrypt"):
                requests.append(Request(role, action, key_arn, f"{why} on {topic}, encrypted with KMS key {key_arn}",
                                        context, resource_policy=key_policy))
        return requests
    raise ValueError(f"{why}: the rehearsal does not know which resource that names")


def function_requests(function, role, records, resources, template):
    """Everything a function's role must allow: its recorded calls, its logs and its traces."""
    requests, unplaced = [], []
    for record in records:
        if record["kind"] == "aws_call" and record["function"] == function["name"]:
            try:
                requests.extend(call_requests(role, function["name"], record, resources))
            except ValueError as error:
                unplaced.append(str(error))
    properties = template["Resources"][function["logical"]]["Properties"]
    group = properties.get("LoggingConfig", {}).get("LogGroup") or f"/aws/lambda/{function['name']}"
    if isinstance(group, dict):
        group = f"/aws/lambda/{function['name']}"
    group_arn = _arn("logs", f"log-group:{group}")
    why = f"Lambda writes {function['name']}'s logs to {group}"
    stream_arn = f"{group_arn}:log-stream:2026/01/01/[$LATEST]0123456789abcdef"
    requests.append(Request(role, "logs:CreateLogStream", stream_arn, why))
    requests.append(Request(role, "logs:PutLogEvents", stream_arn, why))
    if properties.get("TracingConfig", {}).get("Mode") == "Active":
        why = f"{function['name']} has active tracing: Lambda sends its segments"
        for action in ("xray:PutTraceSegments", "xray:PutTelemetryRecords"):
            requests.append(Request(role, action, "*", why))
    return requests, unplaced


# Step Functions' documented needs for a state machine's logging and tracing
# (Developer Guide: "IAM policies for logging to CloudWatch Logs", "for X-Ray").
LOG_DELIVERY = ["logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
                "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies",
                "logs:DescribeLogGroups"]
TRACING = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"]


def state_machine_requests(role, machine, records, stage):
    requests = []
    name = machine["name"]
    for record in records:
        if record["kind"] != "invoke":
            continue
        target = record["arn"] or record["function"]
        if record.get("qualifier"):
            target = f"{target}:{record['qualifier']}"
        requests.append(Request(role, "lambda:InvokeFunction", target, f"{name} invoked {record['function']}"))
    logging = machine.get("loggingConfiguration", {})
    if logging.get("level", "OFF") != "OFF" and logging.get("destinations"):
        for action in LOG_DELIVERY:
            requests.append(Request(role, action, "*", f"{name} logs at level {logging['level']}"))
    if machine.get("tracingConfiguration", {}).get("enabled"):
        for action in TRACING:
            requests.append(Request(role, action, "*", f"{name} has tracing enabled"))
    # Exactly its own functions: any other function, or another version of its own, is refused.
    outsider = _arn("lambda", f"function:orderflow-{stage}-not-in-this-stack")
    requests.append(Request(role, "lambda:InvokeFunction", outsider,
                            f"{name} must not invoke a function outside its stack", expect="denied"))
    requests.append(Request(role, "lambda:InvokeFunction", _arn("lambda", "function:another-application"),
                            f"{name} must not invoke another application's function", expect="denied"))
    return requests


def unused_grants(role, requests, expansions):
    """Each (action, resource pattern, statement) the role allows that no allowed request used."""
    used = [r for r in requests if r.role is role and r.decision == "Allowed" and r.expect == "Allowed"]
    unused = []
    for pattern, resource, where in role.grants():
        actions = expansions.get(pattern, [pattern]) if "*" in pattern or "?" in pattern else [pattern]
        for action in actions or [pattern]:
            if not any(action_matches(action, r.action) and matches(resource, r.resource) for r in used):
                unused.append((action.lower(), resource, where))
    return unused
