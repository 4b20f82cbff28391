"""EIPs drawn from an IPAM pool (issue #19): `ipam_pool_id` reaches every EIP the stack
creates, in both directions, and never an adopted one."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import IPAM_POOL
from tfjson import of_type

from staticip.stackfile import load_stack


def test_every_created_eip_of_both_directions_comes_from_the_pool(ipam):
    stack = ipam.stack("vendor")
    eips = of_type(stack, "aws_eip")
    directions = sorted(e["tags"].get("staticip:direction", "egress") for e in eips.values())
    # Two AZs, per-AZ NAT egress and nlb-eip ingress: two EIPs per direction.
    assert directions == ["egress", "egress", "ingress", "ingress"]
    for body in eips.values():
        assert body["ipam_pool_id"] == IPAM_POOL
        assert body["domain"] == "vpc"


def test_an_eni_eip_environment_draws_its_one_eip_from_the_pool(ipam):
    (eip,) = of_type(ipam.stack("lab"), "aws_eip").values()
    assert eip["ipam_pool_id"] == IPAM_POOL


@pytest.fixture(scope="module")
def construct_stack(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """ElasticIps on its own: one AZ adopted, one created, with a pool; and another set
    without one. The config refuses a pool next to an adopted EIP, but the construct's
    contract (created EIPs only) should not depend on that."""
    from cdktf import App, TerraformStack
    from cdktf_cdktf_provider_aws.provider import AwsProvider

    from stacks.elastic_ips import ElasticIps, ElasticIpsProps

    outdir: Path = tmp_path_factory.mktemp("elastic-ips") / "out"
    app = App(outdir=str(outdir))
    stack = TerraformStack(app, "eips")
    AwsProvider(stack, "aws", region="eu-west-1")
    ElasticIps(
        stack,
        "pooled",
        ElasticIpsProps(
            name="acme-pooled",
            azs=("eu-west-1a", "eu-west-1b"),
            reuse_allocation_ids={"eu-west-1b": "eipalloc-0123456789abcdef0"},
            ipam_pool_id=IPAM_POOL,
        ),
    )
    ElasticIps(stack, "plain", ElasticIpsProps(name="acme-plain", azs=("eu-west-1a",)))
    app.synth()
    return load_stack(outdir, "eips")


def test_the_construct_passes_the_pool_to_created_eips_only(construct_stack):
    eips = of_type(construct_stack, "aws_eip")
    by_name = {body["tags"]["Name"]: body for body in eips.values()}
    assert set(by_name) == {"acme-pooled-eu-west-1a", "acme-plain-eu-west-1a"}
    assert by_name["acme-pooled-eu-west-1a"]["ipam_pool_id"] == IPAM_POOL
    # Without a pool the argument is left out, so existing EIPs see no diff (the provider
    # replaces an EIP whose ipam_pool_id changes).
    assert "ipam_pool_id" not in by_name["acme-plain-eu-west-1a"]
    (reused,) = of_type(construct_stack, "aws_eip", "data").values()
    assert "ipam_pool_id" not in reused
