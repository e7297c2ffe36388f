#!/usr/bin/env python3
"""The deploy rehearsal (`make deploy-rehearsal`): what `sam deploy` would do,
done against the local emulator, and every role proved least privilege with
a real IAM policy evaluator. Exit 0 when every step passes, 1 when one finds
a defect (each named: principal, action, resource), 2 for bad usage.

Steps: the built template (infra/.aws-sam/build, from `sam build`) packaged
into the emulator's S3 by `sam package`; transformed by aws-sam-translator
with samconfig.toml's [default] parameters; deployed by `sam deploy` into the
emulator's CloudFormation; the order workflow run on the deployed definition
and functions; then every role's requests judged, and its unused grants
listed against infra/permissions.yaml."""

import argparse
import copy
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import deploy  # noqa: E402
import deploy_role  # noqa: E402
import exercise  # noqa: E402
import least_privilege  # noqa: E402
import stack  # noqa: E402
import yaml  # noqa: E402
from emulator import Moto  # noqa: E402
from policies import Role, evaluate  # noqa: E402
from recorder import Recorder  # noqa: E402
from report import Failure, line, problem, step  # noqa: E402

MANAGED_STACK = "aws-sam-cli-managed-default"
DEPLOY_ROLE_STACK = "orderflow-github-deploy"


def arguments():
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build-dir", default=os.path.join(root, "infra", ".aws-sam", "build"))
    p.add_argument("--template", help="the built template (default: BUILD_DIR/template.yaml)")
    p.add_argument("--samconfig", default=os.path.join(root, "infra", "samconfig.toml"))
    p.add_argument("--config-env", default="default", help="which section of samconfig.toml (default, prod)")
    p.add_argument("--deploy-role", default=os.path.join(root, "infra", "github-deploy-role.yaml"))
    p.add_argument("--permissions", default=os.path.join(root, "infra", "permissions.yaml"))
    p.add_argument("--events", default=os.path.join(root, "events"))
    p.add_argument("--bin", default=os.path.join(root, "target", "debug"),
                   help="where the host builds of the function binaries, orderflow and orderflow-function-host are")
    p.add_argument("--report", help="also write the permissions report here, as JSON")
    p.add_argument("--out", default=os.path.join(root, "target", "deploy-rehearsal"),
                   help="where the readable permissions report goes")
    return p.parse_args()


def main():
    args = arguments()
    template_path = args.template or os.path.join(args.build_dir, "template.yaml")
    if not os.path.exists(template_path):
        print(f"rehearsal: {template_path} is missing: run `sam build` (make sam-build) first", file=sys.stderr)
        return 2
    with open(args.permissions, encoding="utf-8") as f:
        permissions = yaml.safe_load(f)
    # Nothing here may reach a real account: fake credentials, and the local region.
    for key in ("AWS_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        os.environ.pop(key, None)
    os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_SESSION_TOKEN": "testing", "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
                       "SAM_CLI_TELEMETRY": "0"})
    workdir = tempfile.mkdtemp(prefix="orderflow-rehearsal-")
    parts = Parts()
    try:
        parts.moto = Moto()
        parts.recorder = Recorder(parts.moto.endpoint)
        return rehearse(args, template_path, permissions, parts, workdir)
    except Failure as failure:
        problem(f"{failure.where}: {failure.what}")
        print("rehearsal: FAILED", flush=True)
        return 1
    finally:
        parts.stop()
        shutil.rmtree(workdir, ignore_errors=True)


class Parts:
    """What the rehearsal starts, stopped in reverse order however it ends."""

    moto = recorder = host = serve = None

    def stop(self):
        for part in (self.serve, self.host, self.recorder, self.moto):
            if part is not None:
                part.stop()


def rehearse(args, template_path, permissions, parts, workdir):
    moto, recorder = parts.moto, parts.recorder
    parameters = stack.samconfig_parameters(args.samconfig, args.config_env)
    stage = parameters.get("Stage", "dev")
    app_stack = stack.samconfig_stack_name(args.samconfig, args.config_env) or f"orderflow-{stage}"

    step(f"the deploy role's stack ({os.path.relpath(args.deploy_role)}) in the emulator's CloudFormation")
    supported = stack.moto_supported_types()
    role_template = stack.plain_template(args.deploy_role)
    role_parameters = {"GitHubRepository": "example/orderflow", "CreateOidcProvider": "true"}
    role_made, role_static, _ = stack.create(moto, DEPLOY_ROLE_STACK, role_template, role_parameters, supported)
    for logical, kind in role_static.items():
        line(f"{logical} ({kind}): not made by the emulator's CloudFormation; checked statically (cfn-lint)")
    stack.check_statically(role_template, role_static, role_made, role_parameters, workdir)
    line(f"created: {', '.join(sorted(role_made))}")

    with open(template_path, encoding="utf-8") as f:
        built = stack.yaml_parse(f.read())
    stack.check_translates(built, parameters, moto.client("iam"))

    step("sam package --resolve-s3: SAM CLI's managed stack and bucket, and the artifacts, in the emulator")
    managed_calls = stack.managed_stack(moto, MANAGED_STACK)
    line(f"{MANAGED_STACK}: made from SAM CLI's own template with CreateStack (the emulator's change sets keep no "
         f"outputs, which SAM CLI reads); its change-set calls are judged as the deploy role's")
    managed_template = stack.deployed_template(moto, MANAGED_STACK)
    managed_made, managed_static, _ = stack.created(moto, MANAGED_STACK, managed_template, {}, supported)
    packaged = stack.package(moto, template_path, app_stack, os.path.join(workdir, "packaged.yaml"), recorder)
    for logical, kind in managed_static.items():
        line(f"{MANAGED_STACK} {logical} ({kind}): not made by the emulator's CloudFormation; checked statically")
    line(f"{MANAGED_STACK}: {', '.join(f'{k} {v[1]}' for k, v in sorted(managed_made.items()))}")

    step(f"SAM transform (aws-sam-translator) with infra/samconfig.toml [{args.config_env}]: "
         f"{' '.join(f'{k}={v}' for k, v in parameters.items())}")
    iam = moto.client("iam")
    transformed = stack.translate(packaged, parameters, iam)
    kinds = sorted({r["Type"] for r in transformed["Resources"].values()})
    line(f"{len(transformed['Resources'])} resources: {', '.join(kinds)}")

    step(f"sam deploy of stack {app_stack} into the emulator")
    deployed = copy.deepcopy(transformed)
    for note in stack.adapt_for_emulator(deployed):
        line(note)
    try:
        deploy.sam_deploy(recorder.endpoint, moto.environment(), deployed, app_stack, parameters, workdir)
    except Failure as failure:
        raise Failure(failure.where, failure.what + stack.what_failed(moto, app_stack, deployed, parameters)) from None
    # The next deploy of the same build: SAM CLI's update path (GetTemplateSummary, an empty change set).
    stack.package(moto, template_path, app_stack, os.path.join(workdir, "packaged-again.yaml"), recorder)
    deploy.sam_deploy(recorder.endpoint, moto.environment(), deployed, app_stack, parameters, workdir)
    line("deployed again with nothing changed: SAM CLI's update path, recorded too")
    made, static, outputs = stack.created(moto, app_stack, transformed, parameters, supported)
    line(f"created {len(made)} resources; outputs: {', '.join(sorted(outputs)) or '(none)'}")
    for logical, kind in static.items():
        line(f"{logical} ({kind}): not made by the emulator's CloudFormation; checked statically instead")
    stack.check_statically(transformed, static, made, parameters, workdir)
    for note in stack.complete_roles(moto, made, transformed, parameters):
        line(note)
    missing_outputs = sorted(set(transformed.get("Outputs", {})) - set(outputs))
    if missing_outputs:
        # moto computes a change set's outputs before its resources exist, and keeps none.
        resolve = stack.Resolver(moto, transformed, made, parameters)
        for key in missing_outputs:
            outputs[key] = resolve(transformed["Outputs"][key]["Value"])
        line(f"outputs the emulator's change set left empty, resolved in the deployed stack: "
             f"{', '.join(f'{k}={outputs[k]}' for k in missing_outputs)}")
    machine = stack.state_machine(moto, made, transformed, parameters)

    step("the deployed workflow: the definition as the emulator holds it, each Task to the function built for it")
    by_hash = exercise.built_binaries(built, args.build_dir)
    functions = exercise.deployed_functions(moto, made, transformed, by_hash, args.bin,
                                           stack.Resolver(moto, transformed, made, parameters))
    host = parts.host = exercise.FunctionHost(os.path.join(args.bin, "orderflow-function-host"), functions, moto.endpoint,
                                 workdir)
    serve = parts.serve = exercise.Serve(os.path.join(args.bin, "orderflow"), host.endpoint, moto.endpoint)
    cases = exercise.order_cases(args.events)
    results = exercise.run_workflow(serve, host, machine, cases)
    records = [r for _, rs in results for r in rs]
    invoked = {r["arn"] for r in records if r["kind"] == "invoke"}
    for function in functions:
        if function["arn"] not in invoked:
            raise Failure(f"function {function['name']}", "is in the stack, but the workflow never invoked it")

    step("least privilege: every request judged by the IAM policy evaluator (iam-simulate)")
    report = least_privilege_step(moto, transformed, made, parameters, machine, functions, records, stage,
                                  permissions, recorder, role_made, built.get("Transform"),
                                  (managed_template, managed_made, {}), managed_calls)
    if args.report:
        with open(args.report, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=1)
    text_path = os.path.join(args.out, "permissions.txt")
    os.makedirs(args.out, exist_ok=True)
    with open(text_path, "w", encoding="utf-8") as f:
        f.write(permissions_text(report))
    line(f"every role's used, refused and kept permissions: {os.path.relpath(text_path)}")
    if report["problems"]:
        for text in report["problems"]:
            problem(text)
        print(f"rehearsal: FAILED ({len(report['problems'])} problem(s))", flush=True)
        return 1
    print("rehearsal: passed", flush=True)
    return 0


def least_privilege_step(moto, transformed, made, parameters, machine, functions, records, stage, permissions,
                         recorder, role_made, transform, managed, managed_calls):
    iam = moto.client("iam")
    roles_by_name = {physical: logical for logical, (kind, physical) in made.items() if kind == "AWS::IAM::Role"}
    resources = least_privilege.Resources(moto)
    roles, requests, problems = {}, [], []

    def role_of(arn):
        name = arn.rsplit("/", 1)[-1]
        if name not in roles:
            roles[name] = Role(iam, name, roles_by_name.get(name, name))
        return roles[name]

    for function in functions:
        role = role_of(function["role"])
        made_requests, unplaced = least_privilege.function_requests(function, role, records, resources, transformed)
        requests.extend(made_requests)
        problems.extend(f"{role.logical}: {text}" for text in unplaced)
    machine_role = role_of(machine["roleArn"])
    requests.extend(least_privilege.state_machine_requests(machine_role, machine, records, stage))

    deploy_role_name = role_made["DeployRole"][1]
    deployer = Role(iam, deploy_role_name, "DeployRole")
    roles[deploy_role_name] = deployer
    handler = deploy_role.Needs(moto, [(transformed, made, parameters, ("create", "update", "delete")),
                                       (*managed, ("create",))], permissions, deployer)
    requests.extend(handler.requests())
    problems.extend(deploy_role.stale_rules(handler))
    requests.extend(deploy_role.deploy_calls(deployer, recorder.calls, MANAGED_STACK, managed_calls))
    requests.extend(deploy_role.logging_setup(deployer, transformed))
    requests.extend(deploy_role.escalations(deployer, stage))
    problems.extend(handler.problems)

    patterns = [p for role in roles.values() for p, _, _ in role.grants() if "*" in p or "?" in p]
    expansions, _ = evaluate(requests, expand=patterns)
    judged_by_pattern = deploy_role.transform_grant(deployer, transform)
    if judged_by_pattern:
        requests.append(judged_by_pattern)
    # Every request's role is one of `roles`: one entry each, made here.
    by_role = {role.logical: {
        "arn": role.arn, "used": [], "denied": [], "unused": [], "kept": [], "policies": role.identity,
        "granted": [{"action": a, "resource": r, "statement": w} for a, r, w in role.grants()],
        "boundary": role.boundary,
    } for role in roles.values()}
    for r in requests:
        ok = (r.decision == "Allowed") if r.expect == "Allowed" else (r.decision in ("ImplicitlyDenied",
                                                                                     "ExplicitlyDenied"))
        entry = by_role[r.role.logical]
        if r.decision == "Error":
            problems.append(f"{r.describe()}: the evaluator refused the request: {json.dumps(r.errors)[:400]}")
        elif not ok and r.expect == "Allowed":
            problems.append(f"{r.describe()} is {r.decision} ({r.why})")
        elif not ok:
            problems.append(f"{r.describe()} is ALLOWED, and must not be ({r.why})")
        elif r.expect == "Allowed":
            entry["used"].append({"action": r.action, "resource": r.resource, "why": r.why})
        else:
            entry["denied"].append({"action": r.action, "resource": r.resource, "why": r.why})

    kept_reasons = permissions.get("unused", {})
    used_reasons = set()
    for role in roles.values():
        entry = by_role[role.logical]
        reasons = kept_reasons.get(role.logical, [])
        for action, resource, where in least_privilege.unused_grants(role, requests, expansions):
            reason = next((k["reason"] for k in reasons
                           if least_privilege.action_matches(k["action"], action)
                           and k.get("resource", resource) == resource
                           and where.endswith(" " + k.get("statement", where.rsplit(" ", 1)[-1]))), None)
            item = {"action": action, "resource": resource, "statement": where}
            if reason:
                used_reasons.add((role.logical, reason))
                entry["kept"].append(dict(item, reason=reason))
            else:
                entry["unused"].append(item)
                problems.append(f"{role.logical} ({role.arn}) grants {action} on {resource} ({where}), "
                                f"which no request used: remove it from the template, or keep it with a reason "
                                f"in infra/permissions.yaml")
    for logical, reasons in kept_reasons.items():
        for kept in reasons:
            if (logical, kept["reason"]) not in used_reasons:
                problems.append(f"infra/permissions.yaml unused {logical} {kept['action']}: no role of that name "
                                f"grants it unused any more: remove the entry")
    for logical in sorted(by_role):
        entry = by_role[logical]
        line(f"{logical}: {len(entry['used'])} requests allowed, {len(entry['denied'])} refused as they must be, "
             f"{len(entry['kept'])} unused grants kept with a reason, {len(entry['unused'])} unexplained")
    return {"roles": by_role, "problems": problems, "not_needed": handler.not_needed}


def permissions_text(report):
    """Every role's used, refused, kept and unexplained permissions, for a reader."""
    out = []
    for logical in sorted(report["roles"]):
        entry = report["roles"][logical]
        out.append(f"## {logical} ({entry['arn']})")
        granted = {}
        for g in entry.get("granted", []):
            granted.setdefault(g["statement"], []).append(f"{g['action']} on {g['resource']}")
        out.append(f"granted ({sum(map(len, granted.values()))} action-resource pairs, by statement):")
        for where, pairs in granted.items():
            out.append(f"  {where}: {'; '.join(pairs)}")
        used = {}
        for u in entry["used"]:
            used.setdefault(u["action"], set()).add(u["resource"])
        out.append(f"used ({len(used)} actions):")
        out += [f"  {a} on {', '.join(sorted(rs)[:3])}{' ...' if len(rs) > 3 else ''}" for a, rs in sorted(used.items())]
        if entry["denied"]:
            out.append("refused, as it must be:")
            out += [f"  {d['action']} on {d['resource']}: {d['why']}" for d in entry["denied"]]
        if entry["kept"]:
            out.append("granted, unused, kept:")
            out += [f"  {k['action']} on {k['resource']} ({k['statement']}): {k['reason']}" for k in entry["kept"]]
        if entry["unused"]:
            out.append("granted, unused, UNEXPLAINED:")
            out += [f"  {k['action']} on {k['resource']} ({k['statement']})" for k in entry["unused"]]
        out.append("")
    out.append("## Handler permissions this stack does not need (infra/permissions.yaml)")
    seen = set()
    for n in report["not_needed"]:
        key = (n["type"], n["action"])
        if key not in seen:
            seen.add(key)
            out.append(f"  {n['type']} {n['action']}: {n['reason']}")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.exit(main())
