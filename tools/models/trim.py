"""Writes the AWS service models that `aws-sdk:` and the optimized service
integrations are driven by: botocore's service-2.json of the pinned botocore
(.venv), trimmed to what a call needs (no documentation, no examples), one
minified file per service under crates/integrations/models/.

    python3 tools/models/trim.py [--check]

--check compares the committed files with what the pinned botocore gives.
"""
import gzip
import json
import pathlib
import sys

import botocore

# The services state machines commonly call that the local emulator serves (issue 27).
SERVICES = [
    "dynamodb", "s3", "sqs", "sns", "events", "secretsmanager", "ssm", "kms",
    "stepfunctions", "lambda", "sts", "cloudwatch", "logs", "kinesis", "firehose",
]

META = ("apiVersion", "endpointPrefix", "jsonVersion", "protocol", "protocols", "serviceId",
        "signatureVersion", "signingName", "targetPrefix", "xmlNamespace", "globalEndpoint")
OPERATION = ("name", "http", "input", "output", "errors", "httpChecksumRequired", "httpChecksum",
             "requestcompression", "endpoint", "deprecated")
SHAPE = ("type", "members", "required", "member", "key", "value", "flattened", "payload", "error",
         "exception", "timestampFormat", "streaming", "eventstream", "event", "locationName",
         "xmlNamespace", "requiresLength", "union", "sensitive", "document", "enum", "min", "max")
MEMBER = ("shape", "location", "locationName", "jsonvalue", "flattened", "xmlNamespace", "xmlAttribute",
          "idempotencyToken", "hostLabel", "queryName", "timestampFormat", "streaming", "eventpayload",
          "eventheader", "contextParam")


def keep(d, keys):
    return {k: d[k] for k in keys if k in d}


# AWS measures a member in bytes when its documentation says so (an
# execution's input, a task's output): its validation message then speaks of
# "size ... bytes in UTF-8 encoding" rather than "length".
BYTES = "expressed as bytes in UTF-8 encoding"


def member(v):
    m = keep(v, MEMBER)
    if BYTES in v.get("documentation", ""):
        m["lengthInBytes"] = True
    return m


def trim(model):
    shapes = {}
    for name, shape in model["shapes"].items():
        s = keep(shape, SHAPE)
        if "members" in s:
            s["members"] = {m: member(v) for m, v in s["members"].items()}
        for part in ("member", "key", "value"):
            if part in s:
                s[part] = keep(s[part], MEMBER)
        if "enum" in s and len(s["enum"]) > 64:
            del s["enum"]
        shapes[name] = s
    operations = {}
    for name, op in model["operations"].items():
        o = keep(op, OPERATION)
        if "errors" in o:
            o["errors"] = [e["shape"] for e in o["errors"]]
        operations[name] = o
    return {"metadata": keep(model["metadata"], META), "operations": operations, "shapes": shapes}


def load(service):
    data = pathlib.Path(botocore.__file__).parent / "data" / service
    version = sorted(p.name for p in data.iterdir() if p.is_dir())[-1]
    for name in ("service-2.json", "service-2.json.gz"):
        path = data / version / name
        if path.exists():
            opener = gzip.open if name.endswith(".gz") else open
            with opener(path, "rt", encoding="utf-8") as f:
                return json.load(f)
    raise SystemExit(f"no model for {service} in botocore {botocore.__version__}")


def main():
    check = "--check" in sys.argv[1:]
    out = pathlib.Path(__file__).resolve().parents[2] / "crates/integrations/models"
    out.mkdir(parents=True, exist_ok=True)
    stale = []
    for service in SERVICES:
        text = json.dumps(trim(load(service)), separators=(",", ":"), sort_keys=False) + "\n"
        path = out / f"{service}.json"
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(service)
        else:
            path.write_text(text, encoding="utf-8")
    (out / "BOTOCORE_VERSION").write_text(botocore.__version__ + "\n") if not check else None
    if stale:
        raise SystemExit(f"models differ from botocore {botocore.__version__}: {', '.join(stale)} (run python3 tools/models/trim.py)")


if __name__ == "__main__":
    main()
