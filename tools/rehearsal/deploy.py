"""`sam deploy` itself, against the emulator: the transformed template given to
SAM CLI's deploy command, which makes and executes the change set as it does
against AWS, through the recording proxy (its calls are the deploy role's)."""

import json
import os
import subprocess

from report import Failure
from stack import sam_error


def sam_deploy(endpoint, environment, template, stack, parameters, workdir):
    path = os.path.join(workdir, f"{stack}.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(template, f, separators=(",", ":"))
    env = {**os.environ, **environment, "AWS_ENDPOINT_URL": endpoint, "SAM_CLI_TELEMETRY": "0"}
    overrides = [f"{k}={v}" for k, v in parameters.items() if k in template.get("Parameters", {})]
    # The artifacts are uploaded already (sam package); the template goes as a body, as it does
    # from `sam deploy` when it is under CloudFormation's 51,200 bytes.
    command = ["sam", "deploy", "--template-file", path, "--stack-name", stack,
               "--capabilities", "CAPABILITY_IAM", "--region", "us-east-1",
               "--no-confirm-changeset", "--no-fail-on-empty-changeset", "--no-progressbar"]
    if overrides:
        command += ["--parameter-overrides", *overrides]
    result = subprocess.run(command, env=env, capture_output=True, text=True, cwd=workdir, timeout=300)
    if result.returncode != 0:
        raise Failure(f"sam deploy of {stack}", sam_error(result))
    return result.stdout
