"""The schema's verdict on properties, for the agreement tests.

Reads one JSON value per line (a resource's Properties) and writes one JSON
line per input: {"valid": bool, "properties": [...], "messages": [...]}, the
properties named as the handler names them.

With `--events FILE...`, judges the ResourceProperties (and
OldResourceProperties) of sample CloudFormation events instead, printing each
problem and exiting 1 if there is one.

Usage: python lint/judge_properties.py < cases.jsonl
       python lint/judge_properties.py --events events/*.json
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cfn_lint_bedrock_setup.BedrockCustomizationSetup import problems  # noqa: E402


def events(paths):
    failed = False
    for path in paths:
        event = json.loads(Path(path).read_text(encoding="utf-8"))
        if event.get("ResourceType") != "Custom::BedrockCustomizationSetup":
            continue
        for key in ("ResourceProperties", "OldResourceProperties"):
            if key in event:
                for _, _, message in problems(event[key]):
                    print(f"{path}: {key}: {message}")
                    failed = True
    return 1 if failed else 0


def main():
    if sys.argv[1:2] == ["--events"]:
        sys.exit(events(sys.argv[2:]))
    for line in sys.stdin:
        if not line.strip():
            continue
        found = problems(json.loads(line))
        print(json.dumps({
            "valid": not found,
            "properties": [name for _, name, _ in found],
            "messages": [message for _, _, message in found],
        }), flush=True)


if __name__ == "__main__":
    main()
