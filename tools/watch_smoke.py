#!/usr/bin/env python3
"""Invokes each function through `cargo lambda watch` with the sample events
and checks the documented output or errorType. The watch runs under
orderflow-emulator, so process_order and send_notification reach moto through
AWS_ENDPOINT_URL exactly as `make watch` sets them up.

Usage: watch_smoke.py EMULATOR_BINARY  (run from the workspace root, with the
virtualenv's bin/ first on PATH so cargo-lambda and zig are found)
"""

import json
import sys

from lambda_watch import error_type, load, watch

failures = []
checks = []


def check(name, condition, detail):
    checks.append(name)
    print(("ok   " if condition else "FAIL ") + name)
    if not condition:
        failures.append(name)
        print("     " + json.dumps(detail)[:2000])


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
    print(f"{len(checks) - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
