"""An environment drawing its EIPs from an IPAM pool (issue #19), deployed in moto, and the
pool's GetIpamPoolCidrs answered the way AWS answers it: moto has no IPAM API, so a second
client with botocore's Stubber (which checks each answer against the EC2 model) stands in."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
from aws_fixtures import tag_spec
from botocore.stub import Stubber
from conftest import IPAM_POOL
from eni_fixtures import REGION

PROJECT = "staticip"
POOL = IPAM_POOL
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


@contextmanager
def stubbed_pool(ec2: Any, answer: dict[str, Any] | str) -> Iterator[WithIpam]:
    """`ec2` with GetIpamPoolCidrs for POOL answered once by `answer` (a response, or an
    error code): a second call finds no answer and fails, and the answer must be used."""
    ipam_client = boto3.client("ec2", region_name=REGION)
    with Stubber(ipam_client) as stub:
        if isinstance(answer, str):
            stub.add_client_error(
                "get_ipam_pool_cidrs", answer, expected_params={"IpamPoolId": POOL}
            )
        else:
            stub.add_response("get_ipam_pool_cidrs", answer, {"IpamPoolId": POOL})
        yield WithIpam(ec2, ipam_client)
        stub.assert_no_pending_responses()


def deploy_hooks(tmp_path: Path) -> tuple[Any, Path]:
    """Inside a moto mock: the hooks environment's three EIPs at ADDRESSES, each on an ENI,
    and CONFIG written to `tmp_path`; the EC2 client and the config path."""
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
    return ec2, config
