"""`terraform validate` of a synthesized stack where a terraform binary and a local provider
mirror exist (no network: providers come only from the mirror); skipped, with the reason,
where they don't. Shared by the stack and example tests."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from tfharness import Terraform

MIRROR = Path(os.environ.get("STATICIP_TF_PLUGIN_DIR", "/opt/tf-plugins"))


def mirrored_versions(provider: str) -> list[str]:
    base = MIRROR / "registry.terraform.io" / "hashicorp" / provider
    return sorted(p.name for p in base.iterdir()) if base.is_dir() else []


def assert_valid(stack: dict, tmp_path: Path) -> None:
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("no terraform binary on PATH")
    if not mirrored_versions("external"):
        # No hashicorp/external in the mirror: validate the rest of the stack with the ENI
        # lookup's result replaced by a literal ENI ID (tests/test_dev_wiring.py checks that
        # lookup against the resolver instead).
        stack = without_external(stack)
    providers = stack["terraform"]["required_providers"]
    missing = [p for p in providers if not mirrored_versions(p)]
    if missing:
        pytest.skip(
            f"provider(s) {', '.join(missing)} not in the mirror {MIRROR} "
            "(set STATICIP_TF_PLUGIN_DIR to one that has them)"
        )
    result = validate(terraform, stack, tmp_path)
    assert result["valid"], json.dumps(result["diagnostics"], indent=1)


def validate(terraform: str, stack: dict, tmp_path: Path) -> dict:
    """`terraform validate -json` on `stack` with every provider at its mirrored version."""
    providers = stack["terraform"]["required_providers"]
    # The bindings pin the AWS provider 6.25.0; a mirror may hold another version. Every
    # attribute these stacks use exists in both 5.x and 6.x, so validating against the mirrored
    # version still catches a misspelt attribute or a wrong block shape.
    for provider, spec in providers.items():
        spec["version"] = mirrored_versions(provider)[-1]
    stack["terraform"].pop("backend")
    (tmp_path / "cdk.tf.json").write_text(json.dumps(stack))
    # Providers from the mirror through the run's one plugin cache (tests/tfharness.py).
    tf = Terraform(terraform, tmp_path, MIRROR)
    tf.init("-backend=false")
    result = tf.run("validate", "-json", "-no-color", ok=(0, 1))
    return json.loads(result.stdout)


def without_external(stack: dict) -> dict:
    lookups = stack.get("data", {}).pop("external", {})
    stack["provider"].pop("external", None)
    stack["terraform"]["required_providers"].pop("external", None)
    text = json.dumps(stack)
    for logical_id in lookups:
        text = re.sub(
            rf"\$\{{data\.external\.{logical_id}\.result\[[^\]]+\]\}}",
            "eni-0123456789abcdef0",
            text,
        )
    assert "data.external" not in text
    return json.loads(text)
