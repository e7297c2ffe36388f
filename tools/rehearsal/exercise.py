"""Step 4 of the rehearsal: the deployed stack exercised. The order workflow
runs on the state machine's definition as the emulator holds it, in
`orderflow serve`; each Task reaches, by the ARN the definition names, the
function built from that resource, running with the environment the stack
gave it. Every invocation and every AWS call each function makes is
recorded, for the IAM step."""

import hashlib
import io
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
import uuid
import zipfile

import boto3
from botocore.config import Config

from emulator import REGION, stop_process
from report import Failure, line


def built_binaries(built_template, build_dir):
    """sha256 of each built bootstrap -> (logical id, the binary it was built from)."""
    by_hash = {}
    for logical, resource in built_template["Resources"].items():
        binary = resource.get("Metadata", {}).get("BuildProperties", {}).get("Binary")
        path = os.path.join(build_dir, logical, "bootstrap")
        if binary and os.path.exists(path):
            with open(path, "rb") as f:
                by_hash[hashlib.sha256(f.read()).hexdigest()] = (logical, binary)
    return by_hash


def deployed_functions(moto, made, template, by_hash, host_binaries, resolve):
    """Each deployed function: its configuration read back from the emulator, and the
    host build of the binary its uploaded code was built from."""
    lam, s3 = moto.client("lambda"), moto.client("s3")
    functions = []
    for logical, (kind, physical) in sorted(made.items()):
        if kind != "AWS::Lambda::Function":
            continue
        config = lam.get_function(FunctionName=physical)["Configuration"]
        code = template["Resources"][logical]["Properties"]["Code"]
        body = s3.get_object(Bucket=code["S3Bucket"], Key=code["S3Key"])["Body"].read()
        with zipfile.ZipFile(io.BytesIO(body)) as z:
            bootstrap = z.read("bootstrap")
        built = by_hash.get(hashlib.sha256(bootstrap).hexdigest())
        if not built:
            raise Failure(f"function {config['FunctionName']}",
                          f"the code uploaded for {logical} (s3://{code['S3Bucket']}/{code['S3Key']}) "
                          "is none of the artifacts sam build made")
        binary = os.path.join(host_binaries, built[1])
        environment = config.get("Environment", {}).get("Variables", {})
        # What Lambda sets from the logging configuration (the emulator keeps none of it).
        logging = resolve(template["Resources"][logical]["Properties"].get("LoggingConfig", {}))
        lambda_env = {"AWS_LAMBDA_LOG_FORMAT": logging.get("LogFormat", "Text").upper()}
        if logging.get("ApplicationLogLevel"):
            lambda_env["AWS_LAMBDA_LOG_LEVEL"] = logging["ApplicationLogLevel"]
        functions.append({
            "logical": logical, "name": config["FunctionName"], "arn": config["FunctionArn"],
            "role": config["Role"], "binary": binary, "built_as": built[1],
            "environment": sorted({**lambda_env, **environment}.items()),
            "configured": environment, "memory_size": config.get("MemorySize", 128),
        })
        line(f"{config['FunctionName']}: code built as {built[1]} ({logical}), "
             f"environment {', '.join(sorted(environment)) or '(none)'}")
    return functions


class FunctionHost:
    def __init__(self, program, functions, upstream, workdir):
        spec = os.path.join(workdir, "functions.json")
        with open(spec, "w", encoding="utf-8") as f:
            json.dump({"upstream": upstream, "functions": [
                {k: fn[k] for k in ("name", "arn", "binary", "environment", "memory_size")} for fn in functions]}, f)
        # The functions' own logs (and their complaints when stopped) go to a file, shown on failure.
        self.log_path = os.path.join(workdir, "functions.log")
        self.log = open(self.log_path, "w", encoding="utf-8")
        self.process = subprocess.Popen([program, spec], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=self.log, text=True)
        first = self.process.stdout.readline()
        if not first.startswith("listening on "):
            self.stop()
            raise Failure("function host", f"did not start: {first.strip()!r}\n{self.logs()}")
        self.endpoint = first.split()[-1]

    def logs(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()[-4000:]

    def records(self):
        with urllib.request.urlopen(f"{self.endpoint}/records", timeout=10) as answer:
            return json.load(answer)

    def stop(self):
        stop_process(self.process, by_closing_stdin=True)
        self.log.close()


class Serve:
    """`orderflow serve` with no template, its tasks sent to the function host."""

    def __init__(self, program, lambda_endpoint, aws_endpoint):
        self.dir = tempfile.mkdtemp(prefix="rehearsal-serve-")
        self.process = subprocess.Popen(
            [program, "serve", "--port", "0", "--ephemeral", "--lambda-endpoint", lambda_endpoint,
             "--aws-endpoint", aws_endpoint], cwd=self.dir, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True)
        first = self.process.stdout.readline()
        address = [w for w in first.split() if w.startswith("http://127.0.0.1:")]
        if not address:
            self.stop()
            raise Failure("orderflow serve", f"printed no address: {first.strip()!r}")
        self.endpoint = address[0]
        self.client = boto3.client("stepfunctions", endpoint_url=self.endpoint, region_name=REGION,
                                   aws_access_key_id="testing", aws_secret_access_key="testing",
                                   config=Config(retries={"max_attempts": 1}))

    def stop(self):
        stop_process(self.process)
        shutil.rmtree(self.dir, ignore_errors=True)


def order_cases(events_dir):
    """The workflow's cases on the deployed stack: (name, input, expected status, expected error)."""
    with open(os.path.join(events_dir, "order-valid.json"), encoding="utf-8") as f:
        valid = json.load(f)
    run = uuid.uuid4().hex[:8]
    order = dict(valid, order_id=f"REHEARSAL-{run}")
    conflicting = dict(order, currency="USD")
    with open(os.path.join(events_dir, "order-invalid-many.json"), encoding="utf-8") as f:
        invalid = json.load(f)
    return [
        ("a valid order", order, "SUCCEEDED", None),
        ("the same order again (stored and confirmed once)", order, "SUCCEEDED", None),
        ("the same order id with other content", conflicting, "FAILED", "OrderConflict"),
        ("an invalid order (a rejection notice is sent)", dict(invalid, order_id=f"REHEARSAL-{run}-BAD"),
         "FAILED", "OrderRejected"),
    ]


def run_workflow(serve, host, machine, cases):
    """Runs each case to its end; returns the records of each, checked against what it should do."""
    arn = serve.client.create_state_machine(
        name=machine["name"], definition=machine["definition"], roleArn=machine["roleArn"],
        type=machine.get("type", "STANDARD"))["stateMachineArn"]
    host.records()
    results = []
    for title, order, status, error in cases:
        execution = serve.client.start_execution(stateMachineArn=arn, input=json.dumps(order))["executionArn"]
        deadline = time.monotonic() + 60
        while True:
            described = serve.client.describe_execution(executionArn=execution)
            if described["status"] != "RUNNING":
                break
            if time.monotonic() > deadline:
                raise Failure(f"execution {execution}", "still RUNNING after 60 s")
            time.sleep(0.05)
        records = host.records()
        got = (described["status"], described.get("error"))
        if got != (status, error):
            history = serve.client.get_execution_history(executionArn=execution, reverseOrder=True)["events"]
            failed = next((e for e in history if "Failed" in e["type"]), {})
            details = next((v for k, v in failed.items() if k.endswith("EventDetails")), {})
            calls = "\n".join(f"  {machine['name']} ({machine['roleArn']}) lambda:InvokeFunction on {arn} "
                              f"from state {state}" for state, arn in invocations(reversed(history)))
            raise Failure(f"the deployed workflow, {title}",
                          f"ended {got[0]} {got[1] or ''}, expected {status} {error or ''}: "
                          f"{failed.get('type', '')} {details.get('error', '')}: {details.get('cause', '')}\n"
                          f"what it invoked:\n{calls}\nthe functions' logs:\n{host.logs()}")
        line(f"{title}: {status}{' ' + error if error else ''} "
             f"({sum(r['kind'] == 'invoke' for r in records)} invocations, "
             f"{sum(r['kind'] == 'aws_call' for r in records)} AWS calls)")
        results.append((title, records))
    return results


def invocations(history):
    """(state, function) of each Lambda task the execution scheduled, in order."""
    state = None
    for event in history:
        if event["type"].endswith("StateEntered"):
            state = event["stateEnteredEventDetails"]["name"]
        elif event["type"] == "TaskScheduled":
            parameters = json.loads(event["taskScheduledEventDetails"].get("parameters") or "{}")
            yield state, parameters.get("FunctionName", event["taskScheduledEventDetails"].get("resource"))
