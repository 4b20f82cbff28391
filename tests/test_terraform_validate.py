"""`terraform validate` on the synthesized stacks, where a terraform binary and a local provider
mirror exist (no network: providers come only from the mirror). Skipped, with the reason,
where they don't."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from tfvalidate import MIRROR, assert_valid, mirrored_versions, validate

from staticip.config import load_config

REPO = Path(__file__).resolve().parent.parent
ENVIRONMENTS = [e.name for e in load_config(REPO / "staticip.toml").environments]


@pytest.mark.terraform
@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_stack_is_valid_terraform(shipped, name, tmp_path):
    assert_valid(shipped.stack(name), tmp_path)


@pytest.mark.terraform
@pytest.mark.parametrize("name", ["partners", "hooks"])
def test_nlb_eip_stacks_of_a_user_config_are_valid_terraform(user, name, tmp_path):
    """`ingress = "nlb-eip"` alone in 3 AZs with a reused EIP and a certificate (partners),
    and next to a single NAT in 2 AZs (hooks): the mirrored 5.100.0 provider knows every
    argument the NLB, its `alb` target groups and subnet mappings use."""
    assert_valid(user.stack(name), tmp_path)


@pytest.mark.terraform
def test_eips_from_an_ipam_pool_are_valid_terraform(ipam, tmp_path):
    """Both directions' EIPs with `ipam_pool_id` (per-AZ NAT egress, nlb-eip ingress): the
    mirrored 5.100.0 provider knows the argument (added to aws_eip in 5.x)."""
    assert_valid(ipam.stack("vendor"), tmp_path)


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
    result = validate(terraform, regional.stack("edge"), tmp_path)
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
