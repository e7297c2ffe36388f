#!/usr/bin/env python3
"""Invokes each function through `cargo lambda watch` with the sample events
and checks the documented output or errorType. The watch runs under
orderflow-emulator, so process_order and send_notification reach moto through
AWS_ENDPOINT_URL exactly as `make watch` sets them up.

Then runs the real state machine with `orderflow run`, in-process and through
the watch (--lambda-endpoint), and checks that both give the same execution.

Usage: watch_smoke.py EMULATOR_BINARY ORDERFLOW_BINARY  (run from the workspace
root, with the virtualenv's bin/ first on PATH so cargo-lambda and zig are found)
"""

import json
import subprocess
import sys
import tempfile

from lambda_watch import error_type, load, watch

failures = []
checks = []


def check(name, condition, detail):
    checks.append(name)
    print(("ok   " if condition else "FAIL ") + name)
    if not condition:
        failures.append(name)
        print("     " + json.dumps(detail)[:2000])


def orderflow_run(orderflow, input_file, *extra):
    result = subprocess.run([orderflow, "run", "--output", "json", "--input", input_file, *extra],
                            capture_output=True, text=True, timeout=300)
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError:
        return {"status": f"no JSON (exit {result.returncode})", "stderr": result.stderr[-2000:]}


def comparable(execution):
    output = dict(execution.get("output") or {})
    output.pop("notification_id", None)  # a fresh SNS message id each time
    return {"status": execution.get("status"), "output": output, "error": execution.get("error"),
            "events": [e["type"] for e in execution.get("history", [])]}


def compare_executor_modes(orderflow, watch_port):
    """The real state machine, run by `orderflow run` with in-process handlers and
    with the real binaries behind cargo lambda watch, must give the same execution."""
    for sample in ["order-valid", "order-invalid-many"]:
        order = load(f"events/{sample}.json")
        if isinstance(order, dict) and sample == "order-valid":
            order["order_id"] = "ORD-SMOKE-1"  # not yet stored in the watch's emulator
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(order, f)
        in_process = orderflow_run(orderflow, f.name)
        endpoint = orderflow_run(orderflow, f.name, "--lambda-endpoint", f"http://127.0.0.1:{watch_port}")
        check(f"orderflow run --lambda-endpoint gives the in-process execution ({sample})",
              comparable(in_process) == comparable(endpoint) and in_process.get("status") is not None,
              {"in_process": comparable(in_process), "endpoint": comparable(endpoint)})


def main():
    with watch(sys.argv[1], prefix="smoke") as w:
        invoke = w.invoke
        status, body = invoke("validate_data", load("events/order-valid.json"))
        check("validate_data: valid order -> events/process_order-input.json",
              status == 200 and body == load("events/process_order-input.json"), body)
        for sample in ["order-invalid-many", "order-invalid-currency", "order-invalid-empty-items",
                       "order-invalid-not-an-object"]:
            status, body = invoke("validate_data", load(f"events/{sample}.json"))
            check(f"validate_data: {sample} -> OrderValidationFailed",
                  error_type(status, body) == "OrderValidationFailed"
                  and json.loads(body["errorMessage"])["violations"], body)

        step_input = load("events/process_order-input.json")
        status, first = invoke("process_order", step_input)
        check("process_order: stores the order", status == 200 and first["receipt"]["status"] == "PROCESSED"
              and first["receipt"]["replayed"] is False, first)
        status, again = invoke("process_order", step_input)
        check("process_order: a retry is replayed", status == 200 and again["receipt"]["replayed"] is True, again)
        changed = json.loads(json.dumps(step_input))
        changed["order"]["items"][0]["quantity"] = 5
        status, body = invoke("process_order", changed)
        check("process_order: other content -> OrderConflict", error_type(status, body) == "OrderConflict", body)

        status, sent = invoke("send_notification", load("events/send_notification-input.json"))
        check("send_notification: confirmation sent", status == 200 and sent["status"] == "NOTIFIED"
              and sent["notification"]["replayed"] is False, sent)
        status, resent = invoke("send_notification", load("events/send_notification-input.json"))
        check("send_notification: a retry sends nothing", status == 200 and resent["notification"]["replayed"] is True
              and resent["notification"]["message_id"] == sent["notification"]["message_id"], resent)
        status, rejected = invoke("send_notification",
                                  load("events/send_notification-rejection-input.json"))
        check("send_notification: rejection notice sent", status == 200 and rejected["status"] == "REJECTED"
              and len(rejected["reasons"]) == 7, rejected)
        compare_executor_modes(sys.argv[2], w.port)
    print(f"{len(checks) - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
