"""parliament over each policy document named on the command line.

Prints one JSON line per document: {"file": ..., "findings": [...]}, each
finding as parliament's own CLI prints it (after its severity config). The
CLI prints findings only, so a document it never read looked clean; here
every document answers for itself, and the Rust test checks that all did.
"""

import json
import sys

from parliament import analyze_policy_string, enhance_finding


def main(paths):
    for path in paths:
        with open(path) as f:
            policy = analyze_policy_string(f.read(), path)
        findings = []
        for finding in policy.findings:
            finding = enhance_finding(finding)
            findings.append({"issue": finding.issue, "severity": finding.severity,
                             "detail": finding.detail, "location": finding.location})
        print(json.dumps({"file": path, "findings": findings}, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
