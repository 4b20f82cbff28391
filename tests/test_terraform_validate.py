"""`terraform validate` on the synthesized stacks, where a terraform binary and a local provider
mirror exist (no network: providers come only from the mirror). Skipped, with the reason,
where they don't."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import validated_once
from tfharness import version_key
from tfvalidate import MIRROR, Validation, mirrored_versions, validate_together

from staticip.config import load_config

REPO = Path(__file__).resolve().parent.parent
ENVIRONMENTS = [e.name for e in load_config(REPO / "staticip.toml").environments]


@pytest.fixture(scope="module")
def validation(shipped, user, ipam, tmp_path_factory) -> Validation:
    """The stacks below in one `terraform validate`, once for the run: one provider start for
    all of them (tests/tfvalidate.py)."""

    def stacks() -> dict[str, dict[str, Any]]:
        found = {name: shipped.stack(name) for name in ENVIRONMENTS}
        found |= {f"user/{name}": user.stack(name) for name in ("partners", "hooks")}
        return found | {"ipam/vendor": ipam.stack("vendor")}

    return validated_once(tmp_path_factory, "validation-stacks", stacks)


@pytest.mark.terraform
@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_stack_is_valid_terraform(validation, name):
    validation.assert_valid(name)


@pytest.mark.terraform
@pytest.mark.parametrize("name", ["partners", "hooks"])
def test_nlb_eip_stacks_of_a_user_config_are_valid_terraform(validation, name):
    """`ingress = "nlb-eip"` alone in 3 AZs with a reused EIP and a certificate (partners),
    and next to a single NAT in 2 AZs (hooks): the mirrored 5.100.0 provider knows every
    argument the NLB, its `alb` target groups and subnet mappings use."""
    validation.assert_valid(f"user/{name}")


@pytest.mark.terraform
def test_eips_from_an_ipam_pool_are_valid_terraform(validation):
    """Both directions' EIPs with `ipam_pool_id` (per-AZ NAT egress, nlb-eip ingress): the
    mirrored 5.100.0 provider knows the argument (added to aws_eip in 5.x)."""
    validation.assert_valid("ipam/vendor")


#: hashicorp/aws gained `availability_mode` and `availability_zone_address` in 6.24.0.
REGIONAL_NAT_PROVIDER = (6, 24, 0)


@pytest.mark.terraform
def test_regional_nat_stack_is_valid_terraform(regional, tmp_path):
    """`nat = "regional"` against the mirrored AWS provider: valid from 6.24.0 on; on an older
    mirror (5.100.0 here) the only errors are the regional gateway's own arguments, so the
    rest of the stack is still checked."""
    versions = mirrored_versions("aws")
    if not versions:
        pytest.skip(f"hashicorp/aws not in the mirror {MIRROR}")
    validation = validate_together({"edge": regional.stack("edge")}, tmp_path)
    if version_key(versions[-1]) >= REGIONAL_NAT_PROVIDER:
        validation.assert_valid("edge")
        return
    diagnostics = validation.of("edge")
    assert any(d["severity"] == "error" for d in diagnostics)
    where = {
        (d["summary"], d.get("address", "") or d.get("snippet", {}).get("context", ""))
        for d in diagnostics
    }
    assert all("aws_nat_gateway" in context for _, context in where), where
    summaries = " ".join(d["detail"] for d in diagnostics)
    assert "availability_mode" in summaries and "availability_zone_address" in summaries
