#!/usr/bin/env python3
"""`make run`: one order through the three real function binaries, locally.

The functions run under `cargo lambda watch` against moto (orderflow-emulator),
and are chained the way the state machine chains them: ValidateData ->
ProcessOrder -> SendNotification, and on OrderValidationFailed a rejection
notice. Prints each step's output and the order as DynamoDB stores it.

This driver stands in until the Rust executor of statemachine/order.asl.json
exists; it does not read the ASL.

Usage: run_local.py EMULATOR_BINARY [ORDER_JSON]
"""

import json
import sys

import boto3

from lambda_watch import error_type, load, watch


def show(title, status, body):
    print(f"\n== {title} (HTTP {status})")
    print(json.dumps(body, indent=2, sort_keys=True))


def main():
    emulator = sys.argv[1]
    order_file = sys.argv[2] if len(sys.argv) > 2 else "events/order-valid.json"
    order = load(order_file)
    print(f"order: {order_file}")
    with watch(emulator) as w:
        status, validated = w.invoke("validate_data", order)
        show("ValidateData", status, validated)
        if error_type(status, validated) == "OrderValidationFailed":
            # As Step Functions' Catch gives it: the Cause is Lambda's error document, as JSON.
            cause = json.dumps({"errorMessage": validated["errorMessage"], "errorType": validated["errorType"]})
            catch_output = {"order": order, "error": {"Error": validated["errorType"], "Cause": cause}}
            status, notice = w.invoke("send_notification", catch_output)
            show("RejectionNotice", status, notice)
            print("\nexecution FAILED: OrderRejected")
            return 1
        if status != 200:
            print(f"\nexecution FAILED: {error_type(status, validated)}")
            return 1
        for step, function in [("ProcessOrder", "process_order"), ("SendNotification", "send_notification")]:
            status, output = w.invoke(function, validated)
            show(step, status, output)
            if status != 200:
                print(f"\nexecution FAILED: {error_type(status, output)}")
                return 1
            validated = output

        dynamodb = boto3.client("dynamodb", endpoint_url=w.moto_endpoint, region_name="us-east-1",
                                aws_access_key_id="testing", aws_secret_access_key="testing")
        item = dynamodb.get_item(TableName=f"{w.prefix}-orders", Key={"order_id": {"S": order["order_id"]}},
                                 ConsistentRead=True)["Item"]
        stored = {k: next(iter(v.values())) for k, v in item.items()}
        stored["order"] = json.loads(stored["order"])
        show("Stored order (DynamoDB item)", 200, stored)
        print(f"\nexecution SUCCEEDED: order {output['order_id']} {output['status']}, "
              f"total {output['total']} {output['currency']}")
        return 0


if __name__ == "__main__":
    sys.exit(main())
