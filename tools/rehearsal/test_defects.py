#!/usr/bin/env python3
"""Planted defects: each a copy of the built template (or of the deploy role's
template) with one mistake, which the rehearsal must fail on, naming the
principal, the action and the resource. Also bad input: a template the SAM
translator refuses and a resource the emulator fails to create, each named.

Run by `make deploy-rehearsal` after the rehearsal itself passes; two at a
time (each starts its own emulator, server and functions)."""

import os
import subprocess
import sys
import tempfile
import unittest
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
BUILD = os.path.join(ROOT, "infra", ".aws-sam", "build")
ACCOUNT = "123456789012"


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def replace_once(text, old, new):
    if text.count(old) != 1:
        raise AssertionError(f"the planted defect expects {old!r} exactly once in the template")
    return text.replace(old, new)


def rehearse(built=None, deploy_role=None):
    """Runs the rehearsal on a mutated copy; returns (exit code, output)."""
    work = tempfile.mkdtemp(prefix="rehearsal-defect-")
    args = [sys.executable, os.path.join(HERE, "rehearse.py"), "--out", work]
    if built is not None:
        # Beside the built template: its CodeUri and DefinitionUri are relative to its folder.
        path = os.path.join(BUILD, f"template.{os.path.basename(work)}.yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(built)
        args += ["--template", path]
    if deploy_role is not None:
        path = os.path.join(work, "github-deploy-role.yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(deploy_role)
        args += ["--deploy-role", path]
    try:
        result = subprocess.run(args, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    finally:
        if built is not None:
            os.remove(path)
    return result.returncode, result.stdout + result.stderr


BUILT = read(os.path.join(BUILD, "template.yaml")) if os.path.exists(os.path.join(BUILD, "template.yaml")) else ""
DEPLOY_ROLE = read(os.path.join(ROOT, "infra", "github-deploy-role.yaml"))


def section(text, start, end):
    """The text from the line containing `start` to the next containing `end`."""
    i = text.index(start)
    return i, text.index(end, i)


def without_action_in_function_policy():
    # SendNotificationFunction's RecordNotifications statement loses dynamodb:UpdateItem.
    i, j = section(BUILT, "Sid: RecordNotifications", "Sid: PublishNotifications")
    block = BUILT[i:j]
    lines = [line for line in block.splitlines(keepends=True) if "dynamodb:UpdateItem" not in line]
    assert len(lines) == len(block.splitlines(keepends=True)) - 1
    return BUILT[:i] + "".join(lines) + BUILT[j:]


def substitution_to_another_function():
    return replace_once(BUILT, "ProcessOrderFunctionArn:\n          Fn::GetAtt:\n          - ProcessOrderFunction\n",
                        "ProcessOrderFunctionArn:\n          Fn::GetAtt:\n          - SendNotificationFunction\n")


def invoke_permission_dropped():
    return replace_once(BUILT, "      - LambdaInvokePolicy:\n          FunctionName:\n            Ref: SendNotificationFunction\n",
                        "")


def deploy_role_permission_removed():
    return replace_once(DEPLOY_ROLE, "                  - lambda:UpdateFunctionCode\n", "")


def translator_refuses():
    # A SAM function property with a value the translator rejects.
    start = BUILT.index("  ValidateDataFunction:\n")
    at = BUILT.index("    Properties:\n", start) + len("    Properties:\n")
    return BUILT[:at] + "      Events: 42\n" + BUILT[at:]


def table_the_emulator_refuses():
    # A key on an attribute the table does not define: DynamoDB (and the emulator) refuse to create it.
    return replace_once(BUILT, "      - AttributeName: order_id\n        KeyType: HASH",
                        "      - AttributeName: customer_id\n        KeyType: HASH")


CASES = {
    "an action removed from a function's policy": (
        lambda: rehearse(built=without_action_in_function_policy()),
        [r"SendNotificationFunctionRole \(arn:aws:iam::\d+:role/orderflow-dev-SendNotificationFunctionRole-\w+\) "
         r"dynamodb:UpdateItem on arn:aws:dynamodb:us-east-1:\d+:table/orderflow-dev-orders is ImplicitlyDenied"]),
    "a DefinitionSubstitutions entry pointing at another function": (
        lambda: rehearse(built=substitution_to_another_function()),
        [r"the deployed workflow, a valid order: ended FAILED",
         r"orderflow-dev-orders \(arn:aws:iam::\d+:role/orderflow-dev-OrderStateMachineRole-\w+\) "
         r"lambda:InvokeFunction on arn:aws:lambda:us-east-1:\d+:function:orderflow-dev-send-notification "
         r"from state ProcessOrder"]),
    "the state machine's invoke permission for one function dropped": (
        lambda: rehearse(built=invoke_permission_dropped()),
        [r"OrderStateMachineRole \(arn:aws:iam::\d+:role/orderflow-dev-OrderStateMachineRole-\w+\) "
         r"lambda:InvokeFunction on arn:aws:lambda:us-east-1:\d+:function:orderflow-dev-send-notification "
         r"is ImplicitlyDenied"]),
    "a deploy-role permission removed": (
        lambda: rehearse(deploy_role=deploy_role_permission_removed()),
        [r"DeployRole \(arn:aws:iam::\d+:role/orderflow-github-deploy\) lambda:UpdateFunctionCode on "
         r"arn:aws:lambda:us-east-1:\d+:function:orderflow-dev-\S+ is ImplicitlyDenied"]),
    "a template the SAM translator refuses": (
        lambda: rehearse(built=translator_refuses()),
        [r"SAM transform: the translator refused the template", r"ValidateDataFunction"]),
    "a resource the emulator fails to create": (
        lambda: rehearse(built=table_the_emulator_refuses()),
        [r"sam deploy of orderflow-dev", r"the resource it failed on: OrdersTable \(AWS::DynamoDB::Table\)"]),
}


class PlantedDefects(unittest.TestCase):
    results = {}

    @classmethod
    def setUpClass(cls):
        if not BUILT:
            raise unittest.SkipTest("no infra/.aws-sam/build/template.yaml: run `make sam-build`")
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = {name: pool.submit(run) for name, (run, _) in CASES.items()}
            cls.results = {name: f.result() for name, f in futures.items()}

    def check(self, name):
        code, output = self.results[name]
        self.assertEqual(code, 1, f"{name}: the rehearsal should fail (exit 1), got {code}:\n{output[-3000:]}")
        for pattern in CASES[name][1]:
            self.assertRegex(output, pattern, f"{name}: the failure does not say {pattern!r}:\n{output[-3000:]}")
        self.assertNotIn("Traceback", output, f"{name}: a traceback, not a clear error:\n{output[-3000:]}")

    def test_action_removed_from_function_policy(self):
        self.check("an action removed from a function's policy")

    def test_substitution_to_another_function(self):
        self.check("a DefinitionSubstitutions entry pointing at another function")

    def test_invoke_permission_dropped(self):
        self.check("the state machine's invoke permission for one function dropped")

    def test_deploy_role_permission_removed(self):
        self.check("a deploy-role permission removed")

    def test_translator_refuses(self):
        self.check("a template the SAM translator refuses")

    def test_emulator_fails_to_create(self):
        self.check("a resource the emulator fails to create")


if __name__ == "__main__":
    unittest.main(verbosity=2)
