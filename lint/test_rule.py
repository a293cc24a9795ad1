"""The cfn-lint rule E9101, run the way users run it: cfn-lint's command line
with --append-rules, from a checkout and after one pip install.

Run from lint/: python -m unittest -v test_rule
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
RULES = HERE / "cfn_lint_bedrock_setup"
BROKEN = HERE / "examples" / "broken-stack.yaml"


def cfn_lint(*args, env=None):
    out = subprocess.run(
        [str(BIN / "cfn-lint"), "--format", "json", *args],
        capture_output=True, text=True, env=env, cwd=ROOT, check=False,
    )
    return out.returncode, json.loads(out.stdout or "[]"), out.stderr


def ours(matches):
    return [m for m in matches if m["Rule"]["Id"] == "E9101"]


class FromACheckout(unittest.TestCase):
    def test_the_example_stack_and_the_handlers_template_pass(self):
        code, matches, err = cfn_lint("--append-rules", str(RULES), "--", "examples/stack.yaml", "template.yaml")
        self.assertEqual(ours(matches), [], err)
        self.assertEqual(code, 0, matches)

    def test_the_sample_events_properties_pass(self):
        events = sorted(str(p) for p in (ROOT / "events").glob("*.json"))
        out = subprocess.run([sys.executable, str(HERE / "judge_properties.py"), "--events", *events],
                             capture_output=True, text=True, check=False)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)

    def test_the_broken_example_fails_with_the_handlers_words_on_the_right_lines(self):
        code, matches, err = cfn_lint("--append-rules", str(RULES), "--", str(BROKEN))
        self.assertNotEqual(code, 0)
        found = {(m["Location"]["Start"]["LineNumber"], m["Message"]) for m in ours(matches)}
        expected = {
            (13, "OutputDataUri: 's3://My_Output/out/' does not have the allowed form"),
            (14, "RestrictOutputBucketToVPC: is not a property of this resource (did you mean RestrictOutputBucketToVpc?)"),
            (18, "Job.GraderLambdaArn: is given (allowed: only with CustomizationType REINFORCEMENT_FINE_TUNING)"),
            (19, "Deployment.ModelUnits: is missing (allowed: a whole number of model units from 1 (required with Type Provisioned))"),
        }
        for line, start in expected:
            self.assertTrue(any(l == line and m.startswith(start) for l, m in found),
                            f"line {line}: {start!r} not among {sorted(found)}")
        self.assertEqual(len(found), len(expected), sorted(found))
        # Every line marked "wrong" in the example is reported, and no other.
        marked = {i for i, text in enumerate(BROKEN.read_text().splitlines(), 1) if "# wrong" in text}
        reported = {line for line, _ in found}
        # A missing property is reported at its parent (the line above the mark).
        self.assertEqual({l if l in marked else l + 1 for l in reported}, marked)

    def test_intrinsic_functions_are_accepted_where_values_can_come_from_them(self):
        text = BROKEN.read_text()
        fixed = (text.replace("s3://My_Output/out/", "!Sub s3://${TrainingBucket}/out/")
                 .replace("RestrictOutputBucketToVPC: true", "RestrictOutputBucketToVpc: !Ref AWS::NoValue")
                 .replace("        GraderLambdaArn: arn:aws:lambda:us-east-1:123456789012:function:grader", "")
                 .replace("        Type: Provisioned", "        Type: !If [Cheap, OnDemand, OnDemand]"))
        fixed = fixed.replace("Resources:", "Conditions:\n  Cheap: !Equals [!Ref TrainingBucket, x]\nResources:", 1)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "fixed.yaml"
            path.write_text(fixed)
            code, matches, err = cfn_lint("--append-rules", str(RULES), "--", str(path))
        self.assertEqual(ours(matches), [], err)


class AfterOnePipInstall(unittest.TestCase):
    def test_pip_install_then_append_rules_by_module_name(self):
        with tempfile.TemporaryDirectory() as tmp:
            # A copy: an in-tree build would leave its egg-info in the checkout.
            source = Path(tmp) / "src"
            shutil.copytree(HERE, source, ignore=shutil.ignore_patterns("__pycache__"))
            target = Path(tmp) / "site"
            subprocess.run(
                [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                 "--target", str(target), str(source)],
                check=True,
            )
            self.assertTrue((target / "cfn_lint_bedrock_setup" / "Custom-BedrockCustomizationSetup.schema.json").exists(),
                            "the schema is installed with the rule")
            env = dict(os.environ, PYTHONPATH=str(target))
            code, matches, err = cfn_lint("--append-rules", "cfn_lint_bedrock_setup", "--", str(BROKEN), env=env)
        self.assertEqual(len(ours(matches)), 4, err)


class TheReadmeTable(unittest.TestCase):
    def test_the_readmes_property_table_is_written_from_the_schema(self):
        out = subprocess.run([sys.executable, str(HERE / "property_table.py"), "--check", str(ROOT / "README.md")],
                             capture_output=True, text=True, check=False)
        self.assertEqual(out.returncode, 0, out.stderr)

    def test_the_check_fails_when_the_table_drifts(self):
        text = (ROOT / "README.md").read_text().replace("| `RoleName` | IAM role name, ≤ 64 |", "| `RoleName` | IAM role name, ≤ 65 |")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "README.md"
            path.write_text(text)
            out = subprocess.run([sys.executable, str(HERE / "property_table.py"), "--check", str(path)],
                                 capture_output=True, text=True, check=False)
        self.assertEqual(out.returncode, 1, out.stdout)
        self.assertIn("RoleName", out.stderr)


if __name__ == "__main__":
    unittest.main()
