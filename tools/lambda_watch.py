"""`cargo lambda watch` under orderflow-emulator, for scripts: start it on free
loopback ports, invoke functions through its Invoke API, stop the whole
process group afterwards."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


class Watch:
    def __init__(self, port, moto_endpoint, prefix):
        self.port = port
        self.moto_endpoint = moto_endpoint
        self.prefix = prefix

    def invoke(self, function, payload, timeout=300):
        """(HTTP status, decoded body). A function error is HTTP 500 with
        {"errorType", "errorMessage"}: cargo lambda watch does not send the
        200 plus X-Amz-Function-Error that real Lambda does."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/2015-03-31/functions/{function}/invocations",
            data=json.dumps(payload).encode(),
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")


def error_type(status, body):
    return body.get("errorType") if status != 200 and isinstance(body, dict) else None


@contextlib.contextmanager
def watch(emulator, prefix="orderflow", quiet=True):
    port, moto_port = free_port(), free_port()
    command = [emulator, "--port", str(moto_port), "--prefix", prefix, "--",
               "cargo-lambda", "lambda", "watch", "--invoke-address", "127.0.0.1",
               "--invoke-port", str(port), "--ignore-changes"]
    output = subprocess.DEVNULL if quiet else None
    process = subprocess.Popen(command, start_new_session=True, stdout=output, stderr=output)
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise SystemExit(f"{' '.join(command)} exited with {process.returncode}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                raise SystemExit(f"cargo lambda watch did not listen on 127.0.0.1:{port} within 120 s")
            time.sleep(0.2)
        yield Watch(port, f"http://127.0.0.1:{moto_port}", prefix)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
