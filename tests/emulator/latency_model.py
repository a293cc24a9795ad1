"""A model of real AWS's waits, for `make bench` (scripts/bench.py), never
for a timing assertion: on the emulator a Create takes about a second, on
AWS it is set by IAM propagation.

- Per-call latency per service: each request the handler signs is held for
  a time drawn uniformly from the service's range before moto answers it.
- IAM propagation: a role becomes assumable by Bedrock a delay after its
  last write (CreateRole, and each change of its trust or inline policies),
  the delay drawn per role from `propagation_s`; until then
  CreateModelCustomizationJob naming the role is answered as Bedrock does,
  a ValidationException saying it could not assume the role.

Both draws are seeded (`seed`), each from its own generator, so a run
repeats and the same seed gives both binaries of a comparison the same
delays whatever order the calls arrive in.

Control (moto_wrapper.py): `POST /_emulator/latency-model` with
`{"seed": 7, "latency_ms": {"iam": [lo, hi], ...}, "propagation_s": [lo, hi]}`
switches it on (each POST starts afresh), `DELETE` off, and
`GET /_emulator/propagation` gives, per role: its last write, the delay,
when it became assumable, the submissions refused before that and the
arrival of the accepted one."""

import random
import threading

# Writes after which IAM takes a while to make the role usable everywhere.
ROLE_WRITES = ("CreateRole", "PutRolePolicy", "DeleteRolePolicy", "UpdateAssumeRolePolicy",
               "AttachRolePolicy", "DetachRolePolicy", "PutRolePermissionsBoundary")

NOT_ASSUMABLE = "Could not assume provided IAM role. Make sure the role has the proper trust relationship."


class LatencyModel:
    def __init__(self, config):
        seed = config.get("seed", 0)
        self.latency_ms = config.get("latency_ms") or {}
        self.propagation_s = config.get("propagation_s")
        self._latency_rng = random.Random(f"latency-{seed}")
        self._propagation_rng = random.Random(f"propagation-{seed}")
        self._lock = threading.Lock()
        self.roles = {}

    def call_latency(self, service):
        """Seconds to hold a call to `service` before it is answered."""
        lo_hi = self.latency_ms.get(service)
        if not lo_hi:
            return 0.0
        with self._lock:
            return self._latency_rng.uniform(lo_hi[0], lo_hi[1]) / 1000.0

    def role_written(self, name, at):
        """A successful write to role `name`, answered at `at`."""
        if not self.propagation_s:
            return
        with self._lock:
            record = self.roles.get(name)
            if record is None:
                # One delay per role: IAM's propagation of this role.
                delay = self._propagation_rng.uniform(self.propagation_s[0], self.propagation_s[1])
                record = self.roles[name] = {"role": name, "delay": delay, "refused": 0, "accepted": None,
                                             "last_write": at}
            record["last_write"] = max(record["last_write"], at)
            record["ready"] = record["last_write"] + record["delay"]

    def refuses_submission(self, role_name, at):
        """Whether a job submission naming the role, arriving at `at`, is
        answered "could not assume the role"; records the outcome."""
        with self._lock:
            record = self.roles.get(role_name)
            if record is None:
                return False
            if at < record["ready"]:
                record["refused"] += 1
                return True
            if record["accepted"] is None:
                record["accepted"] = at
            return False

    def report(self):
        with self._lock:
            return [dict(r) for r in self.roles.values()]
