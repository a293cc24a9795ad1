"""The fake Lambda Runtime API speaks Lambda's protocol, in process (the
scripts) and as a process (the Rust tests)."""

import json
import subprocess
import sys
import threading
import unittest
import urllib.request
from pathlib import Path

from runtime_api import FUNCTION_ARN, RuntimeApi

HERE = Path(__file__).resolve().parent


def call(port, method, path, body=None, headers=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method, data=body,
                                 headers=headers or {})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, dict(r.headers), r.read()


NEXT = "/2018-06-01/runtime/invocation/next"


class InProcess(unittest.TestCase):
    def setUp(self):
        self.api = RuntimeApi().serve_in_background()

    def tearDown(self):
        self.api.shutdown()
        self.api.server_close()

    def test_next_waits_for_an_event_and_carries_lambdas_headers(self):
        got = {}
        poll = threading.Thread(target=lambda: got.update(r=call(self.api.port, "GET", NEXT)))
        poll.start()
        poll.join(0.3)
        self.assertTrue(poll.is_alive(), "next returns only once an event is queued")
        self.api.invoke("inv-1", {"RequestType": "Create"}, 1234567890123)
        poll.join(10)
        status, headers, body = got["r"]
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body), {"RequestType": "Create"})
        self.assertEqual(headers["Lambda-Runtime-Aws-Request-Id"], "inv-1")
        self.assertEqual(headers["Lambda-Runtime-Deadline-Ms"], "1234567890123")
        self.assertEqual(headers["Lambda-Runtime-Invoked-Function-Arn"], FUNCTION_ARN)
        self.assertIsNotNone(self.api.first_next)

    def test_reports_are_kept_by_request_id_and_kind(self):
        call(self.api.port, "POST", "/2018-06-01/runtime/invocation/inv-1/response", b'{"ok":1}')
        call(self.api.port, "POST", "/2018-06-01/runtime/invocation/inv-2/error", b"boom")
        call(self.api.port, "POST", "/2018-06-01/runtime/init/error", b"no config")
        got = [self.api.reported.get(timeout=5) for _ in range(3)]
        self.assertEqual(got, [{"id": "inv-1", "kind": "response", "body": '{"ok":1}'},
                               {"id": "inv-2", "kind": "error", "body": "boom"},
                               {"id": "init", "kind": "error", "body": "no config"}])

    def test_an_unknown_path_is_not_a_report(self):
        with self.assertRaises(urllib.error.HTTPError) as e:
            call(self.api.port, "POST", "/2018-06-01/runtime/invocation/inv-1/other", b"")
        self.assertEqual(e.exception.code, 404)
        self.assertTrue(self.api.reported.empty())

    def test_answers_and_signals_arrive_apart(self):
        call(self.api.port, "PUT", "/cfn-response/r1?X-Amz-Signature=s", b'{"Status":"SUCCESS"}',
             {"Content-Type": ""})
        call(self.api.port, "PUT", "/wait-condition/ModelTrainedHandle?sig=1", b'{"Status":"SUCCESS","Data":"x"}')
        self.assertEqual(self.api.answers.get(timeout=5)["body"], {"Status": "SUCCESS"})
        self.assertEqual(self.api.signals.get(timeout=5)["body"]["Data"], "x")
        self.assertTrue(self.api.answers.empty())


class AsAProcess(unittest.TestCase):
    def test_invocations_on_stdin_and_reports_on_stdout(self):
        proc = subprocess.Popen([sys.executable, str(HERE / "runtime_api.py"), "--port", "0"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            first = proc.stdout.readline().split()
            self.assertEqual(first[0], "PORT")
            port = int(first[1])
            proc.stdin.write(json.dumps({"id": "inv-7", "event": {"a": 1}, "deadline_ms": 5}) + "\n")
            proc.stdin.flush()
            _, headers, body = call(port, "GET", NEXT)
            self.assertEqual((headers["Lambda-Runtime-Aws-Request-Id"], json.loads(body)), ("inv-7", {"a": 1}))
            call(port, "POST", "/2018-06-01/runtime/invocation/inv-7/error", b'{"errorType":"x"}')
            self.assertEqual(json.loads(proc.stdout.readline()),
                             {"id": "inv-7", "kind": "error", "body": '{"errorType":"x"}'})
            proc.stdin.close()
            self.assertEqual(proc.wait(timeout=10), 0, "it ends when its test closes stdin")
        finally:
            proc.kill()
            proc.wait()
            proc.stdout.close()


if __name__ == "__main__":
    unittest.main()
