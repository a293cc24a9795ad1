"""The README's property table, written from the resource's JSON Schema.

Each property whose schema carries `x-readme` gets its rows, in the schema's
order, nested properties after their parent. `--check README.md` exits 1
when the README's table is not exactly this (so the two cannot drift);
without it the table is printed.

Usage: python lint/property_table.py [--check README.md]
"""

import json
import sys
from pathlib import Path

SCHEMA = Path(__file__).resolve().parent / "cfn_lint_bedrock_setup" / "Custom-BedrockCustomizationSetup.schema.json"
HEADER = ["| property | type | default | notes |", "|---|---|---|---|"]


def object_properties(node, definitions):
    """The `properties` of the object a property node describes (through
    $ref and the intrinsic-function alternative)."""
    if "$ref" in node:
        node = definitions[node["$ref"].rsplit("/", 1)[1]]
    if "properties" in node:
        return node["properties"]
    for alternative in node.get("anyOf", []):
        found = object_properties(alternative, definitions)
        if found:
            return found
    return {}


def rows(properties, definitions, prefix=""):
    out = []
    for name, node in properties.items():
        path = f"{prefix}{name}"
        for row in node.get("x-readme", []):
            label = row.get("property", f"`{path}`")
            cells = [label, row["type"], row["default"], row["notes"]]
            out.append("|" + "|".join(f" {c} " if c else " " for c in cells) + "|")
        out.extend(rows(object_properties(node, definitions), definitions, f"{path}."))
    return out


def table():
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return HEADER + rows(schema["properties"], schema["definitions"])


def readme_table(text):
    lines = text.split("\n")
    start = lines.index(HEADER[0])
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    return lines[start:end]


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        have = readme_table(Path(sys.argv[2]).read_text(encoding="utf-8"))
        want = table()
        if have != want:
            for i, (h, w) in enumerate(zip(have + [""] * len(want), want + [""] * len(have))):
                if h != w:
                    print(f"row {i}: README has\n  {h}\nthe schema says\n  {w}", file=sys.stderr)
                    break
            sys.exit(f"{sys.argv[2]}'s property table is not the schema's: write it with `python lint/property_table.py`")
        print(f"{sys.argv[2]}'s property table is the schema's ({len(want) - 2} rows)")
        return
    print("\n".join(table()))


if __name__ == "__main__":
    main()
