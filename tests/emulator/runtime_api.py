"""The fake Lambda Runtime API the real bootstrap runs under, locally: the one
the Rust tests (tests/support/lambda.rs) and the scripts (scripts/testbed.py)
both use.

It serves what Lambda serves the function (the long-polled
`/invocation/next` with Lambda's headers, `/response`, `/error`,
`/init/error`) and, on the same port, a fake ResponseURL and
WaitConditionHandle that keep what the handler PUTs.

In-process (the scripts): `RuntimeApi()`; `invoke(...)` queues an event;
`reported`, `answers` and `signals` are queues of what arrived.

As a process (the Rust tests): `runtime_api.py --port 0` prints `PORT <n>`
once it listens; each line on stdin is an invocation, as JSON
{"id", "event", "deadline_ms"}; each report of the function is printed as a
JSON line {"id", "kind": "response"|"error", "body"}, the init error with id
"init". It exits when stdin closes, so it never outlives its test.
"""

import argparse
import http.server
import json
import queue
import sys
import threading
import time

FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:bedrock-setup"
TRACE_ID = "Root=1-00000000-000000000000000000000000;Sampled=0"
PREFIX = "/2018-06-01/runtime/"


class RuntimeApi(http.server.ThreadingHTTPServer):
    """The Runtime API, the ResponseURL and the WaitConditionHandle on one
    free loopback port (`port`)."""
    daemon_threads = True

    def __init__(self, port=0, on_report=None):
        super().__init__(("127.0.0.1", port), _Handler)
        self.port = self.server_address[1]
        self.events = queue.Queue()
        self.reported = queue.Queue()
        self.answers = queue.Queue()
        self.signals = queue.Queue()
        # When the function first asked for work and first reported: the
        # benchmark's start-up and first-event figures.
        self.first_next = None
        self.first_report = None
        self._on_report = on_report

    def invoke(self, request_id, event, deadline_ms):
        """Queues an event; Lambda's deadline is epoch milliseconds."""
        self.events.put((request_id, event, int(deadline_ms)))

    def serve_in_background(self):
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def report(self, request_id, kind, body):
        if self.first_report is None:
            self.first_report = time.perf_counter()
        entry = {"id": request_id, "kind": kind, "body": body}
        self.reported.put(entry)
        if self._on_report:
            self._on_report(entry)

    def handle_error(self, request, client_address):
        # The benchmark kills each function once it has what it measures,
        # often mid-request: that is not an error worth a traceback.
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _reply(self, status, data=b"{}", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path != PREFIX + "invocation/next":
            return self._reply(404, b"")
        server = self.server
        if server.first_next is None:
            server.first_next = time.perf_counter()
        # A long poll, as Lambda's: it returns once an event is queued.
        request_id, event, deadline_ms = server.events.get()
        self._reply(200, json.dumps(event).encode(), [
            ("Lambda-Runtime-Aws-Request-Id", request_id),
            ("Lambda-Runtime-Deadline-Ms", str(deadline_ms)),
            ("Lambda-Runtime-Invoked-Function-Arn", FUNCTION_ARN),
            ("Lambda-Runtime-Trace-Id", TRACE_ID)])

    def do_POST(self):
        body = self._body().decode("utf-8", "replace")
        path = self.path
        if path == PREFIX + "init/error":
            self.server.report("init", "error", body)
            return self._reply(202)
        rest = path[len(PREFIX + "invocation/"):] if path.startswith(PREFIX + "invocation/") else ""
        request_id, _, kind = rest.rpartition("/")
        if request_id and kind in ("response", "error"):
            self.server.report(request_id, kind, body)
            return self._reply(202)
        self._reply(404, b"")

    def do_PUT(self):
        data = self._body()
        try:
            body = json.loads(data)
        except ValueError:
            body = data.decode("utf-8", "replace")
        received = {"path": self.path, "content_type": self.headers.get("Content-Type"), "body": body}
        # A WaitConditionHandle's signal, or an answer to CloudFormation.
        (self.server.signals if self.path.startswith("/wait-condition/") else self.server.answers).put(received)
        self._reply(200, b"")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args()
    lock = threading.Lock()

    def printed(entry):
        with lock:
            print(json.dumps(entry), flush=True)

    api = RuntimeApi(args.port, on_report=printed).serve_in_background()
    with lock:
        print(f"PORT {api.port}", flush=True)
    for line in sys.stdin:
        if line.strip():
            inv = json.loads(line)
            api.invoke(inv["id"], inv["event"], inv["deadline_ms"])


if __name__ == "__main__":
    main()
