"""The local AWS the rehearsal deploys into: moto in server mode on 127.0.0.1,
started for the run and stopped afterwards, and boto3 clients that reach it."""

import os
import re
import socket
import subprocess
import tempfile
import time
import urllib.request

import boto3
from botocore.config import Config

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
PARTITION = "aws"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process(process, by_closing_stdin=False):
    """Asks a child to stop (SIGTERM, or the end of its stdin), then kills it after 10 s."""
    if process.poll() is not None:
        return
    if by_closing_stdin:
        process.stdin.close()
    else:
        process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class Moto:
    def __init__(self):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        server = os.environ.get("MOTO_SERVER") or "moto_server"
        # AWS's managed policies (AWSLambdaBasicExecutionRole, ...) with their real documents.
        env = {**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}
        # Its log, for the cause when it fails a request (it answers HTTP 500 without one).
        self.log = tempfile.NamedTemporaryFile(prefix="rehearsal-moto-", suffix=".log", delete=False)
        self.process = subprocess.Popen([server, "-H", "127.0.0.1", "-p", str(self.port)], env=env,
                                        stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=1).read()
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"moto did not start on {self.endpoint}")
                time.sleep(0.1)

    def environment(self):
        """What a process needs to reach this emulator with any AWS SDK or the CLI."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
        }

    def client(self, service):
        return boto3.client(service, endpoint_url=self.endpoint, region_name=REGION,
                            aws_access_key_id="testing", aws_secret_access_key="testing",
                            config=Config(retries={"max_attempts": 1}))

    def last_error(self):
        """The last exception the emulator logged: (its one-line message, the moto service
        whose code raised it), or None."""
        with open(self.log.name, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
        ends = [i for i, line in enumerate(lines) if re.match(r"^[A-Za-z_][\w.]*(Exception|Error)\b.*: ", line)]
        if not ends:
            return None
        end = ends[-1]
        start = max((i for i, line in enumerate(lines[:end]) if line.startswith("Traceback")), default=0)
        services = [m.group(1) for line in lines[start:end]
                    for m in [re.search(r"/moto/(\w+)/", line)] if m
                    and m.group(1) not in ("core", "cloudformation", "utilities", "moto_server", "backends")]
        return lines[end], (services[-1] if services else None)

    def stop(self):
        stop_process(self.process)
        self.log.close()
        try:
            os.remove(self.log.name)
        except OSError:
            pass
