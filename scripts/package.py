"""The offline half of publishing to the AWS Serverless Application Repository.

Lays out, in --out, what `sam package` uploads: the deployable zip, the
template pointing at it (CodeUri: the zip, no build step), LICENSE and
README.md, after checking that the template's SemanticVersion is Cargo.toml's
version. Uploading and publishing need an AWS account; the commands are
printed at the end.

Usage: python scripts/package.py --zip target/lambda/bootstrap/bootstrap.zip --out .aws-sam/package
"""

import argparse
import re
import shutil
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The resource's JSON Schema: the Serverless Application Repository publishes
# only the template, README, licence and code, so it travels in the code zip
# (beside the bootstrap, which never reads it) and beside the template.
SCHEMA = ROOT / "lint" / "cfn_lint_bedrock_setup" / "Custom-BedrockCustomizationSetup.schema.json"


def cargo_version():
    text = (ROOT / "Cargo.toml").read_text()
    package = text.split("[package]", 1)[1]
    return re.search(r'^version\s*=\s*"([^"]+)"', package, re.M).group(1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--zip", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    template = (ROOT / "template.yaml").read_text()
    declared = re.search(r"^\s+SemanticVersion:\s*(\S+)", template, re.M).group(1)
    if declared != cargo_version():
        sys.exit(f"template.yaml's SemanticVersion {declared} is not Cargo.toml's {cargo_version()}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(args.zip, out / "bootstrap.zip")
    with zipfile.ZipFile(out / "bootstrap.zip", "a", compression=zipfile.ZIP_DEFLATED) as z:
        z.write(SCHEMA, f"schema/{SCHEMA.name}")
    for name in ("LICENSE", "README.md"):
        shutil.copy(ROOT / name, out / name)
    shutil.copy(SCHEMA, out / SCHEMA.name)
    # The zip is built already: no build step, the code is the zip.
    packaged = re.sub(r"\n    Metadata:\n      BuildMethod: rust-cargolambda\n      BuildProperties:\n        Binary: bootstrap\n",
                      "\n", template)
    packaged = packaged.replace("      CodeUri: .\n", "      CodeUri: bootstrap.zip\n")
    if "CodeUri: bootstrap.zip" not in packaged or "BuildMethod" in packaged:
        sys.exit("template.yaml's function is not laid out as package.py expects")
    (out / "template.yaml").write_text(packaged)
    print(f"packaged {declared} in {out}/ (template.yaml, bootstrap.zip with schema/{SCHEMA.name}, LICENSE, README.md, {SCHEMA.name})")
    print("next, with AWS credentials (uploads the zip, LICENSE and README to S3, then publishes):")
    print(f"  sam package --template-file {out}/template.yaml --s3-bucket <bucket> --output-template-file {out}/packaged.yaml")
    print(f"  sam publish --template {out}/packaged.yaml --region <region>")


if __name__ == "__main__":
    main()
