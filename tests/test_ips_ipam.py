"""`staticip ips ENV --format cidr` with `ipam_pool_id` (issue #19): the pool's CIDR once when
every address in use is inside it, else each /32 and a line on stderr saying which address is
outside and why. EIPs come from moto; moto has no IPAM API, so GetIpamPoolCidrs is answered by
botocore's Stubber (which checks each answer against the EC2 model) with what AWS returns."""

from __future__ import annotations

import io
import json
from typing import Any

import boto3
import pytest
from aws_fixtures import tag_spec
from botocore.stub import Stubber
from eni_fixtures import REGION, use_fake_aws
from moto import mock_aws

from staticip import aws, ipam
from staticip.cli import main
from staticip.ips import IpsClients, run_ips

PROJECT = "staticip"
POOL = "ipam-pool-0533048da7d823723"
CONFIG = f"""
[environments.hooks]
egress = "nat-gateway"
nat = "single"
ingress = "nlb-eip"
region = "{REGION}"
vpc_cidr = "10.90.0.0/16"
prefix_list = false
ipam_pool_id = "{POOL}"
"""
#: (direction, AZ) -> address: a single NAT's one egress EIP, and nlb-eip's one per AZ.
ADDRESSES = {
    ("egress", "us-east-1a"): "198.51.100.0",
    ("ingress", "us-east-1a"): "198.51.100.1",
    ("ingress", "us-east-1b"): "198.51.100.2",
}


def pool_cidr(cidr: str, state: str = "provisioned") -> dict[str, Any]:
    """One entry of GetIpamPoolCidrs' `IpamPoolCidrs`, as AWS returns it."""
    return {
        "Cidr": cidr,
        "State": state,
        "IpamPoolCidrId": "ipam-pool-cidr-0123456789abcdef0123456789abcdef0",
        "NetmaskLength": int(cidr.split("/")[1]),
    }


class WithIpam:
    """The moto EC2 client, but GetIpamPoolCidrs goes to `ipam_client` (a stubbed one)."""

    def __init__(self, ec2: Any, ipam_client: Any) -> None:
        self._ec2, self._ipam = ec2, ipam_client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ec2, name)

    def get_paginator(self, operation: str) -> Any:
        client = self._ipam if operation == "get_ipam_pool_cidrs" else self._ec2
        return client.get_paginator(operation)


@pytest.fixture(autouse=True)
def _fresh_roles() -> Any:
    aws._ASSUMED.clear()
    yield
    aws._ASSUMED.clear()


@pytest.fixture
def deployed(monkeypatch, tmp_path) -> Any:
    """The hooks environment's three EIPs at ADDRESSES, each on an ENI; the config path."""
    use_fake_aws(monkeypatch)
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        vpc = ec2.create_vpc(CidrBlock="10.90.0.0/16")["Vpc"]["VpcId"]
        for n, ((direction, az), address) in enumerate(ADDRESSES.items()):
            extra = {"staticip:direction": "ingress"} if direction == "ingress" else {}
            eip = ec2.allocate_address(
                Domain="vpc",
                Address=address,
                TagSpecifications=tag_spec(
                    "elastic-ip",
                    PROJECT,
                    "hooks",
                    **{"staticip:allow-listed": "true", "staticip:az": az},
                    **extra,
                ),
            )
            subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.90.{n}.0/24", AvailabilityZone=az)
            eni = ec2.create_network_interface(SubnetId=subnet["Subnet"]["SubnetId"])
            ec2.associate_address(
                AllocationId=eip["AllocationId"],
                NetworkInterfaceId=eni["NetworkInterface"]["NetworkInterfaceId"],
            )
        config = tmp_path / "staticip.toml"
        config.write_text(CONFIG)
        yield ec2, config


def ips_with_pool(deployed: Any, answer: dict[str, Any] | str) -> tuple[int, str, str]:
    """`staticip ips hooks --format cidr` with GetIpamPoolCidrs answered once by `answer`
    (a response, or an error code); a second call would find no answer and fail."""
    ec2, config = deployed
    ipam_client = boto3.client("ec2", region_name=REGION)
    with Stubber(ipam_client) as stub:
        if isinstance(answer, str):
            stub.add_client_error(
                "get_ipam_pool_cidrs", answer, expected_params={"IpamPoolId": POOL}
            )
        else:
            stub.add_response("get_ipam_pool_cidrs", answer, {"IpamPoolId": POOL})
        clients = IpsClients(
            ec2=WithIpam(ec2, ipam_client), sts=boto3.client("sts", region_name=REGION)
        )
        result, report = run_ips(config, "hooks", "cidr", clients=clients)
        stub.assert_no_pending_responses()
    assert report is not None
    # With --format cidr the CLI prints the text on stdout and the warnings on stderr.
    return result.exit_code, result.text, "\n".join(report.warnings)


def test_every_address_inside_the_pool_prints_its_cidr_once(deployed):
    answer = {
        "IpamPoolCidrs": [
            pool_cidr("198.51.100.0/29"),
            # Not provisioned (yet): holds no address an EIP can have, so it is no answer.
            pool_cidr("203.0.113.0/29", "pending-provision"),
        ]
    }
    code, out, err = ips_with_pool(deployed, answer)
    assert code == 0
    assert out == "198.51.100.0/29"
    assert err == ""


def test_addresses_across_two_provisioned_cidrs_print_both_each_once(deployed):
    answer = {"IpamPoolCidrs": [pool_cidr("198.51.100.2/31"), pool_cidr("198.51.100.0/31")]}
    code, out, err = ips_with_pool(deployed, answer)
    assert (code, err) == (0, "")
    # In the order of the first address each holds (egress us-east-1a is .0).
    assert out.splitlines() == ["198.51.100.0/31", "198.51.100.2/31"]


def test_an_address_outside_the_pool_gives_the_slash_32s_and_says_which_and_why(deployed):
    answer = {"IpamPoolCidrs": [pool_cidr("198.51.100.0/31")]}
    code, out, err = ips_with_pool(deployed, answer)
    assert code == 0
    assert out.splitlines() == [f"{ip}/32" for ip in ADDRESSES.values()]
    (line,) = err.splitlines()
    assert "198.51.100.2 (ingress, us-east-1b) is not inside IPAM pool " + POOL in line
    assert "198.51.100.0/31" in line and "allocated before ipam_pool_id was set" in line


def test_an_unreadable_pool_gives_the_slash_32s_and_says_so(deployed):
    code, out, err = ips_with_pool(deployed, "InvalidIpamPoolId.NotFound")
    assert code == 0
    assert out.splitlines() == [f"{ip}/32" for ip in ADDRESSES.values()]
    assert f"IPAM pool {POOL} could not be read" in err and "InvalidIpamPoolId.NotFound" in err


def test_from_outputs_keeps_the_slash_32s_and_says_the_pool_needs_aws(
    monkeypatch, tmp_path, capsys
):
    use_fake_aws(monkeypatch, credentials=False)
    config = tmp_path / "staticip.toml"
    config.write_text(CONFIG)
    outputs = {
        "egress_ips_by_az": {"value": {"us-east-1a": "198.51.100.0"}},
        "ingress_ips_by_az": {
            "value": {"us-east-1a": "198.51.100.1", "us-east-1b": "198.51.100.2"}
        },
    }
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(outputs)))

    code = main(
        ["ips", "hooks", "--from-outputs", "-", "--format", "cidr", "--config", str(config)]
    )
    out = capsys.readouterr()

    assert code == 0
    assert out.out.splitlines() == [f"{ip}/32" for ip in ADDRESSES.values()]
    assert f"IPAM pool {POOL}" in out.err and "cannot be read from outputs" in out.err


@pytest.mark.parametrize(
    ("addresses", "cidrs", "expected"),
    [
        (["10.0.0.1"], [], None),
        ([], ["10.0.0.0/30"], None),
        (["10.0.0.1", "10.0.0.2"], ["10.0.0.0/30"], ["10.0.0.0/30"]),
        (["10.0.0.1", "10.0.0.9"], ["10.0.0.0/30"], None),
    ],
)
def test_covering(addresses, cidrs, expected):
    from ipaddress import IPv4Network

    assert ipam.covering(addresses, [IPv4Network(c) for c in cidrs]) == expected
