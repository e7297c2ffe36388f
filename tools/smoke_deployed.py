#!/usr/bin/env python3
"""Starts one execution of the deployed state machine with events/order-valid.json
(under a fresh order id) and waits for it to succeed. Used by deploy.yml after
`sam deploy`, and by `make smoke-deployed`.

Usage: smoke_deployed.py STACK_NAME   (AWS credentials and region from the environment)
"""

import json
import sys
import time
import uuid

import boto3


def main():
    stack = sys.argv[1]
    cloudformation = boto3.client("cloudformation")
    outputs = {o["OutputKey"]: o["OutputValue"]
               for o in cloudformation.describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])}
    machine_arn = outputs["StateMachineArn"]
    with open("events/order-valid.json", encoding="utf-8") as f:
        order = json.load(f)
    run = uuid.uuid4().hex[:12]
    order["order_id"] = f"SMOKE-{run}"
    sfn = boto3.client("stepfunctions")
    kind = sfn.describe_state_machine(stateMachineArn=machine_arn)["type"]
    print(f"{kind} state machine {machine_arn}: order {order['order_id']}")

    if kind == "EXPRESS":
        # Express executions have no DescribeExecution; run one synchronously.
        result = sfn.start_sync_execution(stateMachineArn=machine_arn, name=f"smoke-{run}", input=json.dumps(order))
        status = result["status"]
    else:
        execution_arn = sfn.start_execution(stateMachineArn=machine_arn, name=f"smoke-{run}",
                                            input=json.dumps(order))["executionArn"]
        deadline = time.monotonic() + 300
        while True:
            result = sfn.describe_execution(executionArn=execution_arn)
            status = result["status"]
            if status != "RUNNING" or time.monotonic() > deadline:
                break
            time.sleep(2)
        if status != "SUCCEEDED":
            history = sfn.get_execution_history(executionArn=execution_arn, reverseOrder=True, maxResults=10)
            for event in history["events"]:
                print(f"  {event['timestamp']} {event['type']}")

    print(f"status: {status}")
    if status == "SUCCEEDED":
        print(json.dumps(json.loads(result["output"]), indent=2))
        return 0
    print(f"error: {result.get('error')}\ncause: {result.get('cause')}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
