"""`make watch`: the handler under `cargo lambda watch`, against the local AWS
emulator, for `cargo lambda invoke`.

It starts the emulator (judging every request as the other local runs do),
prepares the user's own infrastructure in it, serves a local receiver for the
answers and completion signals on a free port, writes the sample events of
events/ to <run-dir>/events/ with the emulator's ids and the receiver's URLs,
and runs `cargo lambda watch` with the emulator's environment. Then, from
another shell:

    cargo lambda invoke bootstrap -A 127.0.0.1 -P <invoke port> --data-file .run/events/create.json

Each answer the handler sends is printed and appended to <run-dir>/answers.jsonl.

Usage: python scripts/watch.py [--invoke-port 9000] [--run-dir .run] [--cargo-lambda PATH]
"""

import argparse
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from testbed import ROOT, clients, handler_env, prepare, sample_event, start_emulator

EVENTS = ["create.json", "update-in-place.json", "update-replacement.json", "delete.json",
          "job-state-change.json", "sweep.json", "create-rft.json", "delete-rft.json"]


class Receiver(http.server.ThreadingHTTPServer):
    """The ResponseURL and the WaitConditionHandle, on one local port."""
    daemon_threads = True

    def __init__(self, log_path):
        super().__init__(("127.0.0.1", 0), ReceiverHandler)
        self.log_path = log_path
        self.lock = threading.Lock()


class ReceiverHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_PUT(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        kind = "signal" if self.path.startswith("/wait-condition/") else "answer"
        record = {"kind": kind, "body": json.loads(body)}
        with self.server.lock, open(self.server.log_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        print(f"== {kind} received: {json.dumps(record['body'])}", flush=True)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoke-port", type=int, default=9000)
    parser.add_argument("--run-dir", default=str(ROOT / ".run"))
    parser.add_argument("--cargo-lambda", default="cargo-lambda")
    args = parser.parse_args()
    run_dir = Path(args.run_dir)
    (run_dir / "events").mkdir(parents=True, exist_ok=True)
    answers = run_dir / "answers.jsonl"
    answers.write_text("")

    emulator, endpoint = start_emulator()
    receiver = Receiver(str(answers))
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    port = receiver.server_address[1]
    watch = None
    try:
        ids = prepare(clients(endpoint))
        for name in EVENTS:
            event = sample_event(name, ids, port)
            (run_dir / "events" / name).write_text(json.dumps(event, indent=2) + "\n")
        # cargo lambda watch gives the function Lambda's own variables.
        env_vars = dict(handler_env(endpoint), ASSUME_ROLE_RETRY_SECONDS="5", RUST_LOG="info")
        command = [args.cargo_lambda, "lambda", "watch", "--invoke-address", "127.0.0.1",
                   "--invoke-port", str(args.invoke_port),
                   "--timeout", "300", "--env-vars", ",".join(f"{k}={v}" for k, v in env_vars.items())]
        print(f"emulator at {endpoint}; answers and signals to 127.0.0.1:{port}; events in {run_dir}/events/",
              flush=True)
        print(f"invoke with: cargo lambda invoke bootstrap -A 127.0.0.1 -P {args.invoke_port} "
              f"--data-file {run_dir}/events/create.json", flush=True)
        (run_dir / "ready").write_text(json.dumps({"invoke_port": args.invoke_port, "receiver_port": port,
                                                   "emulator": endpoint}))
        watch = subprocess.Popen(command, cwd=ROOT, start_new_session=True)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        return watch.wait()
    finally:
        if watch and watch.poll() is None:
            os.killpg(watch.pid, signal.SIGTERM)
            watch.wait()
        (run_dir / "ready").unlink(missing_ok=True)
        emulator.terminate()
        receiver.shutdown()


if __name__ == "__main__":
    sys.exit(main())
