"""The prod environment (egress = nat-gateway, one NAT per AZ)."""

from __future__ import annotations

import pytest
from tfjson import bare, by_path, not_canary, of_type, path_of, ref


@pytest.fixture(scope="module")
def prod(shipped):
    return shipped.stack("prod")


@pytest.fixture(scope="module")
def env(shipped):
    return shipped.config.environment("prod")


def test_public_and_private_subnet_per_az(prod, env):
    tiers = sorted(
        (s["availability_zone"], path_of(s).split("/")[-1].split("-")[0])
        for s in of_type(prod, "aws_subnet").values()
    )
    assert tiers == sorted((az, tier) for az in env.azs for tier in ("public", "private"))


def test_function_sits_in_the_private_subnets(prod, env):
    functions = not_canary(of_type(prod, "aws_lambda_function")).values()
    assert {f["function_name"] for f in functions} == set(env.egress_function_names)
    (fn,) = [f for f in functions if f["function_name"] == env.function.name]
    private = {
        ref("aws_subnet", by_path(prod, "aws_subnet", f"/private-{az}")[0], "id") for az in env.azs
    }
    assert fn["memory_size"] == env.function.memory_mb
    # The declared functions share the probe's subnets and its one security group.
    for each in functions:
        assert set(each["vpc_config"]["subnet_ids"]) == private
        assert each["vpc_config"]["security_group_ids"] == fn["vpc_config"]["security_group_ids"]


def test_one_nat_per_az_in_its_public_subnet_with_its_eip(prod, env):
    assert len(of_type(prod, "aws_nat_gateway")) == len(env.azs)
    for az in env.azs:
        _, nat = by_path(prod, "aws_nat_gateway", f"/nat-{az}")
        public_id, _ = by_path(prod, "aws_subnet", f"/public-{az}")
        eip_id, eip = by_path(prod, "aws_eip", f"/eip-{az}")
        assert nat["subnet_id"] == ref("aws_subnet", public_id, "id")
        assert nat["allocation_id"] == ref("aws_eip", eip_id, "allocation_id")
        assert eip["lifecycle"]["prevent_destroy"] is True
        # A NAT Gateway created before the Internet Gateway is attached can end `failed`.
        igw_id, _ = by_path(prod, "aws_internet_gateway", "/igw")
        assert nat["depends_on"] == [bare("aws_internet_gateway", igw_id)]


def test_private_routes_go_through_the_nat_of_their_az(prod, env):
    for az in env.azs:
        nat_id, _ = by_path(prod, "aws_nat_gateway", f"/nat-{az}")
        rt_id, _ = by_path(prod, "aws_route_table", f"/private-rt-{az}")
        private_id, _ = by_path(prod, "aws_subnet", f"/private-{az}")
        _, route = by_path(prod, "aws_route", f"/default-{az}")
        assert route["route_table_id"] == ref("aws_route_table", rt_id, "id")
        assert route["nat_gateway_id"] == ref("aws_nat_gateway", nat_id, "id")
        assert route["destination_cidr_block"] == "0.0.0.0/0"
        _, rta = by_path(prod, "aws_route_table_association", f"/private-rta-{az}")
        assert rta["subnet_id"] == ref("aws_subnet", private_id, "id")
        assert rta["route_table_id"] == ref("aws_route_table", rt_id, "id")


def test_no_eni_lookup_outside_dev(prod):
    assert of_type(prod, "external", "data") == {}
    assert of_type(prod, "aws_eip_association") == {}
    assert "external" not in prod["provider"]


def test_outputs_the_nat_eips(prod, env):
    expected = [
        ref("aws_eip", by_path(prod, "aws_eip", f"/eip-{az}")[0], "public_ip")
        for az in sorted(env.azs)
    ]
    assert prod["output"]["egress_ips"]["value"] == expected
