"""`terraform validate` on the synthesized stacks, where a terraform binary and a local provider
mirror exist (no network: providers come only from the mirror). Skipped, with the reason,
where they don't."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from staticip.config import load_config

REPO = Path(__file__).resolve().parent.parent
MIRROR = Path(os.environ.get("STATICIP_TF_PLUGIN_DIR", "/opt/tf-plugins"))
ENVIRONMENTS = [e.name for e in load_config(REPO / "staticip.toml").environments]


def mirrored_versions(provider: str) -> list[str]:
    base = MIRROR / "registry.terraform.io" / "hashicorp" / provider
    return sorted(p.name for p in base.iterdir()) if base.is_dir() else []


@pytest.mark.terraform
@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_stack_is_valid_terraform(shipped, name, tmp_path):
    _assert_valid(shipped.stack(name), tmp_path)


@pytest.mark.terraform
@pytest.mark.parametrize("name", ["partners", "hooks"])
def test_nlb_eip_stacks_of_a_user_config_are_valid_terraform(user, name, tmp_path):
    """`ingress = "nlb-eip"` alone in 3 AZs with a reused EIP and a certificate (partners),
    and next to a single NAT in 2 AZs (hooks): the mirrored 5.100.0 provider knows every
    argument the NLB, its `alb` target groups and subnet mappings use."""
    _assert_valid(user.stack(name), tmp_path)


@pytest.mark.terraform
def test_eips_from_an_ipam_pool_are_valid_terraform(ipam, tmp_path):
    """Both directions' EIPs with `ipam_pool_id` (per-AZ NAT egress, nlb-eip ingress): the
    mirrored 5.100.0 provider knows the argument (added to aws_eip in 5.x)."""
    _assert_valid(ipam.stack("vendor"), tmp_path)


def _assert_valid(stack: dict, tmp_path: Path) -> None:
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("no terraform binary on PATH")
    if not mirrored_versions("external"):
        # No hashicorp/external in the mirror: validate the rest of the stack with the ENI
        # lookup's result replaced by a literal ENI ID (tests/test_dev_wiring.py checks that
        # lookup against the resolver instead).
        stack = _without_external(stack)
    providers = stack["terraform"]["required_providers"]
    missing = [p for p in providers if not mirrored_versions(p)]
    if missing:
        pytest.skip(
            f"provider(s) {', '.join(missing)} not in the mirror {MIRROR} "
            "(set STATICIP_TF_PLUGIN_DIR to one that has them)"
        )
    result = _validate(terraform, stack, tmp_path)
    assert result["valid"], json.dumps(result["diagnostics"], indent=1)


def _validate(terraform: str, stack: dict, tmp_path: Path) -> dict:
    """`terraform validate -json` on `stack` with every provider at its mirrored version."""
    providers = stack["terraform"]["required_providers"]
    # The bindings pin the AWS provider 6.25.0; a mirror may hold another version. Every
    # attribute these stacks use exists in both 5.x and 6.x, so validating against the mirrored
    # version still catches a misspelt attribute or a wrong block shape.
    for provider, spec in providers.items():
        spec["version"] = mirrored_versions(provider)[-1]
    stack["terraform"].pop("backend")
    (tmp_path / "cdk.tf.json").write_text(json.dumps(stack))
    cli_config = tmp_path / "terraformrc"
    cli_config.write_text("")
    env = {
        **os.environ,
        "TF_CLI_CONFIG_FILE": str(cli_config),
        "CHECKPOINT_DISABLE": "1",
        "TF_IN_AUTOMATION": "1",
    }
    init = subprocess.run(
        [terraform, "init", "-backend=false", f"-plugin-dir={MIRROR}", "-input=false", "-no-color"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert init.returncode == 0, init.stderr
    validate = subprocess.run(
        [terraform, "validate", "-json", "-no-color"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return json.loads(validate.stdout)


#: hashicorp/aws gained `availability_mode` and `availability_zone_address` in 6.24.0.
REGIONAL_NAT_PROVIDER = (6, 24, 0)


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


@pytest.mark.terraform
def test_regional_nat_stack_is_valid_terraform(regional, tmp_path):
    """`nat = "regional"` against the mirrored AWS provider: valid from 6.24.0 on; on an older
    mirror (5.100.0 here) the only errors are the regional gateway's own arguments, so the
    rest of the stack is still checked."""
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("no terraform binary on PATH")
    versions = mirrored_versions("aws")
    if not versions:
        pytest.skip(f"hashicorp/aws not in the mirror {MIRROR}")
    result = _validate(terraform, regional.stack("edge"), tmp_path)
    if _version(versions[-1]) >= REGIONAL_NAT_PROVIDER:
        assert result["valid"], json.dumps(result["diagnostics"], indent=1)
        return
    assert not result["valid"]
    where = {
        (d["summary"], d.get("address", "") or d.get("snippet", {}).get("context", ""))
        for d in result["diagnostics"]
    }
    assert all("aws_nat_gateway" in context for _, context in where), where
    summaries = " ".join(d["detail"] for d in result["diagnostics"])
    assert "availability_mode" in summaries and "availability_zone_address" in summaries


def _without_external(stack: dict) -> dict:
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
