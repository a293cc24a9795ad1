"""The benchmark behind `make bench`. Prints figures; asserts nothing.

- start-up: process spawn -> first GET /runtime/invocation/next under a fake
  Runtime API, for the handler's release bootstrap and for a bare
  lambda_runtime echo function built with the same profile, in alternating
  rounds (the ratio of medians is the figure);
- cold invocation: spawn -> the function's response to an event already
  waiting, both binaries alternating, so that work moved past the first poll
  still shows;
- Create, Update (in place) and Delete of the full setup against the emulator
  with a fixed delay on every AWS call: wall time, AWS calls, and sequential
  round trips on the critical path;
- peak RSS of the function over that lifecycle, and the deployment zip size.

- with --previous, the cold invocation of an earlier build of the handler
  beside this one's, alternating;

Usage: python scripts/bench.py --bootstrap target/release/bootstrap
           --echo target/release/examples/echo [--zip target/lambda/bootstrap/bootstrap.zip]
           [--previous OLD_BOOTSTRAP]
"""

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time

from testbed import ROOT, clients, start_reporting_port, control, function_env, serve_local, prepare, sample_event, start_emulator


def start_up_alternating(first, second, runs, event=None, extra_env=None):
    """Both binaries' start-up, one run of each per round, the order swapped
    every round, so that the machine's drift cannot favour either."""
    times = {first: [], second: []}
    for r in range(runs):
        for binary in ((first, second) if r % 2 == 0 else (second, first)):
            times[binary].extend(start_up(binary, 1, event, extra_env))
    return times[first], times[second]


class TlsAnswers:
    """CloudFormation's ResponseURL over HTTPS, as in AWS: the loopback peer
    of tests/emulator/tls_peer.py, trusted through a bundle of the system's
    certificates and the peer's authority (SSL_CERT_FILE), beside the
    system's certificate directory, so both HTTP clients read what they read
    on Lambda and the answer pays for a TLS handshake."""

    def __init__(self):
        import tempfile
        from pathlib import Path
        self.dir = tempfile.TemporaryDirectory()
        d = Path(self.dir.name)
        self.proc, self.port = start_reporting_port(
            [sys.executable, str(ROOT / "tests/emulator/tls_peer.py"), "--dir", str(d)], "the TLS peer")
        # Drained, or the peer blocks once the pipe is full.
        import threading
        threading.Thread(target=lambda: [None for _ in self.proc.stdout], daemon=True).start()
        system = Path("/etc/ssl/certs/ca-certificates.crt")
        bundle = d / "bundle.pem"
        bundle.write_bytes((system.read_bytes() if system.exists() else b"") + (d / "ca.pem").read_bytes())
        self.env = {"SSL_CERT_FILE": str(bundle), "SSL_CERT_DIR": "/etc/ssl/certs"}

    def invalid_create(self, port):
        event = invalid_create(port)
        event["ResponseURL"] = event["ResponseURL"].replace(f"http://127.0.0.1:{port}/",
                                                            f"https://127.0.0.1:{self.port}/")
        return event

    def close(self):
        self.proc.kill()
        self.proc.wait()
        self.dir.cleanup()


def start_up(binary, runs, event=None, extra_env=None):
    """Milliseconds from spawn to the first poll for an event or, given an
    event already waiting (a cold start), to the function's response."""
    times = []
    for _ in range(runs):
        local, port = serve_local()
        if event is not None:
            waiting = event(port)
            local.invoke(waiting["RequestId"], waiting, int((time.time() + 60) * 1000))
        env = dict(function_env(port, None), **(extra_env or {}))

        def mark():
            return local.first_next if event is None else local.first_report
        started = time.perf_counter()
        proc = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while mark() is None and proc.poll() is None and time.perf_counter() - started < 10:
            time.sleep(0.0005)
        if mark() is not None:
            times.append((mark() - started) * 1000)
        proc.kill()
        proc.wait()
        local.shutdown()
    return times


def invalid_create(port):
    """A Create the handler refuses before any AWS call (no TrainingDataUri),
    answered to this machine: a cold start's whole path with no emulator."""
    event = sample_event("create.json", {}, port)
    del event["ResourceProperties"]["TrainingDataUri"]
    return event


def print_medians(ours, echo, names=("handler bootstrap", "bare lambda_runtime")):
    print(f"  {'':22} {'median':>8} {'min':>8} {'max':>8}")
    for name, t in zip(names, (ours, echo)):
        print(f"  {name:22} {statistics.median(t):8.2f} {min(t):8.2f} {max(t):8.2f}")


def critical_path(entries):
    """The longest chain of calls each starting after the previous ended."""
    calls = sorted((e["at"], e.get("end", e["at"]), e["operation"]) for e in entries)
    best = []
    for i, (start, _, op) in enumerate(calls):
        before = [best[j] for j in range(i) if calls[j][1] <= start]
        best.append(max(before, key=len, default=[]) + [op])
    return max(best, key=len, default=[])


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--echo", required=True)
    parser.add_argument("--zip")
    parser.add_argument("--previous", help="an earlier build of the handler: its cold invocation is measured "
                                           "beside this one's, in alternating rounds")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--delay-ms", type=int, default=50)
    args = parser.parse_args()

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}")
    print(f"binaries: {args.bootstrap} ({os.path.getsize(args.bootstrap) / 1e6:.1f} MB), "
          f"{args.echo} ({os.path.getsize(args.echo) / 1e6:.1f} MB)\n")

    ours, echo = start_up_alternating(args.bootstrap, args.echo, args.runs)
    print(f"start-up, spawn -> first /next, {args.runs} alternating rounds (ms)")
    print_medians(ours, echo)
    print(f"  ratio of medians: {statistics.median(ours) / statistics.median(echo):.2f}x (target <= 1.3x)\n")

    # Work moved after the first poll must not just move the cost: the whole
    # cold start, spawn -> response to an event already waiting.
    ours, echo = start_up_alternating(args.bootstrap, args.echo, args.runs, invalid_create)
    print(f"cold invocation, spawn -> response to a waiting event, {args.runs} alternating rounds (ms)")
    print("  (the handler's event is a Create it refuses before any AWS call, answered to CloudFormation)")
    print_medians(ours, echo)
    print()
    if args.previous:
        ours, previous = start_up_alternating(args.bootstrap, args.previous, args.runs, invalid_create)
        print(f"cold invocation, this handler against {args.previous}, {args.runs} alternating rounds (ms)")
        print_medians(ours, previous, ("this handler", "previous handler"))
        tls = TlsAnswers()
        try:
            ours, previous = start_up_alternating(args.bootstrap, args.previous, args.runs, tls.invalid_create,
                                                  tls.env)
        finally:
            tls.close()
        print("the same, answered over HTTPS as on AWS (the system's certificates trusted, and the local peer's)")
        print_medians(ours, previous, ("this handler", "previous handler"))
        print()

    emulator, endpoint = start_emulator()
    local, port = serve_local()
    function = None
    try:
        ids = prepare(clients(endpoint))
        control(endpoint, "POST", "/_emulator/faults",
                {"rules": [{"kind": "delay", "delay_ms": args.delay_ms, "times": -1}]})
        function = subprocess.Popen([args.bootstrap], env=function_env(port, endpoint))
        rows = []
        chains = []

        def step(label, name, physical_id=None):
            control(endpoint, "DELETE", "/_emulator/requests")
            event = sample_event(name, ids, port, physical_id)
            started = time.perf_counter()
            local.invoke(event["RequestId"], event, int((time.time() + 300) * 1000))
            answer = local.answers.get(timeout=300)["body"]
            wall = (time.perf_counter() - started) * 1000
            local.reported.get(timeout=30)
            log = control(endpoint, "GET", "/_emulator/requests")
            rows.append((label, answer["Status"], wall, len(log), critical_path(log)))
            chains.append((label, critical_path(log)))
            return answer

        created = step("Create", "create.json")
        pid = created["PhysicalResourceId"]
        step("Update (in place)", "update-in-place.json", pid)
        step("Delete", "delete.json", pid)
        rss = peak_rss_kib(function.pid)
    finally:
        if function:
            function.kill()
        emulator.terminate()
        local.shutdown()

    print(f"lifecycle against the emulator, {args.delay_ms} ms added to every AWS call")
    print(f"  {'':18} {'status':>8} {'wall ms':>9} {'AWS calls':>10} {'round trips':>12}")
    for label, status, wall, calls, chain in rows:
        print(f"  {label:18} {status:>8} {wall:9.0f} {calls:10d} {len(chain):12d}")
    print("  (round trips: the longest chain of calls each waiting for the one before; target <= 5 for Create)")
    for label, chain in chains:
        print(f"  {label} critical path: {' -> '.join(chain)}")
    print()
    print(f"peak RSS of the function over the lifecycle: {rss / 1024:.1f} MB (target <= 32 MB)")
    if args.zip and os.path.exists(args.zip):
        print(f"deployment zip: {os.path.getsize(args.zip) / 1e6:.2f} MB (target <= 8 MB)")
    else:
        print("deployment zip: not built (make build)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
