"""The dev environment (egress = eni-eip): function in public subnets, EIPs on its ENIs."""

from __future__ import annotations

import ipaddress

import pytest
from tfjson import bare, by_path, of_type, path_of, ref


@pytest.fixture(scope="module")
def dev(shipped):
    return shipped.stack("dev")


@pytest.fixture(scope="module")
def env(shipped):
    return shipped.config.environment("dev")


def test_one_public_subnet_per_az_and_no_private_ones(dev, env):
    subnets = of_type(dev, "aws_subnet")
    assert sorted(s["availability_zone"] for s in subnets.values()) == sorted(env.azs)
    assert all(path_of(s).split("/")[-1].startswith("public-") for s in subnets.values())
    vpc = ipaddress.ip_network(env.vpc_cidr)
    for s in subnets.values():
        net = ipaddress.ip_network(s["cidr_block"])
        assert net.subnet_of(vpc)
        # The slot follows the AZ letter: a -> first /20, b -> second.
        letter = s["availability_zone"][-1]
        assert (
            int(net.network_address) - int(vpc.network_address)
            == (ord(letter) - ord("a")) * net.num_addresses
        )


def test_public_subnets_route_to_the_internet_gateway(dev):
    igw_id, _ = by_path(dev, "aws_internet_gateway", "/igw")
    (route,) = of_type(dev, "aws_route").values()
    assert route["destination_cidr_block"] == "0.0.0.0/0"
    assert route["gateway_id"] == ref("aws_internet_gateway", igw_id, "id")
    rt_ref = route["route_table_id"]
    subnet_ids = {ref("aws_subnet", lid, "id") for lid in of_type(dev, "aws_subnet")}
    associated = {
        a["subnet_id"]
        for a in of_type(dev, "aws_route_table_association").values()
        if a["route_table_id"] == rt_ref
    }
    assert associated == subnet_ids


def test_function_sits_in_the_public_subnets(dev):
    _, fn = by_path(dev, "aws_lambda_function", "/egress-probe/function")
    public = {
        ref("aws_subnet", lid, "id")
        for lid, s in of_type(dev, "aws_subnet").items()
        if "/public-" in path_of(s)
    }
    assert set(fn["vpc_config"]["subnet_ids"]) == public
    assert fn["runtime"] == "python3.12"


def test_function_security_group_has_no_ingress(dev):
    _, fn = by_path(dev, "aws_lambda_function", "/egress-probe/function")
    (sg_ref,) = fn["vpc_config"]["security_group_ids"]
    sgs = of_type(dev, "aws_security_group")
    assert all("ingress" not in sg or sg["ingress"] == [] for sg in sgs.values())
    assert of_type(dev, "aws_vpc_security_group_ingress_rule") == {}
    assert of_type(dev, "aws_security_group_rule") == {}
    egress = [
        r
        for r in of_type(dev, "aws_vpc_security_group_egress_rule").values()
        if r["security_group_id"] == sg_ref
    ]
    assert egress and all(r["description"] for r in egress)


def test_one_protected_eip_per_az_keyed_by_az_name(dev, env):
    eips = of_type(dev, "aws_eip")
    assert len(eips) == len(env.azs)
    for az in env.azs:
        _, eip = by_path(dev, "aws_eip", f"/eip-{az}")
        assert eip["domain"] == "vpc"
        assert eip["lifecycle"]["prevent_destroy"] is True


def test_eni_lookup_runs_after_the_function_with_its_subnets_and_sgs(dev):
    fn_id, fn = by_path(dev, "aws_lambda_function", "/egress-probe/function")
    (lookup,) = of_type(dev, "external", "data").values()
    assert lookup["depends_on"] == [bare("aws_lambda_function", fn_id)]
    assert lookup["program"][-2:] == ["-m", "staticip.enis"]
    query = lookup["query"]
    assert query["region"] == "us-east-1"
    assert query["function_name"] == fn["function_name"]
    for subnet in fn["vpc_config"]["subnet_ids"]:
        assert subnet.strip("${}") in query["subnet_ids"]
    for sg in fn["vpc_config"]["security_group_ids"]:
        assert sg.strip("${}") in query["security_group_ids"]
    assert float(query["timeout_seconds"]) > 0
    assert "external" in dev["provider"]


def test_each_association_puts_the_az_eip_on_that_subnet_eni(dev, env):
    (lookup_id,) = of_type(dev, "external", "data")
    assocs = of_type(dev, "aws_eip_association")
    assert len(assocs) == len(env.azs)
    for az in env.azs:
        eip_id, _ = by_path(dev, "aws_eip", f"/eip-{az}")
        subnet_id, _ = by_path(dev, "aws_subnet", f"/public-{az}")
        _, assoc = by_path(dev, "aws_eip_association", f"/assoc-{az}")
        assert assoc["allocation_id"] == ref("aws_eip", eip_id, "allocation_id")
        assert assoc["network_interface_id"] == (
            f"${{data.external.{lookup_id}.result[aws_subnet.{subnet_id}.id]}}"
        )


def test_outputs_the_eips_as_egress_ips(dev, env):
    expected = [
        ref("aws_eip", by_path(dev, "aws_eip", f"/eip-{az}")[0], "public_ip")
        for az in sorted(env.azs)
    ]
    assert dev["output"]["egress_ips"]["value"] == expected
    assert "ingress_ips" not in dev["output"]


def test_no_nat_gateway_in_dev(dev):
    assert of_type(dev, "aws_nat_gateway") == {}
