"""The wait a user has on real AWS, modelled: `make bench`'s IAM-propagation
figures. Prints figures; asserts nothing.

The emulator runs with its latency model (tests/emulator/latency_model.py):
every call the handler signs is held for a time drawn from its service's
range, and a new or changed service role becomes assumable by Bedrock only a
propagation delay after its last write, drawn per role, seeded. For each
seed, each binary (the current one and a previous one, in alternating order
so that the machine's drift favours neither) runs a Create and a replacement
(an Update that makes a new role), then the Deletes. Per request:

- wall: the event queued to the answer received;
- propagation: the delay the model drew for the request's new role;
- overshoot: the accepted submission's arrival less the moment the role
  became assumable, which is the wall time less its causal minimum (the
  round trips before the role's last write, the propagation, and the round
  trips from the accepted submission to the answer are all unavoidable);
- attempts: CreateModelCustomizationJob submissions, refused ones included.

Usage: python scripts/bench_propagation.py --bootstrap NEW [--previous OLD]
           [--seeds 20] [--propagation 2,15]
(BENCH_LOGS=1 shows the functions' own log lines.)
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid

from testbed import clients, control, function_env, prepare, sample_event, serve_local, start_emulator

# Per-call latency, milliseconds, uniform in [lo, hi]: a stated assumption,
# not a measurement (nothing here reaches AWS). Ranges of the order AWS's
# control planes answer in from inside a region; IAM is served from
# us-east-1 and is the slowest. Change them with --latency.
LATENCY_MS = {"iam": [80, 250], "ec2": [60, 200], "s3": [20, 80], "bedrock": [100, 350],
              "kms": [15, 50], "ssm": [20, 60], "lambda": [30, 100], "sts": [30, 100]}


def run_binary(name, binary, endpoint, ids, seed, model):
    """A Create, a replacement and their Deletes by one binary under the
    model with `seed`: a row per timed request."""
    local, port = serve_local()
    function = subprocess.Popen([binary], env=function_env(port, endpoint),
                                stdout=None if os.environ.get("BENCH_LOGS") else subprocess.DEVNULL,
                                stderr=None if os.environ.get("BENCH_LOGS") else subprocess.DEVNULL)
    rows = []
    sent = []
    try:
        control(endpoint, "POST", "/_emulator/latency-model", dict(model, seed=seed))

        def send(sample, physical_id=None, properties=None):
            event = sample_event(sample, ids, port, physical_id, properties)
            # A request id of its own per seed, binary and step: the setup's
            # names (and so the handler's jitter) derive from it, so every
            # round makes a new role, and a run repeats.
            event["RequestId"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench/{seed}/{name}/{len(sent)}"))
            sent.append(sample)
            control(endpoint, "DELETE", "/_emulator/requests")
            started = time.time()
            local.invoke(event["RequestId"], event, int((started + 300) * 1000))
            answer = local.answers.get(timeout=300)["body"]
            wall = time.time() - started
            local.reported.get(timeout=30)
            log = control(endpoint, "GET", "/_emulator/requests")
            attempts = sum(1 for e in log if e.get("operation") == "CreateModelCustomizationJob")
            return event, answer, wall, attempts

        def timed(label, answer, wall, attempts):
            role = answer.get("Data", {}).get("RoleName")
            record = next((r for r in control(endpoint, "GET", "/_emulator/propagation") if r["role"] == role), None)
            overshoot = None
            if record and record.get("accepted") is not None:
                overshoot = max(0.0, record["accepted"] - record["ready"])
            rows.append({"label": label, "status": answer["Status"], "wall": wall, "attempts": attempts,
                         "propagation": record["delay"] if record else None, "overshoot": overshoot,
                         "reason": answer.get("Reason", "")})

        created_event, created, wall, attempts = send("create.json")
        timed("Create", created, wall, attempts)
        pid = created.get("PhysicalResourceId")
        replaced_event, replaced, wall, attempts = send("update-replacement.json", pid)
        timed("replacement", replaced, wall, attempts)
        control(endpoint, "DELETE", "/_emulator/latency-model")
        send("delete.json", pid, properties=created_event["ResourceProperties"])
        send("delete.json", replaced.get("PhysicalResourceId"), properties=replaced_event["ResourceProperties"])
    finally:
        control(endpoint, "DELETE", "/_emulator/latency-model")
        function.kill()
        function.wait()
        local.shutdown()
    return rows


def summary(name, rows):
    ok = [r for r in rows if r["status"] == "SUCCESS" and r["overshoot"] is not None]
    failed = [r for r in rows if r["status"] != "SUCCESS"]
    if not ok:
        print(f"  {name}: no request succeeded ({len(failed)} failed)")
        return
    over = [r["overshoot"] for r in ok]
    wall = [r["wall"] for r in ok]
    prop = [r["propagation"] for r in ok]
    att = [r["attempts"] for r in ok]
    print(f"  {name:9} {len(ok):3d} ok {len(failed):2d} failed | wall s median {statistics.median(wall):5.2f}"
          f" max {max(wall):5.2f} | propagation median {statistics.median(prop):5.2f} max {max(prop):5.2f}"
          f" | overshoot s median {statistics.median(over):4.2f} max {max(over):4.2f}"
          f" | attempts median {statistics.median(att):4.1f} max {max(att):3d}")
    for r in failed[:3]:
        print(f"      failed: {r['label']}: {r['reason'][:200]}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--previous")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--propagation", default="2,15", help="lo,hi seconds (uniform)")
    parser.add_argument("--latency", help="JSON: {service: [lo_ms, hi_ms]} replacing the defaults")
    args = parser.parse_args()
    lo, hi = (float(x) for x in args.propagation.split(","))
    model = {"latency_ms": json.loads(args.latency) if args.latency else LATENCY_MS, "propagation_s": [lo, hi]}
    binaries = {"current": args.bootstrap}
    if args.previous and os.path.exists(args.previous):
        binaries["previous"] = args.previous

    print(f"IAM propagation, modelled: delay uniform in [{lo:g}, {hi:g}] s per new role, seeds 0..{args.seeds - 1}; "
          f"per-call latency (ms) {json.dumps(model['latency_ms'])}")
    print(f"binaries: " + ", ".join(f"{k} {v}" for k, v in binaries.items()))
    emulator, endpoint = start_emulator()
    results = {name: {"Create": [], "replacement": []} for name in binaries}
    try:
        ids = prepare(clients(endpoint))
        names = list(binaries)
        for seed in range(args.seeds):
            order = names if seed % 2 == 0 else names[::-1]
            for name in order:
                for row in run_binary(name, binaries[name], endpoint, ids, seed, model):
                    results[name][row["label"]].append(row)
            print(f"  seed {seed}: " + "; ".join(
                f"{n} overshoot {results[n]['Create'][-1]['overshoot'] or 0:.2f}/"
                f"{results[n]['replacement'][-1]['overshoot'] or 0:.2f} s" for n in names), flush=True)
        refused = control(endpoint, "GET", "/_emulator/violations")
    finally:
        emulator.terminate()
    for label in ("Create", "replacement"):
        print(f"{label}s (overshoot: the accepted submission's arrival less the moment the role became assumable)")
        for name in binaries:
            summary(name, results[name][label])
    print(f"requests real AWS would have refused: {len(refused)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
