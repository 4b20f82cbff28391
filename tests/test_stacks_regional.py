"""An environment with `nat = "regional"`: one regional NAT Gateway, an EIP per AZ."""

from __future__ import annotations

import pytest
from tfjson import bare, by_path, not_canary, of_type, ref


@pytest.fixture(scope="module")
def edge(regional):
    return regional.stack("edge")


@pytest.fixture(scope="module")
def env(regional):
    return regional.config.environment("edge")


def allocation_ref(stack, az: str) -> str:
    """The allocation ID reference of `az`'s EIP, created or reused."""
    created = [
        lid
        for lid, body in of_type(stack, "aws_eip").items()
        if body["//"]["metadata"]["path"].endswith(f"/eip-{az}")
    ]
    if created:
        return ref("aws_eip", created[0], "allocation_id")
    reused_id, _ = by_path(stack, "aws_eip", f"/reused-{az}", kind="data")
    return ref("aws_eip", reused_id, "id", kind="data")


def test_one_regional_gateway_in_the_vpc_not_in_a_subnet(edge):
    (nat,) = of_type(edge, "aws_nat_gateway").values()
    vpc_id, _ = by_path(edge, "aws_vpc", "/vpc")
    assert nat["availability_mode"] == "regional"
    assert nat["connectivity_type"] == "public"
    assert nat["vpc_id"] == ref("aws_vpc", vpc_id, "id")
    assert "subnet_id" not in nat
    assert "allocation_id" not in nat
    igw_id, _ = by_path(edge, "aws_internet_gateway", "/igw")
    assert nat["depends_on"] == [bare("aws_internet_gateway", igw_id)]


def test_manual_mode_one_address_per_az_keyed_by_az_name(edge, env):
    (nat,) = of_type(edge, "aws_nat_gateway").values()
    addresses = nat["availability_zone_address"]
    # Sorted by AZ name although the config lists eu-west-1c first.
    assert [a["availability_zone"] for a in addresses] == sorted(env.azs)
    for address in addresses:
        assert address["allocation_ids"] == [allocation_ref(edge, address["availability_zone"])]


def test_created_eips_are_protected_and_the_reused_one_is_not_owned(edge, env):
    reused = set(env.reuse_eip_allocation_ids)
    assert reused == {"eu-west-1b"}
    eips = {
        body["//"]["metadata"]["path"].rsplit("/eip-", 1)[1]: body
        for body in of_type(edge, "aws_eip").values()
    }
    assert set(eips) == set(env.azs) - reused
    assert all(eip["lifecycle"]["prevent_destroy"] is True for eip in eips.values())
    _, data = by_path(edge, "aws_eip", "/reused-eu-west-1b", kind="data")
    assert data["id"] == "eipalloc-0123456789abcdef0"


def test_every_private_route_table_defaults_to_the_regional_gateway(edge, env):
    nat_id, _ = by_path(edge, "aws_nat_gateway", "/nat-regional")
    routes = of_type(edge, "aws_route")
    nat_routes = [r for r in routes.values() if "nat_gateway_id" in r]
    assert len(nat_routes) == len(env.azs)
    for az in env.azs:
        rt_id, _ = by_path(edge, "aws_route_table", f"/private-rt-{az}")
        _, route = by_path(edge, "aws_route", f"/nat/default-{az}")
        assert route["route_table_id"] == ref("aws_route_table", rt_id, "id")
        assert route["nat_gateway_id"] == ref("aws_nat_gateway", nat_id, "id")
        assert route["destination_cidr_block"] == "0.0.0.0/0"


def test_function_in_private_subnets(edge, env):
    (fn,) = not_canary(of_type(edge, "aws_lambda_function")).values()
    private = {
        ref("aws_subnet", by_path(edge, "aws_subnet", f"/private-{az}")[0], "id") for az in env.azs
    }
    assert set(fn["vpc_config"]["subnet_ids"]) == private


def test_outputs_every_az_ip_sorted_by_az(edge, env):
    expected = []
    for az in sorted(env.azs):
        if az in env.reuse_eip_allocation_ids:
            lid, _ = by_path(edge, "aws_eip", f"/reused-{az}", kind="data")
            expected.append(ref("aws_eip", lid, "public_ip", kind="data"))
        else:
            expected.append(ref("aws_eip", by_path(edge, "aws_eip", f"/eip-{az}")[0], "public_ip"))
    assert edge["output"]["egress_ips"]["value"] == expected
    assert set(edge["output"]["egress_ips_by_az"]["value"]) == set(env.azs)


def test_an_unknown_nat_layout_is_an_error_not_a_fallback(env):
    """Config rejects it first; the stack still refuses one that slips past (no else-branch
    that builds zonal NATs for a layout it does not know)."""
    import dataclasses

    from cdktf import App

    from stacks.environment import EnvironmentStack, EnvironmentStackProps

    with pytest.raises(ValueError, match="unknown nat 'regional-auto' for egress 'nat-gateway'"):
        EnvironmentStack(
            App(), EnvironmentStackProps("acme", dataclasses.replace(env, nat="regional-auto"))
        )
