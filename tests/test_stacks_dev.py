"""The dev environment (egress = eni-eip): function in public subnets, EIPs on its ENIs."""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path

import pytest
from tfjson import bare, by_path, of_type, path_of, ref

REPO = Path(__file__).resolve().parent.parent


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


def test_each_az_lookup_reads_only_its_terraform_data(dev, env):
    """Terraform defers a data source when something it references directly (or through
    depends_on) has planned changes. The lookups must reference nothing but their
    `terraform_data`, whose input changes only when the function's network does."""
    fn_id, fn = by_path(dev, "aws_lambda_function", "/egress-probe/function")
    (sg_ref,) = fn["vpc_config"]["security_group_ids"]
    for az in env.azs:
        data_id, data = by_path(dev, "terraform_data", f"/inputs-{az}")
        _, lookup = by_path(dev, "external", f"/enis-{az}", kind="data")
        subnet_id, _ = by_path(dev, "aws_subnet", f"/public-{az}")
        eip_id, _ = by_path(dev, "aws_eip", f"/eip-{az}")
        assert "depends_on" not in lookup
        references = set(re.findall(r"\b(?:data\.)?[a-z_]+\.[\w-]+(?=\.)", json.dumps(lookup)))
        assert references == {bare("terraform_data", data_id)}, references
        assert data["input"] == {
            "function_arn": ref("aws_lambda_function", fn_id, "arn"),
            "subnet_id": ref("aws_subnet", subnet_id, "id"),
            "security_group_ids": f'${{join(",", [{sg_ref[2:-1]}])}}',
            "allocation_id": ref("aws_eip", eip_id, "allocation_id"),
        }
        query = lookup["query"]
        output = f"${{terraform_data.{data_id}.output"
        assert query["subnet_ids"] == f"{output}.subnet_id}}"
        assert query["security_group_ids"] == f"{output}.security_group_ids}}"
        assert query["allocation_ids"] == f"{output}.allocation_id}}"
        assert query["region"] == env.region and query["environment"] == env.name
        assert query["function_names"].split(",") == list(env.egress_function_names)
        assert float(query["timeout_seconds"]) > 0
    assert "external" in dev["provider"]


def test_the_lookup_runs_the_launcher_shipped_in_the_stack(dev, shipped):
    programs = {tuple(lookup["program"]) for lookup in of_type(dev, "external", "data").values()}
    ((shell, launcher),) = programs
    assert shell == "sh"
    # Relative to the stack directory, where Terraform runs it: no path of this machine.
    assert not launcher.startswith("/")
    shipped_dir = shipped.outdir / "stacks" / "dev" / launcher
    assert shipped_dir.is_file()
    package = shipped_dir.parent
    assert sorted(p.name for p in package.iterdir()) == [
        "__init__.py",
        "aws.py",
        "enis.py",
        "resolve-enis.sh",
    ]
    assert (package / "enis.py").read_text() == (REPO / "staticip" / "enis.py").read_text()


def test_each_association_puts_the_az_eip_on_that_subnet_eni(dev, env):
    assocs = of_type(dev, "aws_eip_association")
    assert len(assocs) == len(env.azs)
    igw_id, _ = by_path(dev, "aws_internet_gateway", "/igw")
    for az in env.azs:
        eip_id, _ = by_path(dev, "aws_eip", f"/eip-{az}")
        subnet_id, _ = by_path(dev, "aws_subnet", f"/public-{az}")
        lookup_id, _ = by_path(dev, "external", f"/enis-{az}", kind="data")
        _, assoc = by_path(dev, "aws_eip_association", f"/assoc-{az}")
        assert assoc["allocation_id"] == ref("aws_eip", eip_id, "allocation_id")
        assert assoc["network_interface_id"] == (
            f"${{data.external.{lookup_id}.result[aws_subnet.{subnet_id}.id]}}"
        )
        # The provider documentation: an EIP may need the IGW attached before association.
        assert assoc["depends_on"] == [bare("aws_internet_gateway", igw_id)]


def test_outputs_the_eips_as_egress_ips(dev, env):
    expected = [
        ref("aws_eip", by_path(dev, "aws_eip", f"/eip-{az}")[0], "public_ip")
        for az in sorted(env.azs)
    ]
    assert dev["output"]["egress_ips"]["value"] == expected
    assert "ingress_ips" not in dev["output"]


def test_no_nat_gateway_in_dev(dev):
    assert of_type(dev, "aws_nat_gateway") == {}
