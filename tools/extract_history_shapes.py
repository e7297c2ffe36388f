#!/usr/bin/env python3
"""Writes crates/asl/tests/recorded/history-shapes.json: for each case of
../shared/aws-recorded whose full history LocalStack recorded against AWS, the
shape of that history (per event: type, previousEventId, the details member
and its field names; no values). Source: the *.snapshot.json files of
github:localstack/localstack, tests/aws/services/stepfunctions (Apache License
2.0). Histories whose concurrent events the test masked are left out.

usage: extract_history_shapes.py LOCALSTACK_GIT_DIR AWS_RECORDED_DIR OUT
"""
import json
import os
import subprocess
import sys


def main():
    git_dir, recorded, out = sys.argv[1:4]
    snapshots = {}

    def snapshot(path):
        if path not in snapshots:
            try:
                text = subprocess.check_output(["git", "--git-dir", git_dir, "show", "HEAD:" + path])
                snapshots[path] = json.loads(text)
            except subprocess.CalledProcessError:
                snapshots[path] = {}
        return snapshots[path]

    shapes = {}
    cases = os.path.join(recorded, "cases")
    for case in sorted(os.listdir(cases)):
        with open(os.path.join(cases, case, "expected.json")) as f:
            expected = json.load(f)
        node = expected["nodeid"]
        recorded_content = snapshot(node.split("::")[0].replace(".py", ".snapshot.json")).get(node, {})
        history = recorded_content.get("recorded-content", {}).get(expected["snapshot_key"])
        if not isinstance(history, dict) or "events" not in history:
            continue
        if any(not isinstance(e.get("id"), int) for e in history["events"]):
            continue
        rows = []
        for event in history["events"]:
            keys = [k for k in event if k.endswith("EventDetails")]
            members = sorted(event[keys[0]].keys()) if keys else []
            rows.append([event["type"], event["previousEventId"], keys[0] if keys else None, members])
        shapes[case] = rows
    with open(out, "w") as f:
        json.dump({"source": "github:localstack/localstack tests/aws/services/stepfunctions/v2 *.snapshot.json "
                   "(Apache License 2.0), histories recorded against AWS Step Functions",
                   "cases": shapes}, f, separators=(",", ":"), sort_keys=True)
        f.write("\n")
    print(f"{len(shapes)} history shapes written to {out}")


if __name__ == "__main__":
    main()
