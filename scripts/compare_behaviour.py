"""Proves a change kept the handler's behaviour: runs the local lifecycle
(scripts/local_run.py: Create, in-place Update with a Deployment, the job's
completion, replacement, both Deletes, a reinforcement fine-tuning Create and
Delete) with two bootstrap binaries in alternating rounds, each against a fresh
emulator, and compares step by step what each did: the AWS requests it signed
(service, operation, SDK attempt) and what it answered (CloudFormation's body,
or the completion signal), generated ids masked.

Requests a handler sends concurrently can reach the emulator in either order,
so the requests of a step are compared as a multiset; a difference in their
order alone is reported but is not a difference in behaviour, unless one binary
keeps the same order in every round and the other a different one.

Usage: python scripts/compare_behaviour.py --before OLD_BOOTSTRAP --after NEW_BOOTSTRAP [--rounds 2]
Exit status 0 when every step is the same, 1 otherwise.
"""

import argparse
import collections
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def record(bootstrap, out):
    run = subprocess.run([sys.executable, str(HERE / "local_run.py"), "--bootstrap", bootstrap, "--record", out],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if run.returncode != 0 or not Path(out).exists():
        print(run.stdout[-4000:])
        raise SystemExit(f"the local run with {bootstrap} did not complete (exit {run.returncode})")
    return json.loads(Path(out).read_text())


def differences(before, after):
    """Per step: None when alike, else what differs."""
    if [s["step"] for s in before] != [s["step"] for s in after]:
        return [("steps", [s["step"] for s in before], [s["step"] for s in after])]
    found = []
    for b, a in zip(before, after):
        cb, ca = collections.Counter(b["calls"]), collections.Counter(a["calls"])
        if cb != ca:
            found.append((b["step"], "requests", {"only before": dict(cb - ca), "only after": dict(ca - cb)}))
        if b["answer"] != a["answer"]:
            found.append((b["step"], "answer", {"before": b["answer"], "after": a["answer"]}))
    return found


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", required=True)
    parser.add_argument("--after", required=True)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    runs = {"before": [], "after": []}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.rounds):
            # Alternating, so a machine that slows down mid-run affects both.
            for label in (("before", "after") if i % 2 == 0 else ("after", "before")):
                binary = getattr(args, label)
                runs[label].append(record(binary, f"{tmp}/{label}-{i}.json"))
                print(f"round {i + 1}: {label} ({binary}) recorded {len(runs[label][-1])} steps")

    failed = False
    for label in ("before", "after"):
        for i, other in enumerate(runs[label][1:], start=2):
            for d in differences(runs[label][0], other):
                print(f"NOT REPEATABLE: {label}, round 1 vs {i}: {d}")
                failed = True
    for d in differences(runs["before"][0], runs["after"][0]):
        print(f"DIFFERS: {d}")
        failed = True

    print()
    for b, a in zip(runs["before"][0], runs["after"][0]):
        kept = len(runs["before"]) > 1 and all(s["calls"] == b["calls"] for run in runs["before"] for s in run
                                               if s["step"] == b["step"])
        order = "same order" if a["calls"] == b["calls"] else (
            "same requests, order differs" + (" (before kept one order in every round)" if kept else ""))
        print(f"{b['step']}: {len(b['calls'])} requests before, {len(a['calls'])} after; {order}; "
              f"answer {'identical' if a['answer'] == b['answer'] else 'DIFFERENT'}")
    print("\nbehaviour identical in every step" if not failed else "\nbehaviour DIFFERS")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
