"""Steps 2 and 3 of the rehearsal: the built template packaged into the
emulator's S3 as `sam package` (and so `sam deploy`) uploads it, transformed
with AWS's own SAM translator, and created as a stack in the emulator's
CloudFormation. Every resource is accounted for: created, or named as one the
emulator's CloudFormation does not make and checked statically instead."""

import json
import os
import shlex
import subprocess
import sys
import time
import tomllib

from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse  # the translator's loader: short-form intrinsics too

from report import Failure


def samconfig_parameters(samconfig, env="default"):
    """`parameter_overrides` of the [env] deploy section, as `sam deploy` reads them."""
    with open(samconfig, "rb") as f:
        config = tomllib.load(f)
    text = config.get(env, {}).get("deploy", {}).get("parameters", {}).get("parameter_overrides", "")
    parameters = {}
    for item in shlex.split(text):
        key, _, value = item.partition("=")
        parameters[key] = value
    return parameters


def samconfig_stack_name(samconfig, env="default"):
    """The stack name `sam deploy --config-env ENV` deploys to, or None."""
    with open(samconfig, "rb") as f:
        config = tomllib.load(f)
    return config.get(env, {}).get("global", {}).get("parameters", {}).get("stack_name")


def package(moto, built_template, prefix, out, recorder):
    """`sam package`, pointed at the emulator (through the recorder): with `resolve_s3` as
    samconfig.toml sets it, SAM CLI makes its managed stack (aws-sam-cli-managed-default) and
    its bucket as on an account's first deploy, then uploads the zips and the definition."""
    env = {**os.environ, **moto.environment(), "AWS_ENDPOINT_URL": recorder.endpoint, "SAM_CLI_TELEMETRY": "0"}
    result = subprocess.run(
        ["sam", "package", "--template-file", built_template, "--resolve-s3", "--s3-prefix", prefix,
         "--output-template-file", out, "--region", "us-east-1"],
        env=env, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise Failure("sam package", f"could not upload the artifacts to the emulator's S3:\n{sam_error(result)}")
    with open(out, encoding="utf-8") as f:
        return yaml_parse(f.read())


def sam_error(result):
    """What SAM CLI said when it failed, without its Python traceback."""
    text = (result.stdout or "") + "\n" + (result.stderr or "")
    lines = [line for line in text.splitlines()
             if line.strip() and not line.startswith((" ", "\t", "Traceback", "Search for", "Or create", "https://"))]
    return "\n".join(lines[-12:]) or "(no message)"


def check_translates(built, parameters, iam):
    """The SAM transform of the built template, before anything is uploaded: a template the
    translator refuses stops here, with the translator's own words. Local code and definition
    paths stand in as S3 locations, as `sam validate` does it."""
    template = json.loads(json.dumps(built))
    for resource in template.get("Resources", {}).values():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "DefinitionUri", "ContentUri"):
            if isinstance(properties.get(key), str) and not properties[key].startswith("s3://"):
                properties[key] = f"s3://rehearsal-placeholder/{properties[key]}"
    globals_ = template.get("Globals", {}).get("Function", {})
    if isinstance(globals_.get("CodeUri"), str) and not globals_["CodeUri"].startswith("s3://"):
        globals_["CodeUri"] = f"s3://rehearsal-placeholder/{globals_['CodeUri']}"
    translate(template, parameters, iam)


def translate(template, parameters, iam):
    """The SAM transform, done here with aws-sam-translator as CloudFormation does it."""
    try:
        return transform(template, parameters, ManagedPolicyLoader(iam))
    except Exception as error:  # the translator raises its own InvalidDocumentException and kin
        causes = getattr(error, "causes", None) or [error]
        raise Failure("SAM transform", "the translator refused the template:\n" +
                      "\n".join(f"  {getattr(c, 'message', c)}" for c in causes)) from None


def plain_template(path):
    with open(path, encoding="utf-8") as f:
        return yaml_parse(f.read())


def create(moto, name, template, parameters, supported_types):
    """Creates the stack and waits for it; returns {logical id: (type, physical id)} of what was made.

    A resource the emulator's CloudFormation cannot make is returned in `static` instead,
    with its type, for the caller to check another way."""
    cloudformation = moto.client("cloudformation")
    body = json.dumps(template)
    try:
        cloudformation.create_stack(
            StackName=name, TemplateBody=body,
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()
                        if k in template.get("Parameters", {})],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"])
    except Exception as error:
        raise Failure(f"stack {name}", f"CreateStack refused: {error}") from None
    return created(moto, name, template, parameters, supported_types)


def created(moto, name, template, parameters, supported_types):
    """Waits for the stack; returns ({logical id: (type, physical id)} of what was made,
    {logical id: type} of what the emulator's CloudFormation cannot make, the outputs)."""
    cloudformation = moto.client("cloudformation")
    deadline = time.monotonic() + 120
    while True:
        stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
        status = stack["StackStatus"]
        if not status.endswith("_IN_PROGRESS"):
            break
        if time.monotonic() > deadline:
            raise Failure(f"stack {name}", f"still {status} after 120 s")
        time.sleep(0.2)
    if status not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        events = cloudformation.describe_stack_events(StackName=name)["StackEvents"]
        failed = [f"  {e['LogicalResourceId']} ({e['ResourceType']}): {e.get('ResourceStatusReason', '')}"
                  for e in events if e["ResourceStatus"].endswith("FAILED")]
        raise Failure(f"stack {name}", f"ended {status}:\n" + "\n".join(failed or ["  (no event names a resource)"]))
    made = {r["LogicalResourceId"]: (r["ResourceType"], r["PhysicalResourceId"])
            for r in cloudformation.describe_stack_resources(StackName=name)["StackResources"]
            if "LogicalResourceId" in r}  # the emulator also lists the stack itself, unnamed
    wanted = {k: v for k, v in template["Resources"].items() if condition_holds(template, v, parameters)}
    static = {}
    for logical, resource in wanted.items():
        if logical in made:
            continue
        if resource["Type"] in supported_types:
            raise Failure(f"stack {name}", f"{logical} ({resource['Type']}) was not created, and no event says why")
        static[logical] = resource["Type"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    return made, static, outputs


def condition_holds(template, resource, parameters):
    name = resource.get("Condition")
    if not name:
        return True
    return evaluate(template, template["Conditions"][name], parameters)


def evaluate(template, expression, parameters):
    """The condition functions CloudFormation has, over the parameters' values."""
    if isinstance(expression, dict) and len(expression) == 1:
        (function, args), = expression.items()
        if function == "Fn::Equals":
            a, b = (evaluate(template, x, parameters) for x in args)
            return str(a) == str(b)
        if function == "Fn::Not":
            return not evaluate(template, args[0], parameters)
        if function == "Fn::And":
            return all(evaluate(template, x, parameters) for x in args)
        if function == "Fn::Or":
            return any(evaluate(template, x, parameters) for x in args)
        if function == "Condition":
            return evaluate(template, template["Conditions"][args], parameters)
        if function == "Ref":
            declared = template.get("Parameters", {}).get(args, {})
            return parameters.get(args, declared.get("Default", ""))
    return expression


def moto_supported_types():
    """The resource types the emulator's CloudFormation makes (anything else it skips with a warning)."""
    from moto.cloudformation.parsing import get_model_map
    return set(get_model_map())


class Resolver:
    """CloudFormation's intrinsic functions over the deployed stack: Ref, Fn::GetAtt (Arn,
    Name), Fn::Sub, Fn::Join, Fn::If, Fn::Select, for what the emulator's CloudFormation
    does not resolve itself."""

    def __init__(self, moto, template, made, parameters):
        self.moto = moto
        self.template = template
        self.made = made
        self.parameters = parameters

    def ref(self, name):
        pseudo = {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws",
                  "AWS::URLSuffix": "amazonaws.com", "AWS::NoValue": None}
        if name in pseudo:
            return pseudo[name]
        if name in self.made:
            return self.made[name][1]
        declared = self.template.get("Parameters", {}).get(name)
        if declared is not None:
            return self.parameters.get(name, declared.get("Default", ""))
        raise Failure("template", f"Ref {name}: no such parameter or resource was made")

    def arn(self, logical):
        kind, physical = self.made.get(logical, (None, None))
        if kind is None:
            raise Failure("template", f"GetAtt {logical}.Arn: {logical} was not made")
        if physical.startswith("arn:"):
            return physical
        if kind == "AWS::Lambda::Function":
            return self.moto.client("lambda").get_function(FunctionName=physical)["Configuration"]["FunctionArn"]
        if kind == "AWS::IAM::Role":
            return self.moto.client("iam").get_role(RoleName=physical)["Role"]["Arn"]
        if kind == "AWS::KMS::Key":
            return self.moto.client("kms").describe_key(KeyId=physical)["KeyMetadata"]["Arn"]
        if kind == "AWS::DynamoDB::Table":
            return self.moto.client("dynamodb").describe_table(TableName=physical)["Table"]["TableArn"]
        if kind == "AWS::Logs::LogGroup":
            return f"arn:aws:logs:us-east-1:123456789012:log-group:{physical}:*"
        raise Failure("template", f"GetAtt {logical}.Arn: the rehearsal cannot read the ARN of a {kind}")

    def __call__(self, value):
        if isinstance(value, list):
            return [self(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (function, args), = value.items()
            if function == "Ref":
                return self.ref(args)
            if function == "Fn::GetAtt":
                logical, attribute = args if isinstance(args, list) else args.split(".", 1)
                if attribute == "Arn":
                    return self.arn(logical)
                if attribute == "Name":
                    return self.made[logical][1].rsplit(":", 1)[-1]
                raise Failure("template", f"GetAtt {logical}.{attribute}: not resolved by the rehearsal")
            if function == "Fn::Sub":
                text, names = (args, {}) if isinstance(args, str) else (args[0], self(args[1]))
                out, rest = "", text
                while "${" in rest:
                    before, _, after = rest.partition("${")
                    name, _, rest = after.partition("}")
                    out += before
                    if name.startswith("!"):
                        out += "${" + name[1:] + "}"
                    elif name in names:
                        out += str(names[name])
                    elif "." in name:
                        out += str(self({"Fn::GetAtt": name.split(".", 1)}))
                    else:
                        out += str(self.ref(name))
                return out + rest
            if function == "Fn::Join":
                return args[0].join(str(self(v)) for v in self(args[1]))
            if function == "Fn::If":
                holds = evaluate(self.template, self.template["Conditions"][args[0]], self.parameters)
                return self(args[1] if holds else args[2])
            if function == "Fn::Select":
                return self(args[1])[int(self(args[0]))]
        return {k: self(v) for k, v in value.items()}


def check_statically(template, static, made, parameters, workdir):
    """A resource the emulator cannot make is checked another way: cfn-lint validates it, as
    transformed, against its CloudFormation resource schema, and every Ref and GetAtt in it
    must name a parameter or a resource that was made."""
    if static:
        path = os.path.join(workdir, "transformed.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(template, f)
        result = subprocess.run(["cfn-lint", "--format", "json", "--regions", "us-east-1", "--", path],
                                capture_output=True, text=True, timeout=300)
        try:
            findings = json.loads(result.stdout or "[]")
        except json.JSONDecodeError:
            raise Failure("cfn-lint", f"no report: {result.stderr.strip()[-1000:]}") from None
        errors = [f"{'/'.join(map(str, f['Location']['Path']))}: {f['Rule']['Id']} {f['Message']}" for f in findings
                  if f["Level"] == "Error" and f["Location"].get("Path", [None, None])[1] in static]
        if errors:
            raise Failure("cfn-lint, on the resources the emulator does not make", "\n".join(errors))
    for logical in static:
        problems = []

        def walk(value):
            if isinstance(value, dict):
                for function, args in value.items():
                    if function == "Ref" and isinstance(args, str) and not args.startswith("AWS::"):
                        if args not in made and args not in template.get("Parameters", {}):
                            problems.append(f"Ref {args}")
                    elif function == "Fn::GetAtt":
                        target = args[0] if isinstance(args, list) else args.split(".")[0]
                        if target not in made:
                            problems.append(f"GetAtt {target}")
                    walk(args)
            elif isinstance(value, list):
                for v in value:
                    walk(v)

        walk(template["Resources"][logical].get("Properties", {}))
        if problems:
            raise Failure(f"{logical} ({static[logical]})", f"names what the stack did not make: {', '.join(problems)}")


def state_machine(moto, made, template, parameters):
    """The deployed state machine as the emulator holds it. Where the emulator's CloudFormation
    leaves a property out (DefinitionS3Location, DefinitionSubstitutions, logging, tracing), the
    rehearsal does what CloudFormation's handler does and says so."""
    from report import line

    logical, (kind, arn) = next((k, v) for k, v in made.items() if v[0] == "AWS::StepFunctions::StateMachine")
    sfn, s3 = moto.client("stepfunctions"), moto.client("s3")
    described = sfn.describe_state_machine(stateMachineArn=arn)
    properties = template["Resources"][logical]["Properties"]
    resolve = Resolver(moto, template, made, parameters)
    definition = described.get("definition") or ""
    if not definition.strip() and "DefinitionS3Location" in properties:
        location = resolve(properties["DefinitionS3Location"])
        body = s3.get_object(Bucket=location["Bucket"], Key=location["Key"])["Body"].read().decode("utf-8")
        substitutions = resolve(properties.get("DefinitionSubstitutions", {}))
        for key, value in substitutions.items():
            body = body.replace("${" + key + "}", str(value))
        if "${" in body:
            left = sorted({part.split("}")[0] for part in body.split("${")[1:]})
            raise Failure(f"{logical} ({arn})", f"placeholders with no DefinitionSubstitutions entry: {', '.join(left)}")
        sfn.update_state_machine(stateMachineArn=arn, definition=body)
        definition = sfn.describe_state_machine(stateMachineArn=arn)["definition"]
        line(f"{logical}: the emulator's CloudFormation leaves out DefinitionS3Location and "
             f"DefinitionSubstitutions; applied as CloudFormation does (the definition read from "
             f"s3://{location['Bucket']}/{location['Key']}, {len(substitutions)} substitutions resolved in the stack)")
    machine = {"arn": arn, "name": described["name"], "definition": definition, "roleArn": described["roleArn"],
               "type": described.get("type", "STANDARD")}
    for key, prop in (("loggingConfiguration", "LoggingConfiguration"), ("tracingConfiguration", "TracingConfiguration")):
        held = described.get(key) or {}
        declared = {k[0].lower() + k[1:]: v for k, v in resolve(properties.get(prop, {})).items()}
        if declared and any(held.get(k) != v for k, v in declared.items()):
            line(f"{logical}: the emulator's CloudFormation does not keep {prop} ({json.dumps(held)}); "
                 f"taken from the transformed template")
            held = declared
        machine[key] = held
    return machine


def adapt_for_emulator(template):
    """What the emulator's CloudFormation reads differently from CloudFormation, rewritten so
    it makes the resource as declared; each rewrite is returned as a sentence for the report."""
    notes = []
    for logical, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::KMS::Key" and properties.get("Tags"):
            # moto 5 hands a key's Tags to its KMS tagging as they are and fails on Key/Value.
            properties["Tags"] = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in properties["Tags"]]
            notes.append(f"{logical} (AWS::KMS::Key): Tags given to the emulator as TagKey/TagValue, the form "
                         "its CloudFormation reads (the same tags)")
        if resource["Type"] == "AWS::KMS::Key" and isinstance(properties.get("KeyPolicy"), dict):
            # ... and keeps a KeyPolicy object as it is, where its KMS reads policy text.
            properties["KeyPolicy"] = _policy_text(properties["KeyPolicy"])
            notes.append(f"{logical} (AWS::KMS::Key): KeyPolicy given to the emulator as JSON text, the form its "
                         "KMS reads (the same policy)")
    return notes


def _has_intrinsics(value):
    if isinstance(value, dict):
        return any(k == "Ref" or k.startswith("Fn::") or _has_intrinsics(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_intrinsics(v) for v in value)
    return False


def _policy_text(value):
    """A policy object with intrinsics in it as one Fn::Join that builds its JSON text."""
    if not _has_intrinsics(value):
        return json.dumps(value)
    if isinstance(value, dict) and len(value) == 1 and (next(iter(value)) == "Ref" or next(iter(value)).startswith("Fn::")):
        return {"Fn::Join": ["", ['"', value, '"']]}
    parts = []
    if isinstance(value, dict):
        parts.append("{")
        for i, (k, v) in enumerate(value.items()):
            parts.append(("," if i else "") + json.dumps(k) + ":")
            parts.append(_policy_text(v))
        parts.append("}")
    else:
        parts.append("[")
        for i, v in enumerate(value):
            if i:
                parts.append(",")
            parts.append(_policy_text(v))
        parts.append("]")
    return {"Fn::Join": ["", parts]}


def complete_roles(moto, made, template, parameters):
    """The emulator's CloudFormation makes a role's inline policies and boundary but leaves out
    its ManagedPolicyArns: they are attached here, as CloudFormation's handler attaches them, and
    each said. Returns the sentences."""
    iam = moto.client("iam")
    resolve = Resolver(moto, template, made, parameters)
    notes = []
    for logical, (kind, name) in sorted(made.items()):
        if kind != "AWS::IAM::Role":
            continue
        declared = resolve(template["Resources"][logical]["Properties"].get("ManagedPolicyArns", []))
        held = {p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]}
        missing = [arn for arn in declared if arn not in held]
        for arn in missing:
            try:
                iam.attach_role_policy(RoleName=name, PolicyArn=arn)
            except Exception as error:
                raise Failure(f"{logical} (AWS::IAM::Role)", f"cannot attach {arn}: {error}") from None
        if missing:
            notes.append(f"{logical}: ManagedPolicyArns left out by the emulator's CloudFormation, attached as "
                         f"CloudFormation does: {', '.join(a.rsplit('/', 1)[-1] for a in missing)}")
    return notes


def deployed_template(moto, name):
    """A stack's template as the emulator's CloudFormation holds it."""
    body = moto.client("cloudformation").get_template(StackName=name)["TemplateBody"]
    return body if isinstance(body, dict) else yaml_parse(body)


def managed_stack(moto, name):
    """SAM CLI's managed stack (`resolve_s3`), from SAM CLI's own template and with its tag.
    SAM CLI makes it with a change set and reads its outputs back; the emulator's change sets
    keep no outputs, so it is made here with CreateStack, and SAM CLI then finds it as its own.
    Returns the calls SAM CLI makes for it on a first deploy (managed_cloudformation_stack.py)."""
    # Read in a process of its own: importing SAM CLI leaves a telemetry notice at exit.
    template = subprocess.run(
        [sys.executable, "-c", "from samcli.lib.bootstrap.bootstrap import _get_stack_template as t; print(t())"],
        capture_output=True, text=True, timeout=120)
    if template.returncode != 0:
        raise Failure(name, f"cannot read SAM CLI's managed stack template: {template.stderr.strip()[-500:]}")
    cloudformation = moto.client("cloudformation")
    cloudformation.create_stack(StackName=name, TemplateBody=template.stdout,
                                Tags=[{"Key": "ManagedStackSource", "Value": "AwsSamCli"}])
    return ["cloudformation:DescribeStacks", "cloudformation:CreateChangeSet", "cloudformation:DescribeChangeSet",
            "cloudformation:ExecuteChangeSet"]


def what_failed(moto, name, template, parameters):
    """After a failed create: the emulator's own error, and which resources it did not make.
    (Stopping the emulator at the end discards the half-made stack.)"""
    out = []
    error, service = moto.last_error() or (None, None)
    if error:
        out.append(f"the emulator's error{f' (in its {service} code)' if service else ''}: {error}")
    try:
        made = {r["LogicalResourceId"] for r in
                moto.client("cloudformation").describe_stack_resources(StackName=name)["StackResources"]
                if "LogicalResourceId" in r}
    except Exception:
        made = set()
    supported = moto_supported_types()
    missing = [f"{k} ({v['Type']})" for k, v in template["Resources"].items()
               if k not in made and v["Type"] in supported and condition_holds(template, v, parameters)]
    prefix = {"dynamodb": "AWS::DynamoDB::", "awslambda": "AWS::Lambda::", "iam": "AWS::IAM::",
              "sns": "AWS::SNS::", "kms": "AWS::KMS::", "logs": "AWS::Logs::", "s3": "AWS::S3::",
              "stepfunctions": "AWS::StepFunctions::", "cloudwatch": "AWS::CloudWatch::"}.get(service)
    culprits = [k for k, v in template["Resources"].items()
                if prefix and v["Type"].startswith(prefix) and k not in made]
    if culprits:
        named = ", ".join(f"{k} ({template['Resources'][k]['Type']})" for k in culprits)
        out.append(f"the resource it failed on: {named}")
    if missing:
        out.append(f"not made: {', '.join(missing)}")
    out.append("the emulator is stopped at the end of the rehearsal, and the half-made stack with it")
    return "".join(f"\n{line}" for line in out)
