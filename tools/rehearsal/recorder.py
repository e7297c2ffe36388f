"""A recording proxy in front of the emulator for the deploy's own calls (`sam
deploy`, `sam package`): every request goes on unchanged, and is kept as the
IAM request it is (action and resource), for the deploy role's check."""

import http.client
import http.server
import threading
import urllib.parse

from emulator import ACCOUNT, PARTITION, REGION, free_port


def s3_request(method, path, query):
    """An S3 REST call (path-style, as SDKs address a local endpoint) as IAM names it."""
    bucket, _, key = path.lstrip("/").partition("/")
    key = urllib.parse.unquote(key)
    if key:
        arn = f"arn:{PARTITION}:s3:::{bucket}/{key}"
        action = {"PUT": "PutObject", "GET": "GetObject", "HEAD": "GetObject", "DELETE": "DeleteObject"}.get(method)
        return (f"s3:{action}", arn) if action else None
    arn = f"arn:{PARTITION}:s3:::{bucket}"
    sub = {
        "location": "BucketLocation", "versioning": "BucketVersioning", "policy": "BucketPolicy",
        "encryption": "EncryptionConfiguration", "tagging": "BucketTagging",
        "publicAccessBlock": "BucketPublicAccessBlock",
    }
    for name, suffix in sub.items():
        if name in query:
            verb = "Put" if method == "PUT" else "Get"
            return f"s3:{verb}{suffix}", arn
    if method == "PUT":
        return "s3:CreateBucket", arn
    if method in ("GET", "HEAD"):
        return "s3:ListBucket", arn
    if method == "DELETE":
        return "s3:DeleteBucket", arn
    return None


def query_request(service, form):
    """A query-protocol call (CloudFormation, SNS, IAM) as IAM names it, with the resource it names."""
    action = form.get("Action", [""])[0]
    if service == "cloudformation":
        stack = form.get("StackName", [""])[0]
        if not stack:
            return f"cloudformation:{action}", "*"
        if stack.startswith("arn:"):
            return f"cloudformation:{action}", stack
        return f"cloudformation:{action}", f"arn:{PARTITION}:cloudformation:{REGION}:{ACCOUNT}:stack/{stack}/*"
    return f"{service}:{action}", "*"


class Recorder:
    def __init__(self, upstream):
        self.upstream = upstream
        parsed = urllib.parse.urlsplit(upstream)
        self.host, self.port_upstream = parsed.hostname, parsed.port
        self.calls = []
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _forward(self):
                body = self._body()
                recorder.record(self.command, self.path, self.headers, body)
                # http.client, not urllib: urllib adds a form Content-Type to a body sent without one.
                upstream = http.client.HTTPConnection(recorder.host, recorder.port_upstream, timeout=60)
                headers = {name: value for name, value in self.headers.items()
                           if name.lower() not in ("host", "content-length", "connection", "transfer-encoding",
                                                   "expect")}
                headers["Content-Length"] = str(len(body))
                upstream.request(self.command, self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                status, headers, data = answer.status, answer.headers, answer.read()
                upstream.close()
                self.send_response(status)
                for name, value in headers.items():
                    if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            def _body(self):
                if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                    body = b""
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return body
                        body += self.rfile.read(size)
                        self.rfile.readline()
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _forward

        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def record(self, method, raw_path, headers, body):
        parsed = urllib.parse.urlsplit(raw_path)
        query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
        authorization = headers.get("Authorization", "")
        scope = authorization.split("Credential=")[1].split("/") if "Credential=" in authorization else []
        service = scope[3] if len(scope) > 3 else ""
        if service == "s3":
            call = s3_request(method, parsed.path, query)
        elif headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            call = query_request(service, urllib.parse.parse_qs(body.decode("utf-8", "replace")))
        else:
            target = headers.get("X-Amz-Target", "")
            call = (f"{service}:{target.rsplit('.', 1)[-1]}", "*") if target else None
        if call:
            self.calls.append({"action": call[0], "resource": call[1]})

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
