"""cfn-lint rules for Custom::BedrockCustomizationSetup (`--append-rules cfn_lint_bedrock_setup`
once installed, or `--append-rules lint/cfn_lint_bedrock_setup` from a checkout)."""

from cfn_lint_bedrock_setup.BedrockCustomizationSetup import (  # noqa: F401
    SCHEMA_FILE,
    BedrockCustomizationSetupProperties,
    problems,
)
